/*
 * edgepay sandbox: a fake WeixinJSBridge and AlipayJSBridge, TEST ONLY.
 *
 * A browser test injects this into a page whose User-Agent is WeChat's (`MicroMessenger/`) or
 * Alipay's (`AlipayClient/`), e.g. playwright `page.addInitScript({ content })` with the text of
 * GET /sandbox/bridge.js, or a `<script src=".../sandbox/bridge.js">`. Like the real bridges, each
 * exists only inside its app: with another User-Agent this script defines nothing.
 *
 * WeixinJSBridge.invoke('getBrandWCPayRequest', {appId, timeStamp, nonceStr, package, signType,
 * paySign}, callback) posts the parameters to the sandbox, which checks paySign with the merchant's
 * public key, the appId and the prepay id, and pays the order; callback gets
 * {err_msg: 'get_brand_wcpay_request:ok'}. Set window.__edgepaySandboxBridge = 'cancel' or 'fail'
 * beforehand to answer ':cancel' / ':fail' without paying. Bad parameters answer ':fail' with
 * err_desc, as WeChat's "支付验证签名失败" does. 'WeixinJSBridgeReady' fires on document once the
 * page has loaded.
 *
 * AlipayJSBridge is a stub that fires 'AlipayJSBridgeReady': Alipay wap pay in the Alipay app just
 * navigates to the cashier.
 */
(function () {
  'use strict';
  var SANDBOX = '__EDGEPAY_SANDBOX_URL__';
  var ua = (typeof navigator !== 'undefined' && navigator.userAgent) || '';

  function whenLoaded(fire) {
    if (document.readyState === 'complete') {
      setTimeout(fire, 0);
    } else {
      window.addEventListener('load', function () { setTimeout(fire, 0); });
    }
  }

  function fireOnDocument(name) {
    whenLoaded(function () {
      var event;
      try {
        event = new Event(name, { bubbles: true });
      } catch (e) {
        event = document.createEvent('Event');
        event.initEvent(name, true, false);
      }
      document.dispatchEvent(event);
    });
  }

  if (/MicroMessenger\//i.test(ua) && !window.WeixinJSBridge) {
    var reply = function (callback, result) {
      if (typeof callback === 'function') {
        setTimeout(function () { callback(result); }, 0);
      }
    };
    window.WeixinJSBridge = {
      invoke: function (name, params, callback) {
        if (name !== 'getBrandWCPayRequest') {
          reply(callback, { err_msg: name + ':fail_not_supported_by_sandbox' });
          return;
        }
        var answer = window.__edgepaySandboxBridge === 'cancel' || window.__edgepaySandboxBridge === 'fail'
          ? window.__edgepaySandboxBridge
          : 'ok';
        fetch(SANDBOX + '/sandbox/bridge/wechat/pay?answer=' + answer, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(params || {}),
        })
          .then(function (response) { return response.json(); })
          .then(function (result) { reply(callback, result); })
          .catch(function (error) {
            reply(callback, { err_msg: 'get_brand_wcpay_request:fail', err_desc: String(error) });
          });
      },
      call: function (name, params, callback) {
        reply(typeof params === 'function' ? params : callback, { err_msg: name + ':fail_not_supported_by_sandbox' });
      },
      on: function () {},
    };
    fireOnDocument('WeixinJSBridgeReady');
  }

  if (/AlipayClient\//i.test(ua) && !window.AlipayJSBridge) {
    window.AlipayJSBridge = {
      call: function (name, params, callback) {
        var done = typeof params === 'function' ? params : callback;
        if (typeof done === 'function') {
          setTimeout(function () { done({ error: 1, errorMessage: name + ' is not supported by the sandbox' }); }, 0);
        }
      },
    };
    fireOnDocument('AlipayJSBridgeReady');
  }
})();
