//! The widget's root: owns the [`Checkout`] state, talks to the worker, and shows the part of the
//! checkout the state calls for.

use std::rc::Rc;

use js_sys::{Object, Promise};
use payment_core::method::{BlockReason, PaymentMethod};
use web_sys::{Element, HtmlElement};
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::api::{self, set, ApiError, Connection, NextAction, SessionView};
use crate::components::guide::{guide, use_guide};
use crate::components::methods::{methods, MethodsProps};
use crate::components::notice::notice;
use crate::components::qr::{qr_panel, use_qr_clock, QrProps};
use crate::drive::{self, SheetOutcome};
use crate::events;
use crate::hooks::{nothing, use_away, use_connectivity, use_effect_on, use_expiry, use_poll, Away};
use crate::i18n::{format_amount, Locale, Text};
use crate::state::{Action, Checkout, Focus, Pending, Phase};

/// What the host page gives the widget.
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct AppProps {
    /// The element the widget is mounted on: state changes are dispatched on it.
    pub host: Element,
    /// The worker and the session.
    pub conn: Rc<Connection>,
    /// The language of every sentence.
    pub locale: Locale,
    /// Bumped by `refresh()` to reload from the worker.
    pub generation: u32,
    /// In a list the host page's server drew (`prerender`) before the widget was ready: the
    /// method the shopper clicked, and the one whose button had the focus.
    pub early: (Option<PaymentMethod>, Option<PaymentMethod>),
}

/// The widget.
#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let state = {
        let conn = props.conn.clone();
        let (clicked, focused) = props.early;
        use_reducer(move || {
            let state = Checkout::new(web_sys::window().is_none_or(|w| w.navigator().on_line()), api::recall(&conn));
            // The session the host page gave: shown by the first render, carrying on with what
            // the shopper did in the server's drawing of it.
            let Some(session) = conn.given.take() else { return state };
            let offered = |m: &PaymentMethod| session.methods.contains(m);
            let (clicked, focused) = (clicked.filter(offered), focused.filter(offered));
            let mut state = Rc::new(state).reduce(Action::Loaded(0, Ok(session)));
            if state.phase == Phase::Methods {
                if let Some(method) = clicked {
                    state = state.reduce(Action::Choose(method));
                } else if let Some(method) = focused {
                    let mut next = Rc::unwrap_or_clone(state);
                    next.focus(Focus::Method(method));
                    return next;
                }
            }
            Rc::unwrap_or_clone(state)
        })
    };
    let l = props.locale;

    use_connectivity(state.dispatcher());
    let payable = matches!(state.phase, Phase::Methods | Phase::Processing(_) | Phase::Failed(..));
    use_expiry(state.session.as_ref().filter(|_| payable).map(|s| s.expires_at), state.load, state.dispatcher());
    // The first load is done when the host page gave the session.
    use_load(props.conn.clone(), state.load, state.load == 0 && state.session.is_some(), state.dispatcher());
    use_pay(props.conn.clone(), &props.host, &state);
    use_poll(props.conn.clone(), state.polling(), matches!(state.phase, Phase::Checking(_)), state.poll, state.dispatcher());
    let away = match state.phase {
        Phase::Leaving(_) => Away::Leaving,
        Phase::Checking(_) => Away::Back,
        _ => Away::Here,
    };
    use_away(props.conn.clone(), away, state.dispatcher());
    {
        // `refresh()` from the host page.
        let dispatcher = state.dispatcher();
        let generation = props.generation;
        use_effect_on((u64::from(generation), 0, ""), Box::new(move |_| {
            if generation > 0 {
                dispatcher.dispatch(Action::Load);
            }
            nothing()
        }));
    }
    use_outcomes(&props.host, &state);
    use_qr_clock(
        match &state.phase {
            Phase::Qr(_, qr) => Some(qr.expires_at),
            _ => None,
        },
        state.dispatcher(),
    );
    // The "open in browser" guidance exists only where a method needs it (Alipay inside WeChat).
    let show_guide = state.phase == Phase::Methods
        && state.session.as_ref().is_some_and(|s| s.blocked.iter().any(|b| b.reason == BlockReason::BlockedInWechat));
    let copied = use_guide(&props.host, show_guide, state.guide_open);
    // After the guidance's effect: closing the dialog moves focus, and this effect moves it on.
    use_focus(&props.host, state.focus.1);

    let dispatch = |make: fn() -> Action| {
        let dispatcher = state.dispatcher();
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(make()))
    };
    let focus_message = state.focus.0 == Focus::Message;
    let name = state.name();
    let body = match &state.phase {
        Phase::Expired => notice("info", l.t(Text::Expired), None, false, Html::default()),
        Phase::Closed => notice("info", l.t(Text::Closed), None, false, Html::default()),
        Phase::Paid => notice("done", l.t(Text::Paid), None, focus_message, Html::default()),
        _ if !state.online => notice("busy", l.t(Text::Offline), None, false, Html::default()),
        Phase::Loading => html! {
            <div class="ep-skeleton" aria-hidden="true"><span></span><span></span><span></span></div>
        },
        Phase::Methods => match &state.session {
            Some(session) => {
                let (focus, focus_guide) = match state.focus.0 {
                    Focus::Method(method) => (Some(method), false),
                    Focus::GuideOpener => (None, true),
                    _ => (None, false),
                };
                let on_choose = {
                    let dispatcher = state.dispatcher();
                    Callback::from(move |method: PaymentMethod| dispatcher.dispatch(Action::Choose(method)))
                };
                let on_guide = {
                    let dispatcher = state.dispatcher();
                    Callback::from(move |()| dispatcher.dispatch(Action::Guide(true)))
                };
                methods(&MethodsProps { locale: l, session: session.clone(), focus, focus_guide, on_choose, on_guide })
            }
            None => Html::default(),
        },
        Phase::Processing(method) => {
            // A cancel is an action, not a state (the list shows again): told to the host here.
            let cancel = {
                let dispatcher = state.dispatcher();
                let host = props.host.clone();
                let method = *method;
                Callback::from(move |_: MouseEvent| {
                    dispatcher.dispatch(Action::Cancel);
                    cancelled(&host, method);
                })
            };
            let cancel = html! {
                <button type="button" class="ep-button ep-secondary" onclick={cancel}>{ l.t(Text::Cancel) }</button>
            };
            notice("busy", l.t(Text::Processing), Some(l.method_name(*method)), focus_message, cancel)
        }
        Phase::Qr(method, qr) => {
            let amount = state.session.as_ref().map_or(0, |s| s.amount);
            let children = html! {
                <button type="button" class="ep-button ep-secondary" onclick={dispatch(|| Action::Back)}>{ l.t(Text::OtherMethod) }</button>
            };
            qr_panel(&QrProps { locale: l, method: *method, qr: qr.clone(), amount, focus: focus_message, children })
        }
        Phase::QrExpired(method) => notice("info", l.t(Text::QrExpired), Some(l.method_name(*method)), focus_message, html! {
            <>
                <button type="button" class="ep-button" onclick={dispatch(|| Action::Retry)}>{ l.t(Text::NewCode) }</button>
                <button type="button" class="ep-button ep-secondary" onclick={dispatch(|| Action::Back)}>{ l.t(Text::OtherMethod) }</button>
            </>
        }),
        Phase::Leaving(method) => notice("busy", l.t(Text::Leaving), Some(l.method_name(*method)), focus_message, Html::default()),
        Phase::Bridge(method) => notice("busy", l.t(Text::Bridge), Some(l.method_name(*method)), focus_message, Html::default()),
        Phase::Handoff(method) => notice("busy", l.t(Text::Handoff), Some(l.method_name(*method)), focus_message, html! {
            <button type="button" class="ep-button ep-secondary" onclick={dispatch(|| Action::Back)}>{ l.t(Text::OtherMethod) }</button>
        }),
        Phase::Checking(method) => notice("busy", l.t(Text::Checking), Some(l.method_name(*method)), focus_message, html! {
            <>
                <p class="ep-help">{ l.t(Text::CheckingHelp) }</p>
                <button type="button" class="ep-button" onclick={dispatch(|| Action::CheckNow)}>{ l.t(Text::IHavePaid) }</button>
                <button type="button" class="ep-button ep-secondary" onclick={dispatch(|| Action::Back)}>{ l.t(Text::PayAgain) }</button>
            </>
        }),
        Phase::Failed(method, error) => notice("error", l.error(error), Some(l.method_name(*method)), focus_message, html! {
            <>
                <button type="button" class="ep-button" onclick={dispatch(|| Action::Retry)}>{ l.t(Text::Retry) }</button>
                <button type="button" class="ep-button ep-secondary" onclick={dispatch(|| Action::Back)}>{ l.t(Text::OtherMethod) }</button>
            </>
        }),
        Phase::Unavailable(error) => notice("error", l.error(error), None, focus_message, html! {
            if error.retryable() {
                <button type="button" class="ep-button" onclick={dispatch(|| Action::Retry)}>{ l.t(Text::Retry) }</button>
            }
        }),
    };
    let on_close = {
        let dispatcher = state.dispatcher();
        Callback::from(move |()| dispatcher.dispatch(Action::Guide(false)))
    };
    // Every change is announced (role="status" is polite): also those the shopper did not cause,
    // such as going offline or the session expiring.
    let announcement = match &state.phase {
        Phase::Expired => l.t(Text::Expired),
        Phase::Closed => l.t(Text::Closed),
        Phase::Paid => l.t(Text::Paid),
        _ if !state.online => l.t(Text::Offline),
        Phase::Loading => l.t(Text::Loading),
        Phase::Methods => l.t(Text::ChooseMethod),
        Phase::Processing(_) => l.t(Text::Processing),
        Phase::Qr(method, ..) => l.method_hint(*method),
        Phase::QrExpired(_) => l.t(Text::QrExpired),
        Phase::Leaving(_) => l.t(Text::Leaving),
        Phase::Bridge(_) => l.t(Text::Bridge),
        Phase::Handoff(_) => l.t(Text::Handoff),
        Phase::Checking(_) => l.t(Text::Checking),
        Phase::Failed(_, error) | Phase::Unavailable(error) => l.error(error),
    };

    let guide = if show_guide { guide(&props.host, l, &copied, &on_close) } else { Html::default() };
    card(l, name, state.session.as_deref(), body, announcement, guide)
}

/// The card around what the state shows (also what `prerender` draws on a server).
pub(crate) fn card(l: Locale, name: &'static str, session: Option<&SessionView>, body: Html, announcement: &'static str, guide: Html) -> Html {
    let summary = match session {
        Some(session) => html! {
            <div class="ep-summary">
                <p class="ep-desc">{ session.description.clone() }</p>
                <p class="ep-amount"><span class="ep-sr">{ l.t(Text::Total) }</span>{ format_amount(session.amount) }</p>
            </div>
        },
        None => Html::default(),
    };
    html! {
        <section class="ep-card" lang={l.tag()} aria-labelledby="ep-title" data-edgepay-state={name}
                 data-environment={session.and_then(|s| s.environment).map(|e| e.as_str())}
                 aria-busy={(name == "loading").then_some("true")}>
            <h2 id="ep-title" class="ep-title">{ l.t(Text::Title) }</h2>
            { summary }
            <div class="ep-body">{ body }</div>
            <p class="ep-sr" role="status">{ announcement }</p>
            <p class="ep-foot">{ l.t(Text::SecuredBy) }</p>
            { guide }
        </section>
    }
}

/// Loads the session whenever `load` changes (the first time from the loader's prefetch).
#[hook]
fn use_load(conn: Rc<Connection>, load: u32, given: bool, dispatcher: UseReducerDispatcher<Checkout>) {
    use_effect_on((u64::from(load), 0, ""), Box::new(move |_| {
        if given {
            return nothing();
        }
        let prefetched = conn.prefetch.take().and_then(|p| p.dyn_into::<Promise>().ok());
        wasm_bindgen_futures::spawn_local(async move {
            let result = api::session(&conn, prefetched).await.map(Rc::new);
            dispatcher.dispatch(Action::Loaded(load, result));
        });
        nothing()
    }));
}

/// Starts a payment for each new attempt, and drives the worker's next action.
#[hook]
fn use_pay(conn: Rc<Connection>, host: &Element, state: &UseReducerHandle<Checkout>) {
    let dispatcher = state.dispatcher();
    let host = host.clone();
    let method = match state.phase {
        Phase::Processing(method) => Some(method),
        _ => None,
    };
    let environment = state.session.as_ref().and_then(|s| s.environment);
    let signed_in = state.signed_in;
    let attempt = state.attempt;
    use_effect_on((u64::from(attempt), 0, ""), Box::new(move |_| {
        if let Some(method) = method {
            wasm_bindgen_futures::spawn_local(async move {
                let action = match api::pay(&conn, method, environment).await {
                    Ok(action) => action,
                    Err(error) => return dispatcher.dispatch(Action::PayFailed(attempt, error)),
                };
                let failed = |code: &str| Action::PayFailed(attempt, ApiError::Worker { code: code.into(), retryable: true });
                // Leaving the page: remember the payment first, so that the page it comes back
                // to carries on.
                let leave = |pending: Pending| {
                    api::remember(&conn, pending);
                    dispatcher.dispatch(Action::Started(attempt, action.clone()));
                };
                match &action {
                    NextAction::Redirect { url } => {
                        leave(Pending::Paying(method));
                        if !drive::go(url) {
                            dispatcher.dispatch(failed("cannot_leave"));
                        }
                    }
                    NextAction::Form { action: target, method: verb, fields } => {
                        leave(Pending::Paying(method));
                        if !drive::submit(target, verb, fields) {
                            dispatcher.dispatch(failed("cannot_leave"));
                        }
                    }
                    // Signed in, and asked to sign in again: going round would never end.
                    NextAction::Oauth { .. } if signed_in => dispatcher.dispatch(failed("wechat_sign_in_failed")),
                    NextAction::Oauth { url } => {
                        leave(Pending::SigningIn(method));
                        if !drive::go(url) {
                            dispatcher.dispatch(failed("cannot_leave"));
                        }
                    }
                    NextAction::Qr { .. } => dispatcher.dispatch(Action::Started(attempt, action.clone())),
                    NextAction::Jsapi { params } => {
                        dispatcher.dispatch(Action::Started(attempt, action.clone()));
                        match drive::wechat_pay(params).await {
                            SheetOutcome::Ok => dispatcher.dispatch(Action::BridgeOk(attempt)),
                            SheetOutcome::Cancel => {
                                dispatcher.dispatch(Action::Cancel);
                                cancelled(&host, method);
                            }
                            SheetOutcome::Fail => dispatcher.dispatch(failed("wechat_pay_failed")),
                            SheetOutcome::NoBridge => dispatcher.dispatch(failed("no_wechat_bridge")),
                        }
                    }
                    NextAction::Miniprogram { path } => {
                        dispatcher.dispatch(Action::Started(attempt, action.clone()));
                        if !drive::miniprogram(path) {
                            dispatcher.dispatch(failed("no_miniprogram_sdk"));
                        }
                    }
                }
            });
        }
        nothing()
    }));
}

/// Tells the host page the shopper cancelled (an action, not a state: the list shows again).
fn cancelled(host: &Element, method: PaymentMethod) {
    let detail = Object::new();
    set(&detail, "method", &method.as_str().into());
    events::dispatch(host, "edgepay:cancel", detail);
}

/// Tells the host page: `edgepay:statechange` on every change of state, and `edgepay:success`,
/// `edgepay:failure`, `edgepay:cancel` for the outcomes.
#[hook]
fn use_outcomes(host: &Element, state: &UseReducerHandle<Checkout>) {
    let previous = use_mut_ref(|| None::<&'static str>);
    let host = host.clone();
    let name = state.name();
    let phase = state.phase.clone();
    use_effect_on((0, 0, name), Box::new(move |_| {
        let detail = Object::new();
        set(&detail, "state", &name.into());
        if let Some(previous) = previous.borrow_mut().replace(name) {
            set(&detail, "previous", &previous.into());
        }
        events::dispatch(&host, "edgepay:statechange", detail);
        let outcome = Object::new();
        let kind = match &phase {
            Phase::Paid => Some("edgepay:success"),
            Phase::Failed(_, error) | Phase::Unavailable(error) => {
                set(&outcome, "code", &error.code().into());
                set(&outcome, "retryable", &error.retryable().into());
                Some("edgepay:failure")
            }
            Phase::Expired => {
                set(&outcome, "code", &"session_expired".into());
                set(&outcome, "retryable", &false.into());
                Some("edgepay:failure")
            }
            _ => None,
        };
        if let Some(kind) = kind {
            set(&outcome, "state", &name.into());
            events::dispatch(&host, kind, outcome);
        }
        nothing()
    }));
}

/// Moves focus to what the shopper's last action changed (`data-ep-focus`), after the render.
#[hook]
fn use_focus(host: &Element, seq: u32) {
    let host = host.clone();
    use_effect_on((u64::from(seq), 0, ""), Box::new(move |_| {
        if seq > 0 {
            let target = host.shadow_root().and_then(|root| root.query_selector("[data-ep-focus]").ok().flatten());
            if let Some(target) = target.and_then(|t| t.dyn_into::<HtmlElement>().ok()) {
                let _ = target.focus();
            }
        }
        nothing()
    }));
}
