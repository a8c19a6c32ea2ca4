/** Options of {@link mount}. */
export interface MountOptions {
  /** Base URL of the edgepay worker, e.g. "https://pay.example.com". */
  endpoint: string;
  /** Language of the widget; the browser's language when omitted. */
  locale?: 'zh-CN' | 'en';
}

/** A mounted widget. */
export interface WidgetHandle {
  /** Settles once the widget has rendered (rejects if the WebAssembly could not load). */
  readonly ready: Promise<void>;
  /** Reloads what the widget shows from the worker. */
  refresh(): void;
  /** Removes the widget. */
  destroy(): void;
}

/** Mounts the checkout widget into `element`. Throws an Error naming the option when one is invalid. */
export function mount(element: Element, options: MountOptions): WidgetHandle;
