//! The widget's root component. For now it shows where the shopper is and whether the worker answers.

use payment_core::environment::{detect, ClientHints, Detected};
use wasm_bindgen::JsValue;
use yew::prelude::*;

use crate::api::{self, ApiError, Health};
use crate::i18n::{Locale, Text};

/// What the host page gives the widget.
#[derive(Debug, Clone, PartialEq, Properties)]
pub struct AppProps {
    /// The worker's base URL, without a trailing slash.
    pub endpoint: String,
    /// The language of every sentence.
    pub locale: Locale,
    /// Bumped by `refresh()` to reload from the worker.
    pub generation: u32,
}

#[derive(Debug, Clone, PartialEq)]
enum Load {
    Loading,
    Ready(Health),
    Failed(ApiError),
}

/// The widget.
#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let detected = use_memo((), |()| detect_here());
    let load = use_state(|| Load::Loading);
    let attempt = use_state(|| 0_u32);

    {
        let load = load.clone();
        let endpoint = props.endpoint.clone();
        use_effect_with((endpoint, props.generation, *attempt), move |(endpoint, _, _)| {
            load.set(Load::Loading);
            let endpoint = endpoint.clone();
            wasm_bindgen_futures::spawn_local(async move {
                load.set(match api::health(&endpoint).await {
                    Ok(health) => Load::Ready(health),
                    Err(error) => Load::Failed(error),
                });
            });
        });
    }

    let l = props.locale;
    let state = match &*load {
        Load::Loading => "loading",
        Load::Ready(_) => "ready",
        Load::Failed(_) => "error",
    };
    let status = match &*load {
        Load::Loading => html! {
            <>
                <div class="ep-skeleton" aria-hidden="true"></div>
                <p class="ep-muted">{ l.t(Text::Loading) }</p>
            </>
        },
        Load::Ready(health) => html! {
            <>
                <p class="ep-worker">{ format!("{} v{}", l.t(Text::Worker), health.version) }</p>
                <ul class="ep-providers">
                    { for health.providers.iter().map(|(id, p)| html! {
                        <li data-provider={id.clone()} data-configured={p.configured.to_string()}>
                            <span class="ep-provider-name">{ l.provider_name(id) }</span>
                            <span class={classes!("ep-badge", p.configured.then_some("ep-badge-ok"))}>
                                { l.t(if p.configured { Text::Configured } else { Text::NotConfigured }) }
                            </span>
                        </li>
                    }) }
                </ul>
            </>
        },
        Load::Failed(error) => {
            let retry = {
                let attempt = attempt.clone();
                Callback::from(move |_: MouseEvent| attempt.set(*attempt + 1))
            };
            let text = match error {
                ApiError::Unreachable => Text::Unreachable,
                ApiError::BadAnswer => Text::BadAnswer,
            };
            html! {
                <>
                    <p class="ep-error" role="alert">{ l.t(text) }</p>
                    <button type="button" class="ep-button" onclick={retry}>{ l.t(Text::Retry) }</button>
                </>
            }
        }
    };

    html! {
        <section class="ep-card" lang={l.tag()} data-edgepay-state={state} aria-busy={(state == "loading").to_string()}>
            <h2 class="ep-title">{ l.t(Text::Title) }</h2>
            <dl class="ep-facts">
                <div>
                    <dt>{ l.t(Text::Environment) }</dt>
                    <dd data-field="environment">{ detected.environment.as_str() }</dd>
                </div>
                <div>
                    <dt>{ l.t(Text::Device) }</dt>
                    <dd data-field="device">{ format!("{} · {}", detected.device.as_str(), detected.os.as_str()) }</dd>
                </div>
            </dl>
            <div class="ep-status" aria-live="polite">{ status }</div>
        </section>
    }
}

/// Detects the shopper's environment from what this browser says about itself.
fn detect_here() -> Detected {
    let window = web_sys::window();
    let navigator = window.as_ref().map(web_sys::Window::navigator);
    let user_agent = navigator.as_ref().and_then(|n| n.user_agent().ok()).unwrap_or_default();
    let hints = ClientHints {
        max_touch_points: navigator.as_ref().and_then(|n| u32::try_from(n.max_touch_points()).ok()),
        wxjs_environment: window
            .as_ref()
            .and_then(|w| js_sys::Reflect::get(w, &JsValue::from_str("__wxjs_environment")).ok())
            .and_then(|v| v.as_string()),
        platform: navigator.as_ref().and_then(|n| n.platform().ok()),
    };
    detect(&user_agent, &hints)
}
