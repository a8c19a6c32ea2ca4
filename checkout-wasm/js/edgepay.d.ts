/** What the widget is showing (`data-edgepay-state` on its card, `detail.state` of its events). */
export type WidgetState =
  | 'loading'
  | 'methods'
  | 'processing'
  /** The QR code to scan with WeChat or Alipay on the phone, with a countdown. */
  | 'qr'
  /** The QR code expired before it was paid; a new one can be asked for. */
  | 'qr_expired'
  /** Going to the provider's page (redirect, form post, WeChat sign-in). */
  | 'redirecting'
  /** WeChat's payment sheet is open (JSAPI). */
  | 'bridge'
  /** Handed off to the mini-program's pay page. */
  | 'handoff'
  /** Back from the provider, or WeChat said ok: the worker is asked whether it is paid. */
  | 'checking'
  | 'failure'
  | 'offline'
  | 'unreachable'
  | 'error'
  | 'expired'
  | 'closed'
  | 'success';

/** Where the shopper is, as payment-core names it. */
export type EnvironmentName =
  | 'wechat_inapp'
  | 'wechat_miniprogram'
  | 'wechat_desktop'
  | 'wecom'
  | 'alipay_inapp'
  | 'mobile_browser'
  | 'desktop_browser';

/** A payment method, as payment-core names it. */
export type PaymentMethod =
  | 'wechat_jsapi'
  | 'wechat_h5'
  | 'wechat_native'
  | 'wechat_miniprogram'
  | 'alipay_wap'
  | 'alipay_page'
  | 'alipay_qr'
  | 'unionpay_wap'
  | 'unionpay_pc';

/** Why a method does not work where the shopper is. */
export type BlockReason =
  | 'blocked_in_wechat'
  | 'wechat_h5_refused_in_wechat'
  | 'needs_wechat'
  | 'not_in_alipay'
  | 'desktop_only'
  | 'mobile_only'
  | 'miniprogram_handoff_only'
  | 'needs_miniprogram';

/** `detail` of `edgepay:statechange`. */
export interface StateChangeDetail {
  state: WidgetState;
  /** The state before; absent for the first one. */
  previous?: WidgetState;
}

/** `detail` of `edgepay:success`: the worker says the session is paid. */
export interface SuccessDetail {
  state: 'success';
}

/**
 * `detail` of `edgepay:failure`: the widget shows a failure (a payment could not be started, the
 * session could not be loaded, or it expired). `code` is the worker's error code, or
 * `unreachable`, `bad_answer`, `session_expired`, `payment_failed` (the provider ended the attempt
 * unpaid), `wechat_pay_failed` (WeChat's payment sheet failed), `wechat_sign_in_failed` (back from
 * WeChat's sign-in still without the payer), `no_wechat_bridge` (no `WeixinJSBridge`), `no_miniprogram_sdk` (no `wx.miniProgram` on the page), `cannot_leave` (the
 * provider's page could not be opened), or, from `<edgepay-checkout>` only, `invalid_options`
 * with the `message` that `mount` would have thrown. When `retryable`, trying again may work.
 */
export interface FailureDetail {
  state: 'failure' | 'unreachable' | 'error' | 'expired';
  code: string;
  retryable: boolean;
  message?: string;
}

/** `detail` of `edgepay:cancel`: the shopper cancelled the payment being started, or closed WeChat's payment sheet. */
export interface CancelDetail {
  method: PaymentMethod;
}

/**
 * Colours, radius and font of the widget: each sets a CSS custom property on the host element
 * (`accent` → `--ep-accent`, …), which a style sheet of the page may also set directly.
 */
export interface Theme {
  /** Primary buttons and highlights. */
  accent?: string;
  /** Text on `accent`. */
  accentText?: string;
  background?: string;
  text?: string;
  mutedText?: string;
  /** Background of hovered and unavailable methods. */
  surface?: string;
  border?: string;
  danger?: string;
  /** Focus ring. */
  focus?: string;
  /** Corner radius: a CSS length, or a number of pixels. */
  radius?: string | number;
  font?: string;
  /** Light or dark whatever the system says; `auto` (default) follows `prefers-color-scheme`. */
  colorScheme?: 'light' | 'dark' | 'auto';
}

/** Options of {@link mount}. */
export interface MountOptions {
  /** Base URL of the edgepay worker, e.g. "https://pay.example.com". */
  endpoint: string;
  /** The session id (`id` of `POST /v1/sessions`, made by your server). */
  session: string;
  /** The session's `client_secret` (from your server; it can only read and pay this session). */
  clientSecret: string;
  /** Language of the widget; the browser's language when omitted or `auto`. */
  locale?: 'zh-CN' | 'en' | 'auto';
  theme?: Theme;
  /** On every change of state (also `edgepay:statechange` on the element). */
  onStateChange?: (detail: StateChangeDetail) => void;
  /** When the session is paid (also `edgepay:success`). */
  onSuccess?: (detail: SuccessDetail) => void;
  /** When the widget shows a failure (also `edgepay:failure`). */
  onFailure?: (detail: FailureDetail) => void;
  /** When the shopper cancels a payment (also `edgepay:cancel`). */
  onCancel?: (detail: CancelDetail) => void;
  /**
   * The session as your server read it for this shopper: the JSON answer of
   * `GET /v1/sessions/{id}` with the client secret and the shopper's `User-Agent`. The widget then
   * renders without asking the worker first, unless this browser's hints place it elsewhere (an
   * iPad in desktop mode, a mini-program web-view), where it asks as usual. Only the display comes
   * from it: every payment is still started and confirmed by the worker.
   */
  sessionData?: { id: string; environment: { environment: string; device: string; os: string }; [key: string]: unknown };
}

/** A mounted widget. */
export interface WidgetHandle {
  /** Settles once the widget has rendered (rejects if the WebAssembly could not load or mount). */
  readonly ready: Promise<void>;
  /** Reloads the session from the worker. */
  refresh(): void;
  /** Removes the widget, its callbacks and its theme from the element. */
  destroy(): void;
}

/**
 * Mounts the checkout widget into `element` (in a shadow root). Throws an Error whose message
 * names the option when one is invalid.
 */
export function mount(element: Element, options: MountOptions): WidgetHandle;

/**
 * Starts downloading and compiling the widget's WebAssembly now (once per page), so that a later
 * {@link mount} renders at once. Call it early, e.g. from an `async` module script in `<head>`,
 * when the page learns its session late. Resolves when the WebAssembly is ready.
 */
export function preload(): Promise<void>;

/** Facts only the browser knows, as `navigator` and WeChat's JS-SDK tell them. */
export interface ClientHints {
  /** `navigator.maxTouchPoints` (an iPad sends a Mac User-Agent, but has touch points). */
  maxTouchPoints?: number;
  /** `window.__wxjs_environment` (`"miniprogram"` in a mini-program web-view). */
  wxjsEnvironment?: string;
  /** `navigator.platform`, used when the User-Agent names no operating system. */
  platform?: string;
}

/** What {@link detectEnvironment} found. */
export interface DetectedEnvironment {
  environment: EnvironmentName;
  device: 'phone' | 'tablet' | 'desktop';
  os: 'Android' | 'iOS' | 'iPadOS' | 'HarmonyOS' | 'Windows' | 'macOS' | 'ChromeOS' | 'Linux' | 'unknown';
  /** The methods that work there, the likeliest first. */
  methods: PaymentMethod[];
  /** Every other method, and why it does not work there. */
  blocked: { method: PaymentMethod; reason: BlockReason }[];
}

/**
 * Where the shopper is and which methods work there, by payment-core's rules (the same the worker
 * applies, before any narrowing by a session). Without arguments it reads this browser
 * (`navigator.userAgent`, `navigator.maxTouchPoints`, `window.__wxjs_environment`,
 * `navigator.platform`); with a User-Agent, only what it is given. Resolves once the WebAssembly
 * has loaded.
 */
export function detectEnvironment(userAgent?: string, hints?: ClientHints): Promise<DetectedEnvironment>;

/**
 * `<edgepay-checkout endpoint="…" session="…" client-secret="…" locale="…">`: {@link mount} as a
 * custom element, defined when this module is imported. It remounts when an attribute changes,
 * dispatches the same `edgepay:*` events, and reports invalid attributes as an `edgepay:failure`
 * with `code: "invalid_options"` plus the page's error event.
 */
export interface EdgepayCheckoutElement extends HTMLElement {
  readonly ready: Promise<void>;
  refresh(): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'edgepay-checkout': EdgepayCheckoutElement;
  }
  interface HTMLElementEventMap {
    'edgepay:statechange': CustomEvent<StateChangeDetail>;
    'edgepay:success': CustomEvent<SuccessDetail>;
    'edgepay:failure': CustomEvent<FailureDetail>;
    'edgepay:cancel': CustomEvent<CancelDetail>;
  }
}
