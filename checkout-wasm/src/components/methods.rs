//! The method list: a real button per method that works here, likeliest first; the methods that do
//! not work here stay visible with the reason and what to do instead.

use std::rc::Rc;

use payment_core::method::{BlockReason, Blocked, PaymentMethod, Provider};
use yew::prelude::*;

use crate::api::SessionView;
use crate::i18n::{Locale, Text};

/// The session's methods and what the shopper can do with them.
#[derive(Debug)]
pub(crate) struct MethodsProps {
    /// The language of every sentence.
    pub locale: Locale,
    /// What the worker said about the session.
    pub session: Rc<SessionView>,
    /// The method whose button takes focus (back from a failure or a cancel).
    pub focus: Option<PaymentMethod>,
    /// Whether the "open in browser" button takes focus (the guidance just closed).
    pub focus_guide: bool,
    /// The shopper chose a method.
    pub on_choose: Callback<PaymentMethod>,
    /// The shopper asked how to open the page in a browser.
    pub on_guide: Callback<()>,
}

/// The list. A function, not a component: it keeps no state, and each component is compiled anew.
pub(crate) fn methods(props: &MethodsProps) -> Html {
    let l = props.locale;
    let session = &props.session;
    // A provider none of whose methods works here is shown up front, once, with what to do; the
    // other blocked variants (a QR code on a phone, JSAPI outside WeChat…) go under "not available here".
    let mut prominent: Vec<Blocked> = Vec::new();
    let mut others: Vec<Blocked> = Vec::new();
    for blocked in &session.blocked {
        let provider = blocked.method.provider();
        let offered = session.methods.iter().chain(prominent.iter().map(|b| &b.method)).any(|m| m.provider() == provider);
        if offered { others.push(*blocked) } else { prominent.push(*blocked) }
    }

    let buttons = session.methods.iter().map(|&method| {
        let onclick = props.on_choose.reform(move |_: MouseEvent| method);
        html! {
            <li>
                <button type="button" class="ep-method" data-method={method.as_str()} {onclick}
                        data-ep-focus={(props.focus == Some(method)).then_some("")}>
                    { mark(method.provider()) }
                    <span class="ep-text">
                        { names(l, l.method_name(method), l.other().method_name(method)) }
                        <span class="ep-hint">{ l.method_hint(method) }</span>
                    </span>
                    <span class="ep-chevron" aria-hidden="true"></span>
                </button>
            </li>
        }
    });

    let prominent = prominent.iter().map(|b| {
        let provider = b.method.provider();
        html! {
            <li class="ep-blocked" data-method={b.method.as_str()} data-reason={b.reason.as_str()}>
                { mark(provider) }
                <span class="ep-text">
                    { names(l, l.provider_name(provider), l.other().provider_name(provider)) }
                    <span class="ep-why">{ l.block_reason(b.reason) }</span>
                    if b.reason == BlockReason::BlockedInWechat {
                        <button type="button" class="ep-button ep-secondary ep-open" onclick={props.on_guide.reform(|_: MouseEvent| ())}
                                data-ep-focus={props.focus_guide.then_some("")}>
                            { l.t(Text::OpenInBrowser) }
                        </button>
                    }
                </span>
            </li>
        }
    });

    html! {
        <>
            <h3 class="ep-h">{ l.t(Text::ChooseMethod) }</h3>
            if session.methods.is_empty() {
                <p class="ep-why">{ l.t(Text::NoMethods) }</p>
            }
            <ul class="ep-list">{ for buttons }{ for prominent }</ul>
            if !others.is_empty() {
                <details class="ep-more">
                    <summary>{ l.counted(Text::NotAvailableHere, others.len()) }</summary>
                    <ul class="ep-list">
                        { for others.iter().map(|b| html! {
                            <li class="ep-unavailable" data-method={b.method.as_str()} data-reason={b.reason.as_str()}>
                                { names(l, l.method_name(b.method), l.other().method_name(b.method)) }
                                <span class="ep-why">{ l.block_reason(b.reason) }</span>
                            </li>
                        }) }
                    </ul>
                </details>
            }
        </>
    }
}

/// A provider's mark: its initial on its colour (drawn by the style sheet).
fn mark(provider: Provider) -> Html {
    html! { <span class="ep-mark" data-provider={provider.as_str()} aria-hidden="true"></span> }
}

/// A name in the widget's language, then in the other one.
fn names(l: Locale, name: &'static str, other: &'static str) -> Html {
    html! {
        <span class="ep-names">
            <span class="ep-name">{ name }</span>
            <span class="ep-alt" lang={l.other().tag()}>{ other }</span>
        </span>
    }
}
