// edgepay checkout widget: the ES module a web developer imports.
//   import { mount } from './edgepay.js';
//   const handle = mount(document.getElementById('checkout'), {
//     endpoint: 'https://pay.example.com', session: 'cs_…', clientSecret: 'cs_…_secret_…',
//     onSuccess: () => location.assign('/thanks'),
//   });
// or, without script: <edgepay-checkout endpoint="…" session="…" client-secret="…"></edgepay-checkout>
import init, { mount as mountWasm, detectEnvironment as detectWasm } from './checkout_wasm.js';

let loading;

// A page whose server drew the method list (checkout-wasm `prerender`, in a declarative shadow
// root) shows it before the widget runs: a click on a method there is noted here, from the moment
// this module loads (`preload()`), and carried out by `mount`.
const clicked = new WeakMap();
const mounted = new WeakSet();
if (typeof document !== 'undefined') {
  document.addEventListener(
    'click',
    (event) => {
      const button = event.composedPath()[0]?.closest?.('button.ep-method[data-method]');
      const host = button?.getRootNode().host;
      if (!host || mounted.has(host)) return;
      clicked.set(host, button.dataset.method);
      button.setAttribute('aria-busy', 'true');
    },
    true,
  );
}

function load() {
  loading ??= init({ module_or_path: new URL('./checkout_wasm_bg.wasm', import.meta.url) });
  return loading;
}

/**
 * Starts downloading and compiling the WebAssembly now, so that a later `mount` renders at once.
 * For a page that learns its session late (e.g. a server that streams the page while it creates
 * the session): call it from an early `<script type="module" async>`.
 */
export function preload() {
  return load().then(() => undefined);
}

function fail(option, why) {
  throw new Error(`edgepay: option "${option}" ${why}`);
}

/** CSS custom property of each `theme` key. */
const THEME = {
  accent: '--ep-accent',
  accentText: '--ep-accent-fg',
  background: '--ep-bg',
  text: '--ep-fg',
  mutedText: '--ep-muted',
  surface: '--ep-surface',
  border: '--ep-border',
  danger: '--ep-danger',
  focus: '--ep-focus',
  radius: '--ep-radius',
  font: '--ep-font',
};
const CALLBACKS = {
  onStateChange: 'edgepay:statechange',
  onSuccess: 'edgepay:success',
  onFailure: 'edgepay:failure',
  onCancel: 'edgepay:cancel',
};

function validate(element, options) {
  if (typeof Element === 'undefined' || !(element instanceof Element)) fail('element', 'must be a DOM Element');
  if (options === null || typeof options !== 'object') fail('options', 'must be an object');
  const { endpoint, session, clientSecret, locale, theme } = options;
  if (typeof endpoint !== 'string' || endpoint === '') fail('endpoint', 'is required (the worker URL)');
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    fail('endpoint', 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('endpoint', 'must be an http(s) URL');
  if (typeof session !== 'string' || session === '') fail('session', 'is required (the id your server got from POST /v1/sessions)');
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(session)) fail('session', 'must be a session id such as "cs_…"');
  if (typeof clientSecret !== 'string' || clientSecret === '') fail('clientSecret', 'is required (the client_secret your server got with the session)');
  if (locale !== undefined && locale !== 'auto' && locale !== 'zh-CN' && locale !== 'en') fail('locale', 'must be "zh-CN", "en" or "auto"');
  const styles = [];
  let colorScheme;
  if (theme !== undefined) {
    if (theme === null || typeof theme !== 'object') fail('theme', 'must be an object');
    for (const [key, value] of Object.entries(theme)) {
      if (key === 'colorScheme') {
        if (!['light', 'dark', 'auto'].includes(value)) fail('theme.colorScheme', 'must be "light", "dark" or "auto"');
        colorScheme = value === 'auto' ? undefined : value;
      } else if (!(key in THEME)) {
        fail(`theme.${key}`, `is not a theme setting (${Object.keys(THEME).join(', ')}, colorScheme)`);
      } else if (key === 'radius' && typeof value === 'number' && value >= 0) {
        styles.push([THEME[key], `${value}px`]);
      } else if (typeof value !== 'string' || value === '') {
        fail(`theme.${key}`, 'must be a CSS value (a non-empty string)');
      } else {
        styles.push([THEME[key], value]);
      }
    }
  }
  for (const name of Object.keys(CALLBACKS)) {
    if (options[name] !== undefined && typeof options[name] !== 'function') fail(name, 'must be a function');
  }
  const { sessionData } = options;
  if (sessionData !== undefined && (sessionData === null || typeof sessionData !== 'object' || sessionData.id !== session || typeof sessionData.environment !== 'object')) {
    fail('sessionData', 'must be the GET /v1/sessions/{id} answer of this session, as your server read it');
  }
  return {
    endpoint: url.href.replace(/\/+$/, ''),
    session,
    clientSecret,
    locale: locale === 'auto' ? undefined : locale,
    styles,
    colorScheme,
  };
}

/** The `X-Edgepay-Hints` header, as the widget itself sends it (checkout-wasm `api::hints_here`). */
function browserHints() {
  const hints = { max_touch_points: navigator.maxTouchPoints };
  if (typeof window.__wxjs_environment === 'string') hints.wxjs_environment = window.__wxjs_environment;
  if (navigator.platform) hints.platform = navigator.platform;
  return JSON.stringify(hints);
}

/**
 * Mounts the widget into `element`. Returns a handle at once; `handle.ready` settles when the
 * widget has rendered. Throws an Error naming the option when an option is invalid.
 */
export function mount(element, options) {
  const opts = validate(element, options);
  const read = () => {
    const request = fetch(`${opts.endpoint}/v1/sessions/${opts.session}`, {
      mode: 'cors',
      headers: { Authorization: `Bearer ${opts.clientSecret}`, 'X-Edgepay-Hints': browserHints() },
    });
    request.catch(() => {}); // the widget reports it; never an unhandled rejection
    return request;
  };
  // The session request goes out now, while the WebAssembly downloads; the widget takes it over.
  // With `sessionData` (the session as the merchant's server read it with this shopper's
  // User-Agent) there is no request, unless this browser's hints place it elsewhere (an iPad in
  // desktop mode, a mini-program web-view): payment-core's detection decides, once loaded.
  const given = options.sessionData;
  const early = given ? null : read();

  for (const [name, value] of opts.styles) element.style.setProperty(name, value);
  if (opts.colorScheme) element.dataset.colorScheme = opts.colorScheme;
  const listeners = Object.entries(CALLBACKS)
    .filter(([name]) => options[name])
    .map(([name, type]) => {
      const callback = options[name];
      const listener = (event) => callback(event.detail);
      element.addEventListener(type, listener);
      return [type, listener];
    });

  let inner = null;
  let destroyed = false;
  const ready = load().then(() => {
    let prefetch = early;
    let sessionData;
    if (!prefetch) {
      const here = detectWasm(undefined, undefined);
      const there = given.environment;
      if (['environment', 'device', 'os'].every((k) => here[k] === there[k])) sessionData = given;
      else prefetch = read();
    }
    if (!destroyed) {
      // With `sessionData` the first render already shows the methods; in a list the server drew,
      // the method clicked and the button with the focus carry over.
      const focused = element.shadowRoot?.activeElement?.dataset?.method;
      inner = mountWasm(element, {
        endpoint: opts.endpoint,
        session: opts.session,
        clientSecret: opts.clientSecret,
        locale: opts.locale,
        prefetch,
        sessionData,
        clicked: clicked.get(element),
        focused,
      });
      mounted.add(element);
      clicked.delete(element);
    }
  });
  return {
    ready,
    refresh() {
      inner?.refresh();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      for (const [type, listener] of listeners) element.removeEventListener(type, listener);
      for (const [name] of opts.styles) element.style.removeProperty(name);
      if (opts.colorScheme) delete element.dataset.colorScheme;
      inner?.destroy();
      inner?.free();
      inner = null;
      mounted.delete(element);
    },
  };
}

/**
 * Where the shopper is and which methods work there: `{environment, device, os, methods, blocked}`.
 * Reads this browser when called without arguments.
 */
export async function detectEnvironment(userAgent, hints) {
  if (userAgent !== undefined && typeof userAgent !== 'string') fail('userAgent', 'must be a string');
  if (hints !== undefined && (hints === null || typeof hints !== 'object')) fail('hints', 'must be an object');
  await load();
  return detectWasm(userAgent, hints);
}

/** `<edgepay-checkout endpoint session client-secret locale>`: `mount` as an element. */
function defineElement() {
  if (typeof customElements === 'undefined' || customElements.get('edgepay-checkout')) return;
  class EdgepayCheckout extends HTMLElement {
    static observedAttributes = ['endpoint', 'session', 'client-secret', 'locale'];
    #handle = null;
    #queued = false;

    connectedCallback() {
      this.#schedule();
    }

    disconnectedCallback() {
      this.#handle?.destroy();
      this.#handle = null;
    }

    attributeChangedCallback() {
      if (this.isConnected) this.#schedule();
    }

    /** Settles when the widget has rendered. */
    get ready() {
      return this.#handle?.ready ?? Promise.resolve();
    }

    refresh() {
      this.#handle?.refresh();
    }

    // Attributes often change together: mount once, after the last of them.
    #schedule() {
      if (this.#queued) return;
      this.#queued = true;
      queueMicrotask(() => {
        this.#queued = false;
        this.#handle?.destroy();
        this.#handle = null;
        if (!this.isConnected) return;
        try {
          this.#handle = mount(this, {
            endpoint: this.getAttribute('endpoint') ?? '',
            session: this.getAttribute('session') ?? '',
            clientSecret: this.getAttribute('client-secret') ?? '',
            locale: this.getAttribute('locale') ?? undefined,
          });
        } catch (error) {
          // No caller to throw to: report it as the page's error, and tell listeners.
          const detail = { state: 'error', code: 'invalid_options', retryable: false, message: error.message };
          this.dispatchEvent(new CustomEvent('edgepay:failure', { detail, bubbles: true, composed: true }));
          if (typeof reportError === 'function') reportError(error);
          else console.error(error);
        }
      });
    }
  }
  customElements.define('edgepay-checkout', EdgepayCheckout);
}

defineElement();
