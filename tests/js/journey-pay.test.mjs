// Payment journeys: a shopper in headless Chromium on the demo shop, served by the real stack
// (sandbox, worker under wrangler dev, demo shop), pays with every method where it works, to a
// session the worker reports paid; plus cancel, failure, QR expiry, an unreachable worker and a
// provider error. One stack for the whole file. Screenshots under .state/screenshots/journey-*.
//
// The demo shop makes a new session for every page view. A real shop page brings the shopper back
// to the order they were paying; here each test pins its first page view (the same HTML, so the
// same session) for the shopper's return from the provider's pages. Playwright routes only the
// first request of a navigation, not its redirects: the redirects that lead back to the shop (the
// sandbox's WeChat sign-in and cashier buttons, then the worker's OAuth callback) are followed here
// one by one, and the last hop to the shop page is made a navigation of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../scripts/stack.mjs';
import { launchChromium, USER_AGENTS } from './browser.mjs';
import { audit, card, focused, shoot, waitForState } from './widget.mjs';

const DESKTOP = { userAgent: USER_AGENTS.desktop, locale: 'en-US', viewport: { width: 1100, height: 800 } };
const PHONE = {
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
};
const WECHAT = { ...PHONE, userAgent: USER_AGENTS.wechatIphone };
const ALIPAY = {
  ...PHONE,
  userAgent:
    'Mozilla/5.0 (Linux; U; Android 13; zh-CN; V2183A Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/105.0.5195.148 Mobile Safari/537.36 UCBS/3.22.2.49_230419171021 AlipayClient/10.3.86.8000 Language/zh-Hans',
};
const MINIPROGRAM = {
  ...PHONE,
  userAgent: `${USER_AGENTS.wechatIphone} miniProgram/wx1234567890abcdef`,
};

let stack;
let browser;
let bridgeScript;
/** A desktop QR left to expire (the session, and so its QR code, lives 60 s): opened first, checked last. */
let expiring;

before(async () => {
  stack = await startStack({ name: 'journey-pay' });
  browser = await launchChromium();
  bridgeScript = await (await fetch(`${stack.sandboxUrl}/sandbox/bridge.js`)).text();
  expiring = await openShop(DESKTOP, { query: '?expires_in=60' });
  await waitForState(expiring.page, 'methods');
  await choose(expiring.page, 'wechat_native');
  await waitForState(expiring.page, 'qr');
  expiring.openedAt = Date.now();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * A new browser context on the shop page. Returns the page, its session and client secret, the
 * widget's outcomes as the host page heard them, page errors, and the worker's answers to `pay`.
 */
async function openShop(contextOptions, { query = '', init } = {}) {
  // The pinned page comes from Playwright, not from a loopback server: Chromium then counts it as
  // a public page, and lets it call the loopback worker only with this permission.
  const context = await browser.newContext({ ...contextOptions, permissions: ['local-network-access'] });
  const page = await context.newPage();
  const errors = [];
  const actions = [];
  page.on('pageerror', (err) => errors.push(err.message));
  // The worker's answers to pay, read on the way through (the page may be gone before it could).
  await context.route(
    (url) => url.href.startsWith(stack.workerUrl) && url.pathname.endsWith('/pay'),
    async (route) => {
      const response = await route.fetch();
      actions.push(await response.json());
      await route.fulfill({ response });
    },
  );
  await context.addInitScript(() => {
    // What the host page hears: its callbacks are the same events (see journey.test.mjs).
    window.__heard = [];
    for (const type of ['edgepay:success', 'edgepay:failure', 'edgepay:cancel']) {
      document.addEventListener(type, (event) => window.__heard.push({ type, ...event.detail }), true);
    }
  });
  if (init) await context.addInitScript(init);
  const shop = new URL(stack.shopUrl);
  const response = await page.goto(`${stack.shopUrl}/${query}`);
  const html = await response.text();
  // The shopper's way back to the page they were paying on shows the same session.
  await context.route(
    (url) => url.origin === shop.origin && url.pathname === '/',
    (route) => (route.request().method() === 'GET' ? route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }) : route.continue()),
  );
  await context.route(
    (url) => url.href.startsWith(stack.sandboxUrl) && (url.pathname === '/connect/oauth2/authorize' || /^\/sandbox\/cashier\/\w+\/\w+\/\w+$/.test(url.pathname)),
    async (route) => {
      let response = await route.fetch({ maxRedirects: 0 });
      let location = response.headers().location;
      while (location && !location.startsWith(stack.shopUrl)) {
        response = await context.request.get(new URL(location, response.url()).href, { maxRedirects: 0 });
        location = response.headers().location;
      }
      if (!location) return route.fulfill({ response });
      await route.fulfill({ status: 200, contentType: 'text/html', body: `<!doctype html><script>location.replace(${JSON.stringify(location)})</script>` });
    },
  );
  const checkout = page.locator('#checkout');
  const session = await checkout.getAttribute('data-session');
  const clientSecret = await checkout.getAttribute('data-client-secret');
  assert.match(session, /^cs_[a-z2-7]{24}$/);
  return { context, page, errors, actions, session, clientSecret, shopPage: `${stack.shopUrl}/${query}` };
}

function choose(page, method) {
  return card(page).locator(`button.ep-method[data-method="${method}"]`).click();
}

/** The session as the worker reports it. */
async function workerSession({ session, clientSecret }) {
  const response = await fetch(`${stack.workerUrl}/v1/sessions/${session}`, { headers: { authorization: `Bearer ${clientSecret}` } });
  assert.equal(response.status, 200);
  return response.json();
}

/** What the host page heard (success/failure/cancel events, which its callbacks also get). */
const heard = (page) => page.evaluate(() => window.__heard);

/** The widget says paid, tells the host, moves focus to it, and the worker agrees. */
async function assertPaid(shop, label) {
  const { page } = shop;
  await waitForState(page, 'success', { timeout: 30_000 });
  assert.equal(await card(page).locator('.ep-msg').textContent(), /zh/.test(await card(page).getAttribute('lang')) ? '支付成功' : 'Payment complete');
  assert.equal(await card(page).locator('[role="status"]').textContent(), await card(page).locator('.ep-msg').textContent(), 'announced');
  assert.equal((await focused(page))?.className, 'ep-msg', 'focus moves to the outcome');
  await page.waitForFunction(() => window.__heard.some((e) => e.type === 'edgepay:success'));
  assert.equal((await workerSession(shop)).status, 'paid', `${label}: the worker reports the session paid`);
  await audit(page, `success (${label})`);
  assert.deepEqual(shop.errors, []);
}

/** Presses a button of the sandbox cashier page `page` is on. */
async function cashier(page, action) {
  await page.locator(`button[value="${action}"]`).click();
}

test('desktop → WeChat Native: the QR code with amount and countdown, paid on the sandbox scan page, success at once', async () => {
  const shop = await openShop(DESKTOP);
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'wechat_native');
  await waitForState(page, 'qr');
  const code = card(page).locator('svg.ep-code');
  assert.equal(await code.getAttribute('role'), 'img');
  assert.equal(await code.getAttribute('aria-label'), 'Payment QR code · WeChat Pay QR code · ¥68.00 · Scan with WeChat on your phone');
  assert.ok((await code.locator('path').getAttribute('d')).length > 500, 'the code is drawn');
  assert.equal(await card(page).locator('.ep-qr-amount').textContent(), '¥68.00');
  assert.match(await card(page).locator('.ep-countdown').textContent(), /^Code expires in (29|30):\d\d$/);
  assert.equal((await focused(page))?.className, 'ep-msg');
  await audit(page, 'qr');
  await shoot(page, 'journey-desktop-qr');
  const [action] = shop.actions;
  assert.equal(action.type, 'qr');
  assert.match(action.data, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
  assert.equal((await workerSession(shop)).status, 'processing');

  // The shopper's phone scans the code: the sandbox's scan page opens its cashier.
  const phone = await shop.context.newPage();
  await phone.goto(`${stack.sandboxUrl}/sandbox/scan?data=${encodeURIComponent(action.data)}`);
  await phone.locator('[data-amount-fen="6800"]').waitFor();
  const clicked = Date.now();
  await cashier(phone, 'pay');
  await assertPaid(shop, 'WeChat Native');
  const seconds = (Date.now() - clicked) / 1000;
  assert.ok(seconds < 6, `success ${seconds} s after paying`);
  await shoot(page, 'journey-desktop-success');
  await shop.context.close();
});

test('desktop → Alipay QR: the precreated code, paid on the sandbox scan page', async () => {
  const shop = await openShop({ ...DESKTOP, locale: 'zh-CN' });
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'alipay_qr');
  await waitForState(page, 'qr');
  assert.equal(await card(page).locator('svg.ep-code').getAttribute('aria-label'), '支付二维码 · 支付宝扫码支付 · ¥68.00 · 用手机支付宝扫码');
  assert.match(await card(page).locator('.ep-countdown').textContent(), /^二维码有效时间 (29|30):\d\d$/);
  const phone = await shop.context.newPage();
  await phone.goto(`${stack.sandboxUrl}/sandbox/scan?data=${encodeURIComponent(shop.actions[0].data)}`);
  await cashier(phone, 'pay');
  await assertPaid(shop, 'Alipay QR');
  await shop.context.close();
});

test('desktop → Alipay page pay: the browser goes to Alipay; back on the page, "checking payment…", then paid', async () => {
  const shop = await openShop(DESKTOP);
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'alipay_page');
  await page.waitForURL((url) => url.href.startsWith(stack.sandboxUrl));
  assert.equal(shop.actions[0].type, 'redirect');
  await cashier(page, 'pay');
  // Back to the shop page: the widget finds the payment it was left for.
  await page.goto(shop.shopPage);
  await assertPaid(shop, 'Alipay page');
});

test('desktop → UnionPay PC: the widget posts the form to the gateway; back on the page, paid', async () => {
  const shop = await openShop(DESKTOP);
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'unionpay_pc');
  await page.waitForURL((url) => url.href.startsWith(stack.sandboxUrl));
  assert.equal(shop.actions[0].type, 'form');
  assert.equal(shop.actions[0].method, 'POST');
  await cashier(page, 'pay');
  // UnionPay posts its front notification to the worker's page (the shop gave no return_url).
  await page.waitForURL(`${stack.workerUrl}/v1/unionpay/return`);
  await page.goto(shop.shopPage);
  await assertPaid(shop, 'UnionPay PC');
});

test('phone browser → WeChat H5: to the WeChat cashier and back; "checking payment…" with "I have paid" / "pay again"', async () => {
  const shop = await openShop(PHONE);
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'wechat_h5');
  await page.waitForURL((url) => url.href.startsWith(stack.sandboxUrl));
  assert.equal(shop.actions[0].type, 'redirect');
  assert.match(shop.actions[0].url, /redirect_url=/);
  const outTradeNo = new URL(page.url()).pathname.split('/').at(-1);
  // The shopper switches back before WeChat has taken the money: WeChat's cashier sends them back.
  await cashier(page, 'cancel');
  await page.waitForURL((url) => url.href.startsWith(stack.shopUrl));
  await waitForState(page, 'checking');
  assert.equal(await card(page).locator('.ep-msg').textContent(), '正在确认支付结果…');
  assert.deepEqual(await card(page).locator('.ep-actions button').allTextContents(), ['我已支付', '重新支付']);
  assert.equal((await focused(page))?.className, 'ep-msg');
  await audit(page, 'checking');
  await shoot(page, 'journey-phone-checking');
  // Paid in WeChat meanwhile; "I have paid" asks the worker, which asks WeChat.
  const paid = await fetch(`${stack.sandboxUrl}/sandbox/control/orders/wechatpay/${outTradeNo}/pay`, { method: 'POST' });
  assert.equal(paid.status, 200);
  await card(page).getByRole('button', { name: '我已支付' }).click().catch(() => {});
  await assertPaid(shop, 'WeChat H5');
  await shoot(page, 'journey-phone-success');
});

test('phone browser → WeChat H5, back without paying: "pay again" returns to the list', async () => {
  const shop = await openShop(PHONE);
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'wechat_h5');
  await page.waitForURL((url) => url.href.startsWith(stack.sandboxUrl));
  await cashier(page, 'cancel');
  await waitForState(page, 'checking');
  await card(page).getByRole('button', { name: '重新支付' }).click();
  await waitForState(page, 'methods');
  assert.equal((await focused(page))?.method, 'wechat_h5');
  // Forgotten: a reload shows the list, not "checking".
  await page.goto(shop.shopPage);
  await waitForState(page, 'methods');
  await shop.context.close();
});

test('phone browser → Alipay wap', async () => {
  const shop = await openShop(PHONE);
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'alipay_wap');
  await page.waitForURL((url) => url.href.startsWith(stack.sandboxUrl));
  await cashier(page, 'pay');
  await page.goto(shop.shopPage);
  await assertPaid(shop, 'Alipay wap (phone)');
});

test('Alipay app → Alipay wap', async () => {
  const shop = await openShop(ALIPAY, { init: bridgeScript });
  const { page } = shop;
  await waitForState(page, 'methods');
  assert.equal(await card(page).getAttribute('data-environment'), 'alipay_inapp');
  assert.equal(await card(page).locator('button.ep-method').first().getAttribute('data-method'), 'alipay_wap');
  await choose(page, 'alipay_wap');
  await page.waitForURL((url) => url.href.startsWith(stack.sandboxUrl));
  await cashier(page, 'pay');
  await page.goto(shop.shopPage);
  await assertPaid(shop, 'Alipay wap (Alipay app)');
});

test('WeChat → OAuth sign-in, back to the page, JSAPI through WeixinJSBridge, confirmed by the worker', async () => {
  const shop = await openShop(WECHAT, { init: bridgeScript });
  const { page } = shop;
  await waitForState(page, 'methods');
  await shoot(page, 'journey-wechat-methods');
  await choose(page, 'wechat_jsapi');
  // WeChat's sign-in (snsapi_base) goes through the sandbox and the worker back to this page,
  // where the widget pays again with the payer now known, and WeChat's sheet opens.
  await waitForState(page, 'success', { timeout: 30_000 });
  assert.deepEqual(shop.actions.map((a) => a?.type), ['oauth', 'jsapi']);
  assert.equal(new URL(page.url()).origin, new URL(stack.shopUrl).origin);
  await assertPaid(shop, 'WeChat JSAPI');
  await shoot(page, 'journey-wechat-success');
});

test('WeChat: closing the payment sheet returns to the list (cancel); a failing sheet says why', async () => {
  // Each page signs in with WeChat first (OAuth), then the sheet opens and answers as set.
  const cancelling = await openShop(WECHAT, { init: `${bridgeScript};window.__edgepaySandboxBridge='cancel';` });
  await waitForState(cancelling.page, 'methods');
  await choose(cancelling.page, 'wechat_jsapi');
  await cancelling.page.waitForFunction(() => window.__heard.some((e) => e.type === 'edgepay:cancel'), null, { timeout: 30_000 });
  await waitForState(cancelling.page, 'methods');
  assert.equal((await focused(cancelling.page))?.method, 'wechat_jsapi', 'focus back on the method');
  assert.deepEqual((await heard(cancelling.page)).find((e) => e.type === 'edgepay:cancel'), { type: 'edgepay:cancel', method: 'wechat_jsapi' });

  const failing = await openShop(WECHAT, { init: `${bridgeScript};window.__edgepaySandboxBridge='fail';` });
  await waitForState(failing.page, 'methods');
  await choose(failing.page, 'wechat_jsapi');
  await waitForState(failing.page, 'failure', { timeout: 30_000 });
  assert.equal(await card(failing.page).locator('.ep-msg').textContent(), '微信支付未能完成，请重试或选择其他支付方式。');
  assert.deepEqual(await card(failing.page).locator('.ep-actions button').allTextContents(), ['重试', '选择其他支付方式']);
  assert.ok((await heard(failing.page)).some((e) => e.type === 'edgepay:failure' && e.code === 'wechat_pay_failed'));
  await audit(failing.page, 'failure (WeChat sheet)');
  await shoot(failing.page, 'journey-wechat-failure');
  for (const s of [cancelling, failing]) await s.context.close();
});

test('mini-program web-view → hand-off: wx.miniProgram.navigateTo gets the worker\'s path', async () => {
  const init = () => {
    window.__wxjs_environment = 'miniprogram';
    window.__navigatedTo = [];
    window.wx = { miniProgram: { navigateTo: (options) => window.__navigatedTo.push(options.url) } };
  };
  const shop = await openShop(MINIPROGRAM, { init });
  const { page } = shop;
  await waitForState(page, 'methods');
  assert.equal(await card(page).getAttribute('data-environment'), 'wechat_miniprogram');
  await choose(page, 'wechat_miniprogram');
  await waitForState(page, 'handoff');
  const [action] = shop.actions;
  assert.equal(action.type, 'miniprogram');
  assert.equal(action.path, `/pages/edgepay/pay?session_id=${shop.session}`);
  assert.deepEqual(await page.evaluate(() => window.__navigatedTo), [action.path]);
  await audit(page, 'handoff');
  await shoot(page, 'journey-miniprogram-handoff');

  // Without the host page's JS-SDK the widget cannot hand off, and says so.
  const bare = await openShop(MINIPROGRAM, { init: () => (window.__wxjs_environment = 'miniprogram') });
  await waitForState(bare.page, 'methods');
  await choose(bare.page, 'wechat_miniprogram');
  await waitForState(bare.page, 'failure');
  assert.equal(await card(bare.page).locator('.ep-msg').textContent(), '无法跳转到小程序支付，请返回小程序后重试。');
  for (const s of [shop, bare]) await s.context.close();
});

test('a payment that fails at the provider (QR scanned, then refused) shows the failure and lets the shopper try again', async () => {
  const shop = await openShop(DESKTOP);
  const { page } = shop;
  await waitForState(page, 'methods');
  await choose(page, 'wechat_native');
  await waitForState(page, 'qr');
  const phone = await shop.context.newPage();
  await phone.goto(`${stack.sandboxUrl}/sandbox/scan?data=${encodeURIComponent(shop.actions[0].data)}`);
  await cashier(phone, 'fail');
  await waitForState(page, 'failure', { timeout: 30_000 });
  assert.equal(await card(page).locator('.ep-msg').textContent(), "The payment didn't go through and nothing was charged. Try again or choose another method.");
  assert.equal((await workerSession(shop)).status, 'open');
  // Try again: a new code.
  await card(page).getByRole('button', { name: 'Try again' }).click();
  await waitForState(page, 'qr');
  assert.equal(shop.actions.length, 2);
  assert.notEqual(shop.actions[1].data, shop.actions[0].data);
  await shop.context.close();
});

test('the worker unreachable when paying: a sentence and a retry; a provider error: its sentence', async () => {
  const shop = await openShop({ ...DESKTOP, locale: 'zh-CN' });
  const { page } = shop;
  await waitForState(page, 'methods');
  await page.route(`${stack.workerUrl}/v1/sessions/*/pay`, (route) => route.abort('connectionrefused'));
  await choose(page, 'wechat_native');
  await waitForState(page, 'failure');
  assert.equal(await card(page).locator('.ep-msg').textContent(), '无法连接支付服务，请检查网络后重试。');
  await shoot(page, 'journey-pay-unreachable');
  await page.unroute(`${stack.workerUrl}/v1/sessions/*/pay`);

  // The provider answers 500 to the next call: the worker says provider_unavailable.
  const faults = await fetch(`${stack.sandboxUrl}/sandbox/control/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    // Only the order creation: a background query of an earlier test's session must not take it.
    body: JSON.stringify({ fail_next: 1, fault_path: '/v3/pay/transactions/native' }),
  });
  assert.equal(faults.status, 200);
  await card(page).getByRole('button', { name: '重试' }).click();
  // From one failure to the next: wait for the new sentence.
  await card(page).locator('.ep-msg', { hasText: '支付机构' }).waitFor({ timeout: 20_000 });
  await waitForState(page, 'failure');
  assert.equal(await card(page).locator('.ep-msg').textContent(), '支付机构暂时没有响应，请重试或选择其他支付方式。');
  assert.ok((await heard(page)).some((e) => e.type === 'edgepay:failure' && e.code === 'provider_unavailable'));
  await audit(page, 'failure (provider)');
  // The fault is spent: trying again shows the code.
  await card(page).getByRole('button', { name: '重试' }).click();
  await waitForState(page, 'qr');
  await shop.context.close();
});

test('QR expiry: a code left on screen past its expiry is not shown any more', async () => {
  const { page, context } = expiring;
  const left = expiring.openedAt + 75_000 - Date.now();
  await waitForState(page, 'expired', { timeout: Math.max(left, 5_000) });
  assert.equal(await card(page).locator('svg.ep-code').count(), 0);
  assert.equal(await card(page).locator('.ep-msg').textContent(), 'This checkout has expired. Go back to the shop to start again.');
  await audit(page, 'expired');
  await context.close();
});
