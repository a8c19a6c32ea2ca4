// Journeys: the demo shop in headless Chromium, served by the real stack (sandbox, worker under
// wrangler dev, demo shop as the merchant backend creating a session per page view). What a
// shopper sees in each environment and state, audited with axe-core, with screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../scripts/stack.mjs';
import { launchChromium, USER_AGENTS } from './browser.mjs';
import { audit, card, focused, shoot, waitForState } from './widget.mjs';

const DESKTOP = { userAgent: USER_AGENTS.desktop, locale: 'en-US', viewport: { width: 1100, height: 760 } };
const WECHAT_IPHONE = {
  userAgent: USER_AGENTS.wechatIphone,
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
};

let stack;
let browser;
/** A shop page whose session expires a minute after it was made (the shortest the worker allows). */
let expiring;

before(async () => {
  stack = await startStack({ name: 'journey' });
  browser = await launchChromium();
  // Opened first, checked last: by then its session has expired at the worker.
  expiring = await openShop({ ...DESKTOP }, '/?expires_in=60');
  await waitForState(expiring.page, 'methods');
  expiring.openedAt = Date.now();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A new browser context on the shop page; collects page errors and the widget's requests. */
async function openShop(contextOptions, pathAndQuery = '/') {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('request', (request) => {
    if (request.url().startsWith(stack.workerUrl)) requests.push({ method: request.method(), url: request.url(), headers: request.headers(), body: request.postData() });
  });
  await page.goto(`${stack.shopUrl}${pathAndQuery}`);
  return { context, page, errors, requests };
}

const methodsShown = (page) => card(page).locator('button.ep-method').evaluateAll((buttons) => buttons.map((b) => b.dataset.method));

test('desktop browser, English: the desktop methods in order, the amount, every other method listed with why', async () => {
  // ?session_data=0: the page carries no sessionData, so the widget reads the session itself.
  const { context, page, errors, requests } = await openShop(DESKTOP, '/?session_data=0');
  await waitForState(page, 'methods');
  assert.deepEqual(await methodsShown(page), ['wechat_native', 'alipay_page', 'alipay_qr', 'unionpay_pc']);
  assert.equal(await card(page).getAttribute('data-environment'), 'desktop_browser');
  assert.equal(await card(page).locator('.ep-amount').textContent(), 'Total¥68.00');
  assert.equal(await card(page).locator('.ep-desc').textContent(), '凤凰单丛 · Phoenix oolong, 250 g');
  assert.equal(await card(page).locator('.ep-title').textContent(), 'Secure checkout');
  // Each method button carries its name in both languages.
  const first = await card(page).locator('button.ep-method').first().textContent();
  assert.match(first, /WeChat Pay QR code/);
  assert.match(first, /微信扫码支付/);
  // Blocked methods are listed, not hidden.
  assert.equal(await card(page).locator('.ep-more summary').textContent(), 'Not available here (5)');
  assert.deepEqual(
    await card(page).locator('.ep-more li').evaluateAll((items) => items.map((li) => [li.dataset.method, li.dataset.reason])),
    [['wechat_jsapi', 'needs_wechat'], ['wechat_h5', 'mobile_only'], ['wechat_miniprogram', 'needs_miniprogram'], ['alipay_wap', 'mobile_only'], ['unionpay_wap', 'mobile_only']],
  );
  // The widget asked the worker with the client secret and its hints.
  const get = requests.find((r) => r.method === 'GET' && r.url.includes('/v1/sessions/'));
  assert.match(get.headers.authorization, /^Bearer cs_[a-z2-7]{24}_secret_/);
  assert.deepEqual(Object.keys(JSON.parse(get.headers['x-edgepay-hints'])), ['max_touch_points', 'platform']);
  // detectEnvironment() in the same page agrees with the worker.
  const detected = await page.evaluate(async () => (await import('/widget/edgepay.js')).detectEnvironment());
  assert.equal(detected.environment, 'desktop_browser');
  assert.deepEqual(detected.methods, await methodsShown(page));
  // The widget's styles stay inside its shadow root: the page's own header is untouched.
  assert.equal(await page.locator('header').evaluate((e) => getComputedStyle(e).fontWeight), '600');
  await audit(page, 'methods');
  await shoot(page, 'desktop');
  await card(page).locator('.ep-more summary').click();
  await audit(page, 'methods, unavailable ones expanded');
  await shoot(page, 'desktop-unavailable');
  assert.deepEqual(errors, []);
  await context.close();
});

test('desktop, dark mode: the same list passes the audit', async () => {
  const { context, page } = await openShop({ ...DESKTOP, colorScheme: 'dark' });
  await waitForState(page, 'methods');
  assert.equal(await card(page).evaluate((e) => getComputedStyle(e).backgroundColor), 'rgb(30, 31, 33)');
  await audit(page, 'methods (dark)');
  await shoot(page, 'desktop-dark');
  await context.close();
});

test('WeChat on an iPhone, Chinese: JSAPI first, Alipay blocked with the open-in-browser guidance and a copy-link button', async () => {
  const { context, page, errors } = await openShop({ ...WECHAT_IPHONE, permissions: ['clipboard-read', 'clipboard-write'] });
  await waitForState(page, 'methods');
  assert.equal(await card(page).getAttribute('data-environment'), 'wechat_inapp');
  assert.deepEqual(await methodsShown(page), ['wechat_jsapi', 'unionpay_wap']);
  assert.equal(await card(page).locator('.ep-title').textContent(), '安全支付');
  assert.equal(await card(page).locator('.ep-amount').textContent(), '应付金额¥68.00');
  const alipay = card(page).locator('.ep-blocked');
  assert.equal(await alipay.count(), 1);
  assert.equal(await alipay.getAttribute('data-reason'), 'blocked_in_wechat');
  assert.match(await alipay.textContent(), /支付宝.*Alipay.*微信内无法使用支付宝，请在浏览器中打开本页。/);
  await audit(page, 'methods (WeChat)');
  await shoot(page, 'wechat-inapp', { fullPage: true });

  await alipay.locator('button.ep-open').click();
  const guide = card(page).locator('dialog.ep-guide');
  await guide.waitFor({ state: 'visible' });
  assert.match(await guide.textContent(), /点击右上角的 ⋯.*选择「在浏览器打开」/);
  assert.equal(await guide.locator('input.ep-url').inputValue(), page.url());
  await audit(page, 'blocked guidance');
  await shoot(page, 'wechat-inapp-guidance');
  await guide.getByRole('button', { name: '复制链接' }).click();
  await guide.locator('.ep-copied').filter({ hasText: '链接已复制' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), page.url());
  await guide.getByRole('button', { name: '关闭' }).click();
  await guide.waitFor({ state: 'hidden' });
  assert.equal((await focused(page))?.text, '在浏览器中打开', 'focus goes back to the button that opened the guidance');
  assert.deepEqual(errors, []);
  await context.close();
});

test('keyboard only: Tab reaches the methods, Enter starts one, focus follows to the outcome and back', async () => {
  const { context, page, requests } = await openShop(DESKTOP);
  await waitForState(page, 'methods');
  // From the top of the page, the first Tab stops inside the widget are the method buttons, in order.
  const stops = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    stops.push((await focused(page))?.method);
  }
  assert.deepEqual(stops, ['wechat_native', 'alipay_page', 'alipay_qr', 'unionpay_pc']);
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused(page))?.method, 'alipay_qr');
  // Alipay does not answer this once (a sandbox fault): the payment ends in the failure state.
  const fault = await fetch(`${stack.sandboxUrl}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"fail_next":1,"fault_path":"/gateway.do"}' });
  assert.equal(fault.status, 200);
  await page.keyboard.press('Enter');
  await waitForState(page, 'failure');
  const pay = requests.find((r) => r.method === 'POST');
  assert.ok(pay, 'the widget asked the worker to pay');
  assert.match(pay.url, /\/v1\/sessions\/cs_[a-z2-7]{24}\/pay$/);
  assert.deepEqual(JSON.parse(pay.body), { method: 'alipay_qr', environment: 'desktop_browser', page_url: page.url() });
  assert.equal((await focused(page))?.className, 'ep-msg', 'focus moves to the sentence that says what happened');
  const sentence = await card(page).locator('.ep-msg').textContent();
  assert.ok(sentence.length > 20 && sentence.endsWith('.'), sentence);
  await audit(page, 'failure');
  await shoot(page, 'desktop-failure');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page))?.text, 'Try again');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page))?.text, 'Choose another method');
  await page.keyboard.press('Enter');
  await waitForState(page, 'methods');
  assert.equal((await focused(page))?.method, 'alipay_qr', 'back on the list, focus is on the method that failed');
  // Space on the summary opens the list of methods that do not work here.
  for (let i = 0; i < 2; i++) await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  assert.equal(await card(page).locator('details.ep-more').evaluate((d) => d.open), true);
  await context.close();
});

test('the host page hears every state and outcome through callbacks and DOM events', async () => {
  const { context, page } = await openShop(DESKTOP);
  await waitForState(page, 'methods');
  const heard = await page.evaluate(async () => {
    const { mount } = await import('/widget/edgepay.js');
    const source = document.getElementById('checkout').dataset;
    const element = document.createElement('div');
    element.id = 'second';
    document.body.append(element);
    const seen = [];
    element.addEventListener('edgepay:statechange', (e) => seen.push(`event:${e.detail.state}`));
    const handle = mount(element, {
      endpoint: source.endpoint,
      session: source.session,
      clientSecret: source.clientSecret,
      locale: 'zh-CN',
      theme: { accent: 'rgb(200, 0, 120)', radius: 4, colorScheme: 'dark' },
      onStateChange: (d) => seen.push(`callback:${d.state}`),
      onFailure: (d) => seen.push(`failure:${d.state}`),
    });
    await handle.ready;
    while (!seen.includes('callback:methods')) await new Promise((r) => setTimeout(r, 20));
    const shadow = element.shadowRoot;
    const style = getComputedStyle(shadow.querySelector('.ep-card'));
    const looks = { radius: style.borderRadius, background: style.backgroundColor, lang: shadow.querySelector('.ep-card').lang };
    handle.destroy();
    return { seen, looks, emptied: shadow.childElementCount, accentLeft: element.style.getPropertyValue('--ep-accent') };
  });
  assert.deepEqual(heard.seen, ['event:loading', 'callback:loading', 'event:methods', 'callback:methods']);
  assert.deepEqual(heard.looks, { radius: '4px', background: 'rgb(30, 31, 33)', lang: 'zh-CN' });
  assert.equal(heard.emptied, 0, 'destroy() empties the widget');
  assert.equal(heard.accentLeft, '', 'destroy() takes its theme back off the element');
  await context.close();
});

test('invalid options throw an Error naming the option; the custom element mounts from attributes', async () => {
  const { context, page } = await openShop(DESKTOP);
  await waitForState(page, 'methods');
  const messages = await page.evaluate(async () => {
    const { mount } = await import('/widget/edgepay.js');
    const el = document.createElement('div');
    const base = { endpoint: 'http://127.0.0.1:1', session: 'cs_x', clientSecret: 'cs_x_secret_y' };
    const attempts = [
      { ...base, endpoint: 'not a url' },
      { ...base, session: undefined },
      { ...base, session: 'cs_x/../../v1/health' },
      { ...base, clientSecret: 42 },
      { ...base, locale: 'fr' },
      { ...base, theme: { colour: 'red' } },
      { ...base, onSuccess: 'yes' },
    ];
    return attempts.map((options) => {
      try {
        mount(el, options);
        return 'accepted';
      } catch (err) {
        return `${err.constructor.name}: ${err.message}`;
      }
    });
  });
  assert.deepEqual(messages, [
    'Error: edgepay: option "endpoint" must be an absolute URL',
    'Error: edgepay: option "session" is required (the id your server got from POST /v1/sessions)',
    'Error: edgepay: option "session" must be a session id such as "cs_…"',
    'Error: edgepay: option "clientSecret" is required (the client_secret your server got with the session)',
    'Error: edgepay: option "locale" must be "zh-CN", "en" or "auto"',
    'Error: edgepay: option "theme.colour" is not a theme setting (accent, accentText, background, text, mutedText, surface, border, danger, focus, radius, font, colorScheme)',
    'Error: edgepay: option "onSuccess" must be a function',
  ]);

  await page.evaluate(() => {
    const source = document.getElementById('checkout').dataset;
    const el = document.createElement('edgepay-checkout');
    el.id = 'element';
    el.setAttribute('endpoint', source.endpoint);
    el.setAttribute('session', source.session);
    el.setAttribute('client-secret', source.clientSecret);
    el.setAttribute('locale', 'zh-CN');
    document.body.append(el);
  });
  await waitForState(page, 'methods', { host: '#element' });
  assert.equal(await card(page, '#element').locator('.ep-h').textContent(), '选择支付方式');
  await context.close();
});

test('offline: the widget says so, and resumes by itself when the connection is back', async () => {
  const { context, page, requests } = await openShop(DESKTOP);
  await waitForState(page, 'methods');
  await context.setOffline(true);
  await waitForState(page, 'offline');
  assert.match(await card(page).locator('.ep-msg').textContent(), /You're offline\. The checkout continues when you're back online\./);
  assert.equal(await card(page).locator('button.ep-method').count(), 0);
  await audit(page, 'offline');
  await shoot(page, 'desktop-offline');
  // A reload while offline fails; back online, the widget asks the worker again on its own.
  await page.evaluate(() => window.checkout.refresh());
  await page.waitForTimeout(200);
  const asked = requests.filter((r) => r.method === 'GET').length;
  const answered = page.waitForResponse((r) => r.url().includes('/v1/sessions/') && r.request().method() === 'GET' && r.ok());
  await context.setOffline(false);
  await answered;
  await waitForState(page, 'methods');
  assert.ok(requests.filter((r) => r.method === 'GET').length > asked, 'the session was asked for again');
  assert.deepEqual(await methodsShown(page), ['wechat_native', 'alipay_page', 'alipay_qr', 'unionpay_pc']);
  await context.close();
});

test('loading: a skeleton while the worker answers, busy for assistive technology', async () => {
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route(`${stack.workerUrl}/v1/sessions/*`, async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${stack.shopUrl}/?session_data=0`);
  await waitForState(page, 'loading');
  assert.equal(await card(page).getAttribute('aria-busy'), 'true');
  assert.equal(await card(page).locator('.ep-skeleton').count(), 1);
  await audit(page, 'loading');
  await shoot(page, 'desktop-loading');
  release();
  await waitForState(page, 'methods');
  assert.equal(await card(page).getAttribute('aria-busy'), null);
  await context.close();
});

test('sessionData: the methods render from the shop server\'s read, without a request from the browser; a browser placed elsewhere by its hints asks the worker itself', async () => {
  const { context, page, errors, requests } = await openShop(DESKTOP);
  await waitForState(page, 'methods');
  const reads = () => requests.filter((r) => r.method === 'GET' && /\/v1\/sessions\/cs_[a-z2-7]{24}$/.test(r.url));
  assert.equal(reads().length, 0, 'no session read from the browser');
  assert.deepEqual((await methodsShown(page)).slice(0, 2), ['wechat_native', 'alipay_page']);
  const given = await page.evaluate(() => JSON.parse(document.getElementById('checkout').dataset.sessionData));
  assert.equal(given.environment.environment, 'desktop_browser');
  // The same session, but read for a mini-program web-view: this desktop browser's own detection
  // disagrees, so the widget asks the worker and shows what the worker says for it.
  const outcome = await page.evaluate(async (given) => {
    const { mount } = await import('/widget/edgepay.js');
    const source = document.getElementById('checkout').dataset;
    const el = document.createElement('div');
    el.id = 'elsewhere';
    document.querySelector('main').append(el);
    const elsewhere = { ...given, environment: { environment: 'wechat_miniprogram', device: 'mobile', os: 'ios' }, methods: ['wechat_miniprogram'] };
    const options = { endpoint: source.endpoint, session: source.session, clientSecret: source.clientSecret };
    let refused;
    try {
      mount(document.createElement('div'), { ...options, sessionData: { ...given, id: 'cs_other' } });
    } catch (err) {
      refused = err.message;
    }
    mount(el, { ...options, sessionData: elsewhere });
    // A read without the method lists (not the worker's answer) is not shown: the widget asks.
    const partial = document.createElement('div');
    partial.id = 'partial';
    document.querySelector('main').append(partial);
    mount(partial, { ...options, sessionData: { ...given, methods: undefined, blocked: undefined } });
    return refused;
  }, given);
  assert.equal(outcome, 'edgepay: option "sessionData" must be the GET /v1/sessions/{id} answer of this session, as your server read it');
  await waitForState(page, 'methods', { host: '#elsewhere' });
  await waitForState(page, 'methods', { host: '#partial' });
  assert.equal(reads().length, 2, 'the widget read the session itself, once for each');
  assert.deepEqual((await card(page, '#elsewhere').locator('button.ep-method').evaluateAll((b) => b.map((x) => x.dataset.method))).slice(0, 2), ['wechat_native', 'alipay_page']);
  assert.deepEqual((await card(page, '#partial').locator('button.ep-method').evaluateAll((b) => b.map((x) => x.dataset.method))).slice(0, 2), ['wechat_native', 'alipay_page']);
  assert.deepEqual(errors, []);
  await context.close();
});

test('an unknown session: a clear sentence, nothing to retry; an unreachable worker: a retry', async () => {
  const { context, page } = await openShop({ ...DESKTOP, locale: 'zh-CN' });
  await waitForState(page, 'methods');
  await page.evaluate(async (workerUrl) => {
    const { mount } = await import('/widget/edgepay.js');
    for (const [id, endpoint] of [['unknown', workerUrl], ['down', 'http://127.0.0.1:9']]) {
      const el = document.createElement('div');
      el.id = id;
      document.querySelector('main').append(el);
      mount(el, { endpoint, session: 'cs_aaaaaaaaaaaaaaaaaaaaaaaa', clientSecret: 'cs_aaaaaaaaaaaaaaaaaaaaaaaa_secret_wrong' });
    }
  }, stack.workerUrl);
  await waitForState(page, 'error', { host: '#unknown' });
  assert.equal(await card(page, '#unknown').locator('.ep-msg').textContent(), '支付链接无效或已失效，请返回商店重新下单。');
  assert.equal(await card(page, '#unknown').locator('button').count(), 0);
  await audit(page, 'error', '#unknown');
  await waitForState(page, 'unreachable', { host: '#down' });
  assert.equal(await card(page, '#down').locator('.ep-msg').textContent(), '无法连接支付服务，请检查网络后重试。');
  assert.equal(await card(page, '#down').locator('button').textContent(), '重试');
  await audit(page, 'unreachable', '#down');
  await shoot(page, 'desktop-errors', { fullPage: true });
  await context.close();
});

test('the worker under wrangler dev creates and serves checkout sessions (Durable Object)', async () => {
  const created = await fetch(`${stack.workerUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.merchantApiKey}`, 'content-type': 'application/json', 'idempotency-key': `journey-${Date.now()}` },
    body: JSON.stringify({ order_id: 'journey-1', amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g' }),
  });
  assert.equal(created.status, 201);
  const session = await created.json();
  const read = await fetch(`${stack.workerUrl}/v1/sessions/${session.id}`, {
    headers: { authorization: `Bearer ${session.client_secret}`, 'user-agent': USER_AGENTS.wechatIphone },
  });
  assert.equal(read.status, 200);
  const body = await read.json();
  assert.equal(body.amount, 6800);
  assert.deepEqual(body.methods, ['wechat_jsapi', 'unionpay_wap']);
});

test('expiry: a page left open past its session expiry shows that the checkout expired', async () => {
  const { page, context } = expiring;
  // The session lives 60 s; the widget asks the worker a second after the expiry it was given.
  const left = expiring.openedAt + 75_000 - Date.now();
  await waitForState(page, 'expired', { timeout: Math.max(left, 5_000) });
  assert.equal(await card(page).locator('.ep-msg').textContent(), 'This checkout has expired. Go back to the shop to start again.');
  assert.equal(await card(page).locator('button').count(), 0);
  await audit(page, 'expired');
  await shoot(page, 'desktop-expired');
  await context.close();
});

test('the merchant backend: a session made by a shop page view, paid by QR at the sandbox, shows paid on /orders with its audit trail', async () => {
  const shopPage = await (await fetch(`${stack.shopUrl}/`)).text();
  const sessionId = shopPage.match(/data-session="(cs_[a-z2-7]+)"/)?.[1];
  const clientSecret = shopPage.match(/data-client-secret="([^"]+)"/)?.[1];
  assert.ok(sessionId && clientSecret, 'the page view created a session');
  const listed = await (await fetch(`${stack.shopUrl}/orders`)).text();
  assert.match(listed, new RegExp(`<tr data-session="${sessionId}" data-status="open">`));

  const paying = await fetch(`${stack.workerUrl}/v1/sessions/${sessionId}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clientSecret}`, 'content-type': 'application/json', 'user-agent': USER_AGENTS.desktop },
    body: JSON.stringify({ method: 'alipay_qr' }),
  });
  const action = await paying.json();
  assert.equal(paying.status, 200, JSON.stringify(action));
  assert.equal(action.type, 'qr');
  const orders = await (await fetch(`${stack.sandboxUrl}/sandbox/control/orders`)).json();
  const order = orders.find((o) => o.detail?.qr_data === action.data);
  assert.ok(order, 'the trade exists at the sandbox');
  const paid = await fetch(`${stack.sandboxUrl}/sandbox/control/orders/alipay/${order.out_trade_no}/pay`, { method: 'POST' });
  assert.equal(paid.status, 200);

  // The worker's signed payment.succeeded reaches the shop's webhook receiver.
  const deadline = Date.now() + 10_000;
  let row = '';
  while (Date.now() < deadline) {
    const page = await (await fetch(`${stack.shopUrl}/orders`)).text();
    row = page.match(new RegExp(`<tr data-session="${sessionId}"[^]*?</tr>`))?.[0] ?? '';
    if (row.includes('data-status="paid"')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(row, /data-status="paid"/, row);
  assert.match(row, /¥68\.00/);
  assert.match(row, /paid · 已支付/);

  const detail = await (await fetch(`${stack.shopUrl}/orders/${sessionId}`)).text();
  assert.match(detail, /Audit trail · 审计记录/);
  assert.match(detail, /attempt\.started/, detail);
  assert.ok(!detail.includes(stack.merchantApiKey) && !detail.includes(clientSecret), 'no secrets on the order page');
});
