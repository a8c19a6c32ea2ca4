//! The widget's components.

pub(crate) mod app;
