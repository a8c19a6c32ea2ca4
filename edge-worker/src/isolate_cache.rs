//! Values derived from the environment once per isolate: the configuration and each provider's
//! settings (PEM keys decoded, certificates parsed). A Worker's bindings do not change while an
//! isolate lives (a new deployment or new secrets start new isolates), so reading and decoding them
//! on every request is wasted CPU. Settings that are incomplete are not cached: the next request
//! reads them again and `/v1/health` keeps naming what is missing.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

thread_local! {
    /// By the value's type and an epoch (see [`get_or_make`]).
    static VALUES: RefCell<HashMap<(TypeId, u64), Rc<dyn Any>>> = RefCell::new(HashMap::new());
}

/// The isolate's value of type `T` for `epoch`, made by `make` the first time (`None` is not kept).
///
/// `epoch` separates values that depend on time, such as platform certificates filtered by their
/// validity: the caller passes e.g. the current hour, and a value from another epoch is made anew
/// (and the old one dropped).
pub(crate) fn get_or_make<T: 'static>(epoch: u64, make: impl FnOnce() -> Option<T>) -> Option<Rc<T>> {
    let key = (TypeId::of::<T>(), epoch);
    if let Some(value) = VALUES.with(|values| values.borrow().get(&key).cloned()) {
        return value.downcast::<T>().ok();
    }
    let value = Rc::new(make()?);
    VALUES.with(|values| {
        let mut values = values.borrow_mut();
        values.retain(|(type_id, _), _| *type_id != key.0);
        values.insert(key, value.clone() as Rc<dyn Any>);
    });
    Some(value)
}
