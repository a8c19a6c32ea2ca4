// The sandbox's fake WeixinJSBridge in headless Chromium, as the widget's JSAPI journeys will use
// it: injected into a page with a WeChat User-Agent, getBrandWCPayRequest really pays the sandbox
// order when paySign is valid, and answers cancel/fail or refuses a tampered paySign without paying.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../scripts/stack.mjs';
import { launchChromium, USER_AGENTS } from './browser.mjs';
import { jsapiParams, wechatAuthorization } from './sandbox-client.mjs';

let sandbox;
let browser;

before(async () => {
  sandbox = await startSandbox({ name: 'bridge-test' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
});

/** A JSAPI order at the sandbox, created the way a merchant does; resolves with its prepay id. */
async function jsapiOrder(no) {
  const w = sandbox.keys.wechatpay;
  const body = JSON.stringify({
    appid: w.appid,
    mchid: w.mchid,
    description: '凤凰单丛 250 g',
    out_trade_no: no,
    notify_url: 'http://127.0.0.1:9/notify',
    amount: { total: 6800, currency: 'CNY' },
    payer: { openid: 'oSandboxBridgeTest0001' },
  });
  const target = '/v3/pay/transactions/jsapi';
  const response = await fetch(`${sandbox.url}${target}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: wechatAuthorization(sandbox.keys, 'POST', target, body) },
    body,
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()).prepay_id;
}

async function orderStatus(no) {
  return (await (await fetch(`${sandbox.url}/sandbox/control/orders/wechatpay/${no}`)).json()).status;
}

/** Opens a page in WeChat on an iPhone with the bridge injected; invokes getBrandWCPayRequest. */
async function invoke(params, answer) {
  const context = await browser.newContext({ userAgent: USER_AGENTS.wechatIphone });
  try {
    const page = await context.newPage();
    await page.goto(`${sandbox.url}/health`);
    await page.addScriptTag({ url: `${sandbox.url}/sandbox/bridge.js` });
    return await page.evaluate(
      ([p, a]) =>
        new Promise((resolve) => {
          if (a) window.__edgepaySandboxBridge = a;
          window.WeixinJSBridge.invoke('getBrandWCPayRequest', p, resolve);
        }),
      [params, answer],
    );
  } finally {
    await context.close();
  }
}

test('a valid paySign pays the order: get_brand_wcpay_request:ok', async () => {
  const no = `BRIDGEOK${Date.now()}`;
  const params = jsapiParams(sandbox.keys, await jsapiOrder(no));
  const result = await invoke(params);
  assert.equal(result.err_msg, 'get_brand_wcpay_request:ok');
  assert.equal(await orderStatus(no), 'paid');
});

test('the shopper cancelling or failing pays nothing', async () => {
  for (const answer of ['cancel', 'fail']) {
    const no = `BRIDGE${answer.toUpperCase()}${Date.now()}`;
    const result = await invoke(jsapiParams(sandbox.keys, await jsapiOrder(no)), answer);
    assert.equal(result.err_msg, `get_brand_wcpay_request:${answer}`);
    assert.equal(await orderStatus(no), 'pending');
  }
});

test('a tampered paySign is refused, as WeChat does, and pays nothing', async () => {
  const no = `BRIDGEBAD${Date.now()}`;
  const params = jsapiParams(sandbox.keys, await jsapiOrder(no));
  const tampered = { ...params, timeStamp: String(Number(params.timeStamp) + 1) };
  const result = await invoke(tampered);
  assert.equal(result.err_msg, 'get_brand_wcpay_request:fail');
  assert.equal(await orderStatus(no), 'pending');
});

test('outside WeChat the bridge does not exist', async () => {
  const context = await browser.newContext({ userAgent: USER_AGENTS.desktop });
  const page = await context.newPage();
  await page.goto(`${sandbox.url}/health`);
  await page.addScriptTag({ url: `${sandbox.url}/sandbox/bridge.js` });
  assert.equal(await page.evaluate(() => typeof window.WeixinJSBridge), 'undefined');
  await context.close();
});
