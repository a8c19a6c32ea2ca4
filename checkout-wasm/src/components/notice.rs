//! A one-sentence panel: processing, failure, expired, offline, success…

use yew::prelude::*;

/// The panel: `kind` is `busy`, `error`, `done` or `info` (the icon and colours, as `data-kind`: a
/// class built at run time would bring in yew's class-list code); `message` the
/// sentence; `about` what it is about (the method being paid with), above the sentence; `focus`
/// whether focus moves to the sentence (after the shopper's own action); `actions` the buttons
/// under it. A function, not a component: a component is compiled anew for each, and this one
/// keeps no state.
pub(crate) fn notice(kind: &'static str, message: &'static str, about: Option<&'static str>, focus: bool, actions: Html) -> Html {
    html! {
        <div class="ep-notice" data-kind={kind}>
            <span class="ep-icon" aria-hidden="true"></span>
            if let Some(about) = about {
                <p class="ep-chosen">{ about }</p>
            }
            <p class="ep-msg" tabindex="-1" data-ep-focus={focus.then_some("")}>{ message }</p>
            <div class="ep-actions">{ actions }</div>
        </div>
    }
}
