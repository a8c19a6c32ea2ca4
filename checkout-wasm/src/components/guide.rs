//! "Open in browser": the overlay shoppers know from WeChat, an arrow to the ⋯ menu at the top
//! right, the steps, and the page's link with a copy button (for Alipay inside WeChat).

use js_sys::Function;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlDialogElement, HtmlInputElement};
use yew::prelude::*;

use crate::api::get;
use crate::i18n::{Locale, Text};

/// Whether the guidance is open, and how to close it.
#[derive(Debug, Properties, PartialEq)]
pub(crate) struct GuideProps {
    /// The language of every sentence.
    pub locale: Locale,
    /// Shown as a modal dialog when true.
    pub open: bool,
    /// The shopper closed it (button or Escape).
    pub on_close: Callback<()>,
}

#[function_component(Guide)]
pub(crate) fn guide(props: &GuideProps) -> Html {
    let l = props.locale;
    let dialog = use_node_ref();
    let input = use_node_ref();
    // None: not tried yet; Some(true): copied; Some(false): the shopper must copy by hand.
    let copied = use_state(|| None::<bool>);
    {
        let dialog = dialog.clone();
        let copied = copied.clone();
        use_effect_with(props.open, move |open| {
            if let Some(dialog) = dialog.cast::<HtmlDialogElement>() {
                if *open && !dialog.open() {
                    copied.set(None);
                    let _ = dialog.show_modal();
                } else if !*open && dialog.open() {
                    dialog.close();
                }
            }
        });
    }
    let link = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    let copy = {
        let copied = copied.clone();
        let input = input.clone();
        let link = link.clone();
        Callback::from(move |_: MouseEvent| {
            let copied = copied.clone();
            let input = input.cast::<HtmlInputElement>();
            let link = link.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let ok = clipboard(&link).await || input.as_ref().is_some_and(exec_copy);
                if !ok {
                    // Selected, so that a long press copies it.
                    if let Some(input) = input {
                        input.select();
                    }
                }
                copied.set(Some(ok));
            });
        })
    };
    let close = props.on_close.reform(|_: MouseEvent| ());
    let onclose = props.on_close.reform(|_: Event| ());
    let status = match *copied {
        None => "",
        Some(true) => l.t(Text::Copied),
        Some(false) => l.t(Text::CopyByHand),
    };
    html! {
        <dialog ref={dialog} class="ep-guide" aria-labelledby="ep-guide-title" {onclose}>
            <svg class="ep-arrow" viewBox="0 0 90 90" aria-hidden="true">
                <path d="M8 86C20 44 44 22 80 10M62 6l18 4-8 17"/>
            </svg>
            <h3 id="ep-guide-title" class="ep-h">{ l.t(Text::GuideTitle) }</h3>
            <ol class="ep-steps">
                <li>{ l.t(Text::GuideMenu) }</li>
                <li>{ l.t(Text::GuideOpen) }</li>
                <li>{ l.t(Text::GuideThenPay) }</li>
            </ol>
            <p>{ l.t(Text::GuideOrCopy) }</p>
            <input ref={input} class="ep-url" readonly=true value={link} aria-label={l.t(Text::Link)} />
            <p class="ep-copied" role="status">{ status }</p>
            <div class="ep-actions">
                <button type="button" class="ep-button" autofocus=true onclick={copy}>{ l.t(Text::CopyLink) }</button>
                <button type="button" class="ep-button ep-secondary" onclick={close}>{ l.t(Text::Close) }</button>
            </div>
        </dialog>
    }
}

/// `navigator.clipboard.writeText`, where the browser has it (secure contexts).
async fn clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    if get(&navigator, "clipboard").is_undefined() {
        return false;
    }
    JsFuture::from(navigator.clipboard().write_text(text)).await.is_ok()
}

/// The older way, still the one that works in many in-app browsers: select, `execCommand("copy")`.
fn exec_copy(input: &HtmlInputElement) -> bool {
    input.select();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return false };
    get(&document, "execCommand")
        .dyn_into::<Function>()
        .ok()
        .and_then(|f| f.call1(&document, &"copy".into()).ok())
        .is_some_and(|r| r.is_truthy())
}
