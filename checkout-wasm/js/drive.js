// What the browser does with the worker's next action, for the widget (checkout-wasm `drive.rs`):
// plain DOM and JS-bridge calls, smaller as JS than as wasm. Each reports whether it could start.

/** Sends the browser to `url`. */
export function go(url) {
  try {
    location.assign(url);
    return true;
  } catch {
    return false;
  }
}

/** Builds the form `[[name, value], …]` in the page (outside the widget) and submits it. */
export function submit(action, method, fields) {
  try {
    const form = document.createElement('form');
    form.action = action;
    form.method = method;
    form.acceptCharset = 'utf-8';
    form.hidden = true;
    for (const [name, value] of fields) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    form.submit();
    return true;
  } catch {
    return false;
  }
}

/**
 * `WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback)`, after `WeixinJSBridgeReady`
 * (up to `waitMs`) when the bridge is not there yet. Resolves with how WeChat's sheet closed:
 * 'ok' (a hint, to be confirmed), 'cancel', 'fail', or 'none' without a bridge.
 */
export function wechatPay(params, waitMs) {
  return new Promise((resolve) => {
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      const bridge = window.WeixinJSBridge;
      if (!bridge || typeof bridge.invoke !== 'function') return resolve('none');
      try {
        bridge.invoke('getBrandWCPayRequest', params, (answer) => {
          const outcome = String(answer?.err_msg ?? '').split(':').pop();
          resolve(outcome === 'ok' || outcome === 'cancel' ? outcome : 'fail');
        });
      } catch {
        resolve('fail');
      }
    };
    if (window.WeixinJSBridge) return start();
    document.addEventListener('WeixinJSBridgeReady', start, { once: true });
    setTimeout(start, waitMs);
  });
}

/** `wx.miniProgram.navigateTo({url: path})` with the host page's WeChat JS-SDK. */
export function miniprogram(path) {
  const mini = window.wx?.miniProgram;
  if (typeof mini?.navigateTo !== 'function') return false;
  try {
    mini.navigateTo({ url: path });
    return true;
  } catch {
    return false;
  }
}
