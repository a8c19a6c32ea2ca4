//! Hooks that turn the browser's events and the clock into [`Action`]s.

use gloo_events::EventListener;
use gloo_timers::callback::Timeout;
use yew::prelude::*;

use crate::state::{Action, Checkout};

/// Follows `navigator.onLine` through the window's `online` and `offline` events.
#[hook]
pub fn use_connectivity(dispatcher: UseReducerDispatcher<Checkout>) {
    use_effect_with((), move |()| {
        let listeners = web_sys::window().map(|window| {
            let online = dispatcher.clone();
            (
                EventListener::new(&window, "online", move |_| online.dispatch(Action::Online(true))),
                EventListener::new(&window, "offline", move |_| dispatcher.dispatch(Action::Online(false))),
            )
        });
        move || drop(listeners)
    });
}

/// Asks the worker again when the session is due to expire (`expires_at`, Unix seconds), so that
/// the worker, not this browser's clock, says when it has. Re-armed after every load.
#[hook]
pub fn use_expiry(expires_at: Option<u64>, load: u32, dispatcher: UseReducerDispatcher<Checkout>) {
    use_effect_with((expires_at, load), move |(expires_at, _)| {
        let timer = expires_at.map(|at| {
            let due = at as f64 * 1000.0 + 1000.0 - js_sys::Date::now();
            // Past due by this clock while the worker still says open: the clocks disagree, so
            // ask again in a while rather than at once.
            let delay = if due > 0.0 { due.min(2_000_000_000.0) } else { 30_000.0 };
            Timeout::new(delay as u32, move || dispatcher.dispatch(Action::Load))
        });
        move || drop(timer)
    });
}
