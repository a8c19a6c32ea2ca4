//! The widget's state: one [`Checkout`] changed only by [`Action`]s, as in yew's
//! `function_todomvc`. Network calls, timers and DOM events live in the components and hooks; they
//! only dispatch actions.

use std::rc::Rc;

use payment_core::method::PaymentMethod;
use payment_core::session::Status;
use yew::Reducible;

use crate::api::{ApiError, NextAction, SessionView};
use crate::components::qr::Qr;

/// What the widget is showing.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Waiting for the session (skeleton).
    Loading,
    /// The methods that work here, and guidance for those that do not.
    Methods,
    /// A payment is being started with this method.
    Processing(PaymentMethod),
    /// The QR code to scan with the phone.
    Qr(PaymentMethod, Rc<Qr>),
    /// The QR code expired before it was paid: the shopper may get a new one.
    QrExpired(PaymentMethod),
    /// The browser is going to the provider's page (redirect, form, WeChat sign-in).
    Leaving(PaymentMethod),
    /// WeChat's payment sheet is open (JSAPI).
    Bridge(PaymentMethod),
    /// Handed off to the merchant's mini-program page.
    Handoff(PaymentMethod),
    /// Back from the provider, or WeChat said "ok": the worker is asked whether it is paid.
    Checking(PaymentMethod),
    /// Starting a payment with this method failed.
    Failed(PaymentMethod, ApiError),
    /// The session could not be loaded.
    Unavailable(ApiError),
    /// The session can no longer be paid: too late.
    Expired,
    /// The session can no longer be paid: closed or failed for good.
    Closed,
    /// The session is paid.
    Paid,
}

/// Where keyboard focus goes after a shopper's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Leave it where it is (changes the shopper did not cause are announced, not focused).
    Stay,
    /// The message of the panel now shown.
    Message,
    /// A method's button (back on the list).
    Method(PaymentMethod),
    /// The "open in browser" button, when the guidance closes.
    GuideOpener,
}

/// A payment left unfinished when the browser went to a provider's page, kept in
/// `sessionStorage` so that the page the shopper comes back to carries on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    /// Gone to pay at the provider: ask whether it is paid.
    Paying(PaymentMethod),
    /// Gone to WeChat's sign-in for JSAPI: pay again, now that the worker has the payer.
    SigningIn(PaymentMethod),
}

/// Everything the widget shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    /// What is shown.
    pub phase: Phase,
    /// The session, once loaded.
    pub session: Option<Rc<SessionView>>,
    /// `navigator.onLine`, kept up to date by the `online`/`offline` events.
    pub online: bool,
    /// Whether the "open in browser" guidance is open.
    pub guide_open: bool,
    /// Bumped to (re)load the session; answers to an older load are ignored.
    pub load: u32,
    /// Bumped for each payment request; answers to an older one are ignored.
    pub attempt: u32,
    /// Where focus goes after the next render, and a counter that says "now".
    pub focus: (Focus, u32),
    /// Bumped to ask the worker for the payment's status now ("I have paid").
    pub poll: u32,
    /// The payment this page was left for, found at mount; carried on after the first load.
    pub pending: Option<Pending>,
    /// Back from WeChat's sign-in: a second sign-in asked for now means it did not work.
    pub signed_in: bool,
}

impl Checkout {
    /// The state at mount.
    pub fn new(online: bool, pending: Option<Pending>) -> Self {
        Self { phase: Phase::Loading, session: None, online, guide_open: false, load: 0, attempt: 0, focus: (Focus::Stay, 0), poll: 0, pending, signed_in: false }
    }

    /// Whether the worker is asked, again and again, how the payment stands.
    pub fn polling(&self) -> bool {
        self.online && matches!(self.phase, Phase::Qr(..) | Phase::QrExpired(_) | Phase::Bridge(_) | Phase::Handoff(_) | Phase::Checking(_))
    }

    /// The state's name for the host page (`edgepay:statechange`) and `data-edgepay-state`.
    pub fn name(&self) -> &'static str {
        match &self.phase {
            Phase::Expired => "expired",
            Phase::Closed => "closed",
            Phase::Paid => "success",
            _ if !self.online => "offline",
            Phase::Loading => "loading",
            Phase::Methods => "methods",
            Phase::Processing(_) => "processing",
            Phase::Qr(..) => "qr",
            Phase::QrExpired(_) => "qr_expired",
            Phase::Leaving(_) => "redirecting",
            Phase::Bridge(_) => "bridge",
            Phase::Handoff(_) => "handoff",
            Phase::Checking(_) => "checking",
            Phase::Failed(..) => "failure",
            Phase::Unavailable(ApiError::Unreachable) => "unreachable",
            Phase::Unavailable(_) => "error",
        }
    }

    pub(crate) fn focus(&mut self, focus: Focus) {
        self.focus = (focus, self.focus.1.wrapping_add(1));
    }
}

/// Everything that changes the widget.
#[derive(Debug)]
pub enum Action {
    /// (Re)load the session: mount, `refresh()`, retry, resume, expiry.
    Load,
    /// Answer `load` to the session request.
    Loaded(u32, Result<Rc<SessionView>, ApiError>),
    /// Connectivity changed (`online`/`offline` events).
    Online(bool),
    /// The shopper chose a method.
    Choose(PaymentMethod),
    /// Answer `attempt` to the payment request: the next action.
    Started(u32, NextAction),
    /// Answer `attempt` to the payment request, or the bridge's: it failed.
    PayFailed(u32, ApiError),
    /// The worker's answer to a status poll.
    Polled(Result<Rc<SessionView>, ApiError>),
    /// The QR code's time is up.
    QrExpired,
    /// The shopper is back on this page from the provider's (the browser's back/forward cache).
    Returned,
    /// "I have paid": ask the worker now.
    CheckNow,
    /// WeChat's payment sheet closed with `…:ok` (a hint to confirm) for `attempt`.
    BridgeOk(u32),
    /// The shopper tries again: the failed method, or loading the session.
    Retry,
    /// The shopper goes back to the list (another method), from a failure.
    Back,
    /// The shopper cancels the payment being started.
    Cancel,
    /// The shopper opens or closes the "open in browser" guidance.
    Guide(bool),
}

impl Reducible for Checkout {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::Load => {
                next.load = next.load.wrapping_add(1);
                if matches!(next.phase, Phase::Unavailable(_)) {
                    next.phase = Phase::Loading;
                }
            }
            Action::Loaded(load, _) if load != self.load => return self,
            Action::Loaded(_, Ok(session)) => {
                // Back from a provider's page: carry on with that payment (once).
                let pending = next.pending.take();
                next.phase = match session.status {
                    Status::Expired => Phase::Expired,
                    Status::Failed | Status::Closed => Phase::Closed,
                    s if s.is_paid() => Phase::Paid,
                    // A shopper reading a failure or paying keeps at it; the list is up to date behind.
                    _ if method_of(&next.phase).is_some() => next.phase,
                    _ => match pending {
                        Some(Pending::Paying(method)) => Phase::Checking(method),
                        Some(Pending::SigningIn(method)) => {
                            next.signed_in = true;
                            next.attempt = next.attempt.wrapping_add(1);
                            Phase::Processing(method)
                        }
                        None => Phase::Methods,
                    },
                };
                if pending.is_some() && matches!(next.phase, Phase::Paid | Phase::Checking(_)) {
                    // Back from paying: focus on how it went.
                    next.focus(Focus::Message);
                } else if self.phase == Phase::Loading && self.focus.0 == Focus::Message {
                    // After the shopper's "Try again", focus goes to what the answer shows.
                    match (&next.phase, session.methods.first()) {
                        (Phase::Methods, Some(first)) => next.focus(Focus::Method(*first)),
                        _ => next.focus(Focus::Message),
                    }
                }
                next.session = Some(session);
            }
            Action::Loaded(_, Err(error)) => {
                // A session already shown stays shown: a failed background reload changes nothing.
                if next.session.is_none() {
                    next.phase = Phase::Unavailable(error);
                    if self.focus.0 == Focus::Message {
                        next.focus(Focus::Message);
                    }
                }
            }
            Action::Online(online) => {
                next.online = online;
                // Resume: load what could not load while offline, and whatever changed meanwhile
                // (the session may have been paid elsewhere, or expired).
                if online && matches!(next.phase, Phase::Loading | Phase::Methods | Phase::Unavailable(ApiError::Unreachable)) {
                    next.load = next.load.wrapping_add(1);
                }
            }
            Action::Choose(method) => {
                if self.phase != Phase::Methods {
                    return self;
                }
                next.phase = Phase::Processing(method);
                next.attempt = next.attempt.wrapping_add(1);
                next.focus(Focus::Message);
            }
            Action::Retry => {
                match &self.phase {
                    Phase::Failed(method, _) | Phase::QrExpired(method) => {
                        next.phase = Phase::Processing(*method);
                        next.attempt = next.attempt.wrapping_add(1);
                    }
                    Phase::Unavailable(_) => {
                        next.phase = Phase::Loading;
                        next.load = next.load.wrapping_add(1);
                    }
                    _ => return self,
                }
                next.focus(Focus::Message);
            }
            Action::PayFailed(attempt, error) => {
                let (Phase::Processing(method) | Phase::Bridge(method) | Phase::Handoff(method)) = self.phase else { return self };
                if attempt != self.attempt {
                    return self;
                }
                next.phase = Phase::Failed(method, error);
                next.focus(Focus::Message);
            }
            Action::Started(attempt, action) => {
                let Phase::Processing(method) = self.phase else { return self };
                if attempt != self.attempt {
                    return self;
                }
                next.phase = match action {
                    NextAction::Qr { data, expires_at } => match Qr::new(&data, expires_at) {
                        Some(qr) => Phase::Qr(method, Rc::new(qr)),
                        None => Phase::Failed(method, ApiError::BadAnswer),
                    },
                    NextAction::Redirect { .. } | NextAction::Form { .. } | NextAction::Oauth { .. } => Phase::Leaving(method),
                    NextAction::Jsapi { .. } => Phase::Bridge(method),
                    NextAction::Miniprogram { .. } => Phase::Handoff(method),
                };
                next.focus(Focus::Message);
            }
            Action::Polled(Err(_)) => return self,
            Action::Polled(Ok(session)) => {
                let Some(method) = method_of(&self.phase).filter(|_| self.polling()) else { return self };
                next.phase = match session.status {
                    s if s.is_paid() => Phase::Paid,
                    Status::Expired => Phase::Expired,
                    Status::Failed | Status::Closed => Phase::Closed,
                    // Open again: the attempt ended at the provider without a payment.
                    Status::Open => Phase::Failed(method, ApiError::Worker { code: "payment_failed".into(), retryable: true }),
                    _ => self.phase.clone(),
                };
                if next.phase != self.phase {
                    next.focus(Focus::Message);
                }
                next.session = Some(session);
            }
            Action::QrExpired => {
                let Phase::Qr(method, ..) = self.phase else { return self };
                next.phase = Phase::QrExpired(method);
                next.focus(Focus::Message);
            }
            Action::Returned => {
                let Phase::Leaving(method) = self.phase else { return self };
                next.phase = Phase::Checking(method);
                next.poll = next.poll.wrapping_add(1);
            }
            Action::CheckNow => {
                if !matches!(self.phase, Phase::Checking(_)) {
                    return self;
                }
                next.poll = next.poll.wrapping_add(1);
            }
            Action::BridgeOk(attempt) => {
                let Phase::Bridge(method) = self.phase else { return self };
                if attempt != self.attempt {
                    return self;
                }
                next.phase = Phase::Checking(method);
                next.focus(Focus::Message);
            }
            Action::Back | Action::Cancel => {
                let Some(method) = method_of(&self.phase) else { return self };
                next.phase = Phase::Methods;
                // An answer to the abandoned request must not come back as a failure.
                next.attempt = next.attempt.wrapping_add(1);
                next.focus(Focus::Method(method));
            }
            Action::Guide(open) => {
                if next.guide_open == open {
                    return self;
                }
                next.guide_open = open;
                if !open {
                    next.focus(Focus::GuideOpener);
                }
            }
        }
        Rc::new(next)
    }
}

/// The method being paid with, or that failed.
pub fn method_of(phase: &Phase) -> Option<PaymentMethod> {
    match phase {
        Phase::Processing(method)
        | Phase::Failed(method, _)
        | Phase::Qr(method, ..)
        | Phase::QrExpired(method)
        | Phase::Leaving(method)
        | Phase::Bridge(method)
        | Phase::Handoff(method)
        | Phase::Checking(method) => Some(*method),
        _ => None,
    }
}
