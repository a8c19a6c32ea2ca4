//! Hooks that turn the browser's events and the clock into [`Action`]s.

use std::cell::Cell;
use std::rc::Rc;

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use yew::prelude::*;

use crate::api::{self, Connection};
use crate::state::{Action, Checkout};

/// The first wait between status polls, and the longest: the worker asks the provider itself at
/// most every 3 s, so asking it more often than that finds nothing new.
const POLL_FIRST_MS: f64 = 1000.0;
const POLL_MAX_MS: f64 = 3000.0;

/// What an effect depends on (it runs again when this changes), packed into one type: two numbers
/// and a name. Every effect of the widget has these dependencies and an [`Effect`], so yew's
/// effect hook is compiled once for the widget rather than once per effect.
pub(crate) type Deps = (u64, u64, &'static str);

/// What an effect leaves to undo: called before it runs again and when the widget goes.
pub(crate) type Teardown = Box<dyn FnOnce()>;

/// An effect, boxed (see [`Deps`]); the values it needs are moved into it, not read from `Deps`.
pub(crate) type Effect = Box<dyn FnOnce(&Deps) -> Teardown>;

/// Runs `effect` after the render whenever `deps` changed: `use_effect_with` with the widget's one
/// effect type.
#[hook]
pub(crate) fn use_effect_on(deps: Deps, effect: Effect) {
    use_effect_with(deps, effect);
}

/// Nothing to undo.
pub(crate) fn nothing() -> Teardown {
    Box::new(|| ())
}

/// Follows `navigator.onLine` through the window's `online` and `offline` events.
#[hook]
pub fn use_connectivity(dispatcher: UseReducerDispatcher<Checkout>) {
    use_effect_on((0, 0, ""), Box::new(move |_| {
        let listeners = web_sys::window().map(|window| {
            let online = dispatcher.clone();
            (
                EventListener::new(&window, "online", move |_| online.dispatch(Action::Online(true))),
                EventListener::new(&window, "offline", move |_| dispatcher.dispatch(Action::Online(false))),
            )
        });
        Box::new(move || drop(listeners))
    }));
}

/// Asks the worker again when the session is due to expire (`expires_at`, Unix seconds), so that
/// the worker, not this browser's clock, says when it has. Re-armed after every load.
#[hook]
pub fn use_expiry(expires_at: Option<u64>, load: u32, dispatcher: UseReducerDispatcher<Checkout>) {
    let deps = (expires_at.unwrap_or(0), u64::from(load) << 1 | u64::from(expires_at.is_some()), "");
    use_effect_on(deps, Box::new(move |_| {
        let timer = expires_at.map(|at| {
            let due = at as f64 * 1000.0 + 1000.0 - js_sys::Date::now();
            // Past due by this clock while the worker still says open: the clocks disagree, so
            // ask again in a while rather than at once.
            let delay = if due > 0.0 { due.min(2_000_000_000.0) } else { 30_000.0 };
            Timeout::new(delay as u32, move || dispatcher.dispatch(Action::Load))
        });
        Box::new(move || drop(timer))
    }));
}

/// While `active`, asks the worker how the payment stands, with backoff (1 s, 1.5 s, … up to
/// 3 s); the first time at once when `immediate`. A new `now` (the shopper's "I have paid") starts
/// over.
#[hook]
pub fn use_poll(conn: Rc<Connection>, active: bool, immediate: bool, now: u32, dispatcher: UseReducerDispatcher<Checkout>) {
    use_effect_on((u64::from(now), u64::from(active) | u64::from(immediate) << 1, ""), Box::new(move |_| {
        let stop = Rc::new(Cell::new(!active));
        let asked_now = immediate;
        let running = stop.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut wait = if asked_now { 0.0 } else { POLL_FIRST_MS };
            while !running.get() {
                gloo_timers::future::TimeoutFuture::new(wait as u32).await;
                if running.get() {
                    break;
                }
                let answer = api::session(&conn, None).await.map(Rc::new);
                if running.get() {
                    break;
                }
                dispatcher.dispatch(Action::Polled(answer));
                wait = (wait * 1.5).clamp(POLL_FIRST_MS, POLL_MAX_MS);
            }
        });
        Box::new(move || stop.set(true))
    }));
}

/// Where the shopper is with an unfinished payment at a provider's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Away {
    /// No such payment.
    Here,
    /// The browser is leaving for the provider's page.
    Leaving,
    /// Back, and asked whether it is paid.
    Back,
}

/// The unfinished payment is remembered (in `sessionStorage`, written just before leaving) only
/// while the browser is away at the provider's page or the shopper is asked whether it is paid;
/// while leaving, a page shown again from the back/forward cache (`pageshow` with `persisted`)
/// means the shopper came back.
#[hook]
pub fn use_away(conn: Rc<Connection>, away: Away, dispatcher: UseReducerDispatcher<Checkout>) {
    use_effect_on((away as u64, 0, ""), Box::new(move |_| {
        if away == Away::Here {
            api::forget(&conn);
        }
        let listener = web_sys::window().filter(|_| away == Away::Leaving).map(|window| {
            EventListener::new(&window, "pageshow", move |event| {
                if api::get(event, "persisted").is_truthy() {
                    dispatcher.dispatch(Action::Returned);
                }
            })
        });
        Box::new(move || drop(listener))
    }));
}
