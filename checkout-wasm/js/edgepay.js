// edgepay checkout widget: the ES module a web developer imports.
//   import { mount } from './edgepay.js';
//   const handle = mount(document.getElementById('checkout'), { endpoint: 'https://pay.example.com' });
import init, { mount as mountWasm } from './checkout_wasm.js';

let loading;

function load() {
  loading ??= init({ module_or_path: new URL('./checkout_wasm_bg.wasm', import.meta.url) });
  return loading;
}

function fail(option, why) {
  throw new Error(`edgepay: option "${option}" ${why}`);
}

function validate(element, options) {
  if (!(element instanceof Element)) fail('element', 'must be a DOM Element');
  if (options === null || typeof options !== 'object') fail('options', 'must be an object');
  const { endpoint, locale } = options;
  if (typeof endpoint !== 'string' || endpoint === '') fail('endpoint', 'is required (the worker URL)');
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    fail('endpoint', 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('endpoint', 'must be an http(s) URL');
  if (locale !== undefined && locale !== 'zh-CN' && locale !== 'en') fail('locale', 'must be "zh-CN" or "en"');
  return { endpoint: url.href.replace(/\/+$/, ''), locale };
}

/**
 * Mounts the widget into `element`. Returns a handle at once; `handle.ready` settles when the
 * widget has rendered. Throws an Error naming the option when an option is invalid.
 */
export function mount(element, options) {
  const opts = validate(element, options);
  let inner = null;
  let destroyed = false;
  const ready = load().then(() => {
    if (!destroyed) inner = mountWasm(element, opts);
  });
  return {
    ready,
    refresh() {
      inner?.refresh();
    },
    destroy() {
      destroyed = true;
      inner?.destroy();
      inner?.free();
      inner = null;
    },
  };
}
