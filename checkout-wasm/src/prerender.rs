//! The widget drawn on a server (feature `prerender`): the merchant's server, which has just read
//! the session for this shopper (`GET /v1/sessions/{id}` with the shopper's User-Agent), puts the
//! method list in the page as a declarative shadow root, so the shopper sees the methods before
//! the WebAssembly has loaded. `mount` replaces the drawing with the live widget, which carries
//! out a method clicked in the meantime (the loader notes it) and keeps the focus.
//!
//! ```html
//! <div id="checkout"><template shadowrootmode="open">{prerender(…)}</template></div>
//! ```

use std::rc::Rc;

use yew::prelude::*;

use crate::api::{parse_session, Json, SessionView};
use crate::components::app::card;
use crate::components::methods::{methods, MethodsProps};
use crate::i18n::{Locale, Text};
use crate::state::{Action, Checkout, Phase};
use crate::STYLES;

impl Json for serde_json::Value {
    fn field(&self, key: &str) -> Self {
        self.get(key).cloned().unwrap_or_default()
    }
    fn text(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
}

#[derive(Debug, PartialEq, Properties)]
struct Props {
    locale: Locale,
    session: Rc<SessionView>,
}

#[function_component(Drawn)]
fn drawn(props: &Props) -> Html {
    let l = props.locale;
    let body = methods(&MethodsProps {
        locale: l,
        session: props.session.clone(),
        focus: None,
        focus_guide: false,
        on_choose: Callback::noop(),
        on_guide: Callback::noop(),
    });
    card(l, "methods", Some(&props.session), body, l.t(Text::ChooseMethod), Html::default())
}

/// The inside of the widget's shadow root as the widget first shows `session` (the worker's
/// `GET /v1/sessions/{id}` answer, read with the shopper's User-Agent and hints) in `language`
/// (a language tag such as the first of `Accept-Language`; zh-CN when absent, as in the widget):
/// its style sheet and its method list, in a root marked `data-prerendered` (the live widget's is
/// not). `None` when the widget would not show a method list
/// (a paid, expired or closed session; an answer that is not a session): the page then shows
/// the widget when it loads.
pub async fn prerender(session: &str, language: Option<&str>) -> Option<String> {
    let session = {
        let value: serde_json::Value = serde_json::from_str(session).ok()?;
        let view = parse_session(&value)?;
        // The state the widget's first render is in, by the widget's own rules.
        let state = Rc::new(Checkout::new(true, None)).reduce(Action::Loaded(0, Ok(Rc::new(view))));
        if state.phase != Phase::Methods {
            return None;
        }
        SessionView::clone(state.session.as_ref()?)
    };
    let locale = language.map_or(Locale::ZhCn, Locale::parse);
    let html = yew::ServerRenderer::<Drawn>::with_props(move || Props { locale, session: Rc::new(session) })
        .hydratable(false)
        .render()
        .await;
    Some(crate::i18n::cat(&["<style>", STYLES, "</style><div class=\"ep-host\" data-prerendered=\"\">", &html, "</div>"]))
}
