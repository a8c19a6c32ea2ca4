//! A one-sentence panel: processing, failure, expired, offline, success…

use yew::prelude::*;

/// What the panel says and which actions it offers.
#[derive(Debug, Properties, PartialEq)]
pub(crate) struct NoticeProps {
    /// `busy`, `error`, `done` or `info`: the icon and colours.
    pub kind: &'static str,
    /// The sentence.
    pub message: &'static str,
    /// What it is about (the method being paid with), above the sentence.
    #[prop_or_default]
    pub about: Option<&'static str>,
    /// Whether focus moves to the sentence (after the shopper's own action).
    pub focus: bool,
    /// Buttons under the sentence.
    #[prop_or_default]
    pub children: Html,
}

#[function_component(Notice)]
pub(crate) fn notice(props: &NoticeProps) -> Html {
    html! {
        <div class={["ep-notice ep-", props.kind].concat()}>
            <span class="ep-icon" aria-hidden="true"></span>
            if let Some(about) = props.about {
                <p class="ep-chosen">{ about }</p>
            }
            <p class="ep-msg" tabindex="-1" data-ep-focus={props.focus.then_some("")}>{ props.message }</p>
            <div class="ep-actions">{ props.children.clone() }</div>
        </div>
    }
}
