//! The widget's components: [`app::App`] owns the state; the others draw a part of it and report
//! the shopper's actions through `Callback`s.

pub mod app;
pub(crate) mod guide;
pub(crate) mod methods;
pub(crate) mod notice;
pub(crate) mod qr;
