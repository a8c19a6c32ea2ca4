//! "Open in browser": the overlay shoppers know from WeChat, an arrow to the ⋯ menu at the top
//! right, the steps, and the page's link with a copy button (for Alipay inside WeChat).

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlDialogElement, HtmlInputElement};
use yew::prelude::*;

use crate::hooks::{nothing, use_effect_on};
use crate::i18n::{Locale, Text};

#[wasm_bindgen(module = "/js/io.js")]
extern "C" {
    /// Copies `text` to the clipboard (or by selecting `input` and `execCommand('copy')`);
    /// resolves with whether it worked.
    #[wasm_bindgen(js_name = copy)]
    fn copy_text(text: &str, input: Option<HtmlInputElement>) -> Promise;
}

/// Whether the link was copied: not tried yet, copied, or the shopper must copy it by hand.
const NOT_TRIED: u64 = 0;
const COPIED: u64 = 1;
const BY_HAND: u64 = 2;

/// The element of the widget's shadow root that `selector` finds.
fn find(host: &Element, selector: &str) -> Option<Element> {
    host.shadow_root()?.query_selector(selector).ok().flatten()
}

/// The guidance's state: whether the link was copied (`NOT_TRIED`, `COPIED` or `BY_HAND`, a number
/// as the QR clock's, so that yew's state hook is compiled once). Shows the dialog as a modal when
/// `open` (and `shown`: drawn) becomes true, closes it when `open` becomes false. Called by the
/// widget's root on every render, as hooks are; the guidance itself is a function, since each
/// component is compiled anew.
#[hook]
pub(crate) fn use_guide(host: &Element, shown: bool, open: bool) -> UseStateHandle<u64> {
    let copied = use_state(u64::default);
    {
        let host = host.clone();
        let copied = copied.clone();
        use_effect_on((u64::from(open), u64::from(shown), ""), Box::new(move |_| {
            if let Some(dialog) = find(&host, ".ep-guide").and_then(|d| d.dyn_into::<HtmlDialogElement>().ok()) {
                if open && !dialog.open() {
                    copied.set(NOT_TRIED);
                    let _ = dialog.show_modal();
                } else if !open && dialog.open() {
                    dialog.close();
                }
            }
            nothing()
        }));
    }
    copied
}

/// "Open in browser" (a `<dialog>`, opened by [`use_guide`]); `on_close`: the shopper closed it
/// (button or Escape).
pub(crate) fn guide(host: &Element, l: Locale, copied: &UseStateHandle<u64>, on_close: &Callback<()>) -> Html {
    let link = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    let copy = {
        let copied = copied.clone();
        let host = host.clone();
        let link = link.clone();
        Callback::from(move |_: MouseEvent| {
            let copied = copied.clone();
            let input = find(&host, ".ep-url").and_then(|i| i.dyn_into::<HtmlInputElement>().ok());
            let link = link.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let ok = JsFuture::from(copy_text(&link, input.clone())).await.is_ok_and(|done| done.is_truthy());
                if !ok {
                    // Selected, so that a long press copies it.
                    if let Some(input) = input {
                        input.select();
                    }
                }
                copied.set(if ok { COPIED } else { BY_HAND });
            });
        })
    };
    let close = on_close.reform(|_: MouseEvent| ());
    let onclose = on_close.reform(|_: Event| ());
    let status = match **copied {
        COPIED => l.t(Text::Copied),
        BY_HAND => l.t(Text::CopyByHand),
        _ => "",
    };
    html! {
        <dialog class="ep-guide" aria-labelledby="ep-guide-title" {onclose}>
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
            <input class="ep-url" readonly=true value={link} aria-label={l.t(Text::Link)} />
            <p class="ep-copied" role="status">{ status }</p>
            <div class="ep-actions">
                <button type="button" class="ep-button" autofocus=true onclick={copy}>{ l.t(Text::CopyLink) }</button>
                <button type="button" class="ep-button ep-secondary" onclick={close}>{ l.t(Text::Close) }</button>
            </div>
        </dialog>
    }
}
