// WeChat Pay v3 end to end in workerd (Miniflare) against the sandbox: Native (QR), H5 (the cashier
// and back), JSAPI (snsapi_base sign-in, then the JS bridge's parameters), and callbacks — the
// sandbox's signed, encrypted ones and hand-forged ones that must change nothing. The sandbox runs
// in public-key mode; one flow also runs against a second sandbox in certificate mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { waitFor, WORKER_OPTIONS } from './worker-harness.mjs';
import { Webhook } from 'standardwebhooks';
import { freePort, startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const API_KEY = 'sk_test_wechatpay_flow_0123456789';
const SESSION_SECRET = 'wechatpay-flow-session-secret-0123456789abcdef';
const DATA_ENCRYPTION_KEY = crypto.randomBytes(32).toString('base64');
const WEBHOOK_SECRET = `whsec_${Buffer.from('edgepay-test-webhook-secret-32bytes!!').toString('base64')}`;
const SHOP = 'https://shop.example';
const PAGE = `${SHOP}/checkout?cart=42&lang=zh-CN`;
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

let sandbox;
let certSandbox;
let config;
let certConfig;
let hooks;
const workers = [];
let workerUrl;
const received = [];

/** A worker under Miniflare bound to `settings` (a sandbox's worker-config and more). */
async function startWorker(settings) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const mf = new Miniflare({
    ...WORKER_OPTIONS,
    port,
    bindings: {
      ...settings,
      MERCHANT_API_KEY: API_KEY,
      SESSION_SECRET,
      DATA_ENCRYPTION_KEY,
      ALLOWED_ORIGINS: SHOP,
      PUBLIC_BASE_URL: url,
      MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${hooks.address().port}/webhooks/edgepay`,
      MERCHANT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
  await mf.ready;
  workers.push(mf);
  return url;
}

before(async () => {
  [sandbox, certSandbox] = await Promise.all([
    startSandbox({ name: 'worker-wechatpay-test', callbackScale: 0.001 }),
    startSandbox({ name: 'worker-wechatpay-cert-test', callbackScale: 0.001, env: { SANDBOX_WECHATPAY_MODE: 'certificate' } }),
  ]);
  config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  certConfig = await (await fetch(`${certSandbox.url}/sandbox/worker-config`)).json();
  hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  workerUrl = await startWorker(config);
});

after(async () => {
  await Promise.all(workers.map((mf) => mf.dispose()));
  await Promise.all([sandbox?.stop(), certSandbox?.stop()]);
  await new Promise((r) => (hooks ? hooks.close(r) : r()));
});

async function createSession(extra = {}, base = workerUrl) {
  const response = await fetch(`${base}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `order-${Date.now()}-${Math.random()}`, amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g', ...extra }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

async function pay(session, method, { userAgent = USER_AGENTS.desktop, headers = {}, body = {}, base = workerUrl } = {}) {
  const response = await fetch(`${base}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': userAgent, ...headers },
    body: JSON.stringify({ method, ...body }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

async function readSession(session, base = workerUrl) {
  const response = await fetch(`${base}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.client_secret}` } });
  return response.json();
}

async function sandboxOrders(box = sandbox) {
  return (await (await fetch(`${box.url}/sandbox/control/orders`)).json()).filter((o) => o.provider === 'wechatpay');
}


const eventsFor = (sessionId) => received.filter((r) => r.body.includes(sessionId));

/** Pays `no` at the sandbox as the shopper would, then waits for the session to be paid. */
async function payAtSandbox(session, no, { box = sandbox, base = workerUrl } = {}) {
  const paid = await fetch(`${box.url}/sandbox/control/orders/wechatpay/${no}/pay`, { method: 'POST' });
  assert.equal(paid.status, 200, await paid.text());
  await waitFor(async () => (await readSession(session, base)).status === 'paid', 'the session to be paid');
}

test('Native: QR → paid at the sandbox → signed callback → paid once → one signed webhook, even after a storm of 20', async () => {
  const session = await createSession({ methods: ['wechat_native', 'alipay_qr'] });
  const { status, body: action } = await pay(session, 'wechat_native');
  assert.equal(status, 200, JSON.stringify(action));
  assert.equal(action.type, 'qr');
  assert.match(action.data, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
  assert.equal(action.expires_at, session.expires_at);
  assert.equal((await readSession(session)).action.data, action.data, 'the widget can read the action back');

  const order = (await sandboxOrders()).find((o) => o.detail?.qr_data === action.data);
  assert.ok(order, 'the order exists at the sandbox');
  assert.equal(order.amount_fen, 6800);
  assert.equal(order.notify_url, `${workerUrl}/v1/notify/wechatpay`);
  assert.match(order.out_trade_no, /^EP[A-Z2-7]{30}$/);
  await payAtSandbox(session, order.out_trade_no);

  await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');
  const [hook] = eventsFor(session.id);
  const event = new Webhook(WEBHOOK_SECRET).verify(hook.body, hook.headers);
  assert.equal(event.type, 'payment.succeeded');
  assert.ok(hook.body.includes('"amount":6800'), hook.body);
  const after = await (await fetch(`${sandbox.url}/sandbox/control/orders/wechatpay/${order.out_trade_no}`)).json();
  assert.ok(hook.body.includes(after.transaction_id), 'the event carries WeChat Pay transaction_id');
  assert.ok(after.deliveries.some((d) => d.acknowledged && d.status === 204), JSON.stringify(after.deliveries));

  const storm = await (await fetch(`${sandbox.url}/sandbox/control/orders/wechatpay/${order.out_trade_no}/notify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"times":20}',
  })).json();
  assert.equal(storm.acknowledged, 20, 'every copy is acknowledged');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(eventsFor(session.id).length, 1, 'exactly one merchant event');
  assert.equal((await readSession(session)).status, 'paid');
  assert.equal((await pay(session, 'wechat_native')).body.error.code, 'session_not_payable');
});

test("WeChat Pay's signature probe is refused", async () => {
  const probe = await (await fetch(`${sandbox.url}/sandbox/control/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'wechatpay', url: `${workerUrl}/v1/notify/wechatpay` }),
  })).json();
  assert.equal(probe.acknowledged, false);
});

test('H5: the redirect opens the sandbox cashier (with a Referer), which sends the shopper back to the shop page', async () => {
  // Miniflare, like Cloudflare's edge, always sets CF-Connecting-IP (here from the test's own
  // header); the X-Forwarded-For fallback and the refusal without any address are for other hosts.
  const session = await createSession({ return_url: `${SHOP}/thanks` });
  const { status, body: action } = await pay(session, 'wechat_h5', {
    userAgent: IPHONE_SAFARI,
    headers: { 'cf-connecting-ip': '203.0.113.7' },
    body: { page_url: PAGE },
  });
  assert.equal(status, 200, JSON.stringify(action));
  assert.equal(action.type, 'redirect');
  assert.ok(action.url.startsWith(`${sandbox.url}/sandbox/wechat/h5?prepay_id=`), action.url);
  assert.ok(action.url.endsWith(`&redirect_url=${encodeURIComponent(PAGE)}`), action.url);
  const order = (await sandboxOrders()).find((o) => action.url.includes(o.detail?.prepay_id) && o.kind === 'h5');
  assert.equal(order.detail.payer_client_ip, '203.0.113.7', "the shopper's address, from CF-Connecting-IP");

  const withoutReferer = await fetch(action.url, { redirect: 'manual', headers: { 'user-agent': IPHONE_SAFARI } });
  assert.equal(withoutReferer.status, 403, 'the sandbox checks the Referer, like WeChat');
  const cashier = await fetch(action.url, { redirect: 'manual', headers: { 'user-agent': IPHONE_SAFARI, referer: PAGE } });
  assert.equal(cashier.status, 303, await cashier.text());
  assert.match(cashier.headers.get('location'), new RegExp(`/sandbox/cashier/wechatpay/${order.out_trade_no}$`));
  const opened = await (await fetch(`${sandbox.url}/sandbox/control/orders/wechatpay/${order.out_trade_no}`)).json();
  assert.equal(opened.return_url, PAGE, 'the cashier sends the shopper back to the shop page once paid');

  // IPv6 too; and CF-Connecting-IP (set by the edge) wins over X-Forwarded-For (set by anyone).
  const other = await createSession();
  const viaEdge = await pay(other, 'wechat_h5', { userAgent: IPHONE_SAFARI, headers: { 'cf-connecting-ip': '2001:db8::7', 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(viaEdge.status, 200, viaEdge.text);
  assert.ok(!viaEdge.body.url.includes('redirect_url='), 'no page and no return_url: nothing to come back to');
  const edgeOrder = (await sandboxOrders()).find((o) => viaEdge.body.url.includes(o.detail?.prepay_id));
  assert.equal(edgeOrder.detail.payer_client_ip, '2001:db8::7');

  await payAtSandbox(session, order.out_trade_no);
});

/** Follows WeChat's authorize page like the WeChat in-app browser: `302` to the worker's callback. */
async function authorize(url) {
  const response = await fetch(url.split('#')[0], { redirect: 'manual', headers: { 'user-agent': USER_AGENTS.wechatIphone } });
  assert.equal(response.status, 302, await response.text());
  return response.headers.get('location');
}

test('JSAPI: sign-in (snsapi_base) → back to the shop → bridge parameters the sandbox pays → paid; the openid never leaves the worker', async () => {
  const session = await createSession({ methods: ['wechat_jsapi'], return_url: `${SHOP}/thanks` });
  const inWechat = { userAgent: USER_AGENTS.wechatIphone, body: { page_url: PAGE } };
  const first = await pay(session, 'wechat_jsapi', inWechat);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.type, 'oauth');
  const authorizeUrl = new URL(first.body.url);
  assert.equal(`${authorizeUrl.origin}${authorizeUrl.pathname}`, `${sandbox.url}/connect/oauth2/authorize`);
  assert.equal(authorizeUrl.hash, '#wechat_redirect');
  assert.equal(authorizeUrl.searchParams.get('appid'), config.WECHATPAY_APPID);
  assert.equal(authorizeUrl.searchParams.get('redirect_uri'), `${workerUrl}/v1/wechat/oauth/callback`);
  assert.equal(authorizeUrl.searchParams.get('response_type'), 'code');
  assert.equal(authorizeUrl.searchParams.get('scope'), 'snsapi_base');
  const state = authorizeUrl.searchParams.get('state');
  assert.ok(state.length <= 128, 'WeChat allows 128 bytes of state');
  assert.ok(!state.includes('shop.example'), 'the page stays in the worker');
  assert.equal((await readSession(session)).action.type, 'oauth');

  const callback = await authorize(first.body.url);
  assert.ok(callback.startsWith(`${workerUrl}/v1/wechat/oauth/callback?code=`), callback);
  // A state tampered with is refused before the code is used…
  const tampered = new URL(callback);
  const [id, nonce, expiresAt, tag] = state.split('.');
  tampered.searchParams.set('state', [id, nonce, Number(expiresAt) + 3600, tag].join('.'));
  const refused = await fetch(tampered, { redirect: 'manual' });
  assert.equal(refused.status, 400);
  assert.equal((await refused.json()).error.code, 'invalid_request');
  // …so the genuine one still works: back to the shop page.
  const back = await fetch(callback, { redirect: 'manual' });
  assert.equal(back.status, 302, await back.text());
  assert.equal(back.headers.get('location'), PAGE);

  // Single use: the same state with a fresh code (sign-in followed again) changes nothing.
  const again = await fetch(await authorize(first.body.url), { redirect: 'manual' });
  assert.equal(again.status, 400);
  assert.equal((await again.json()).error.code, 'invalid_request');

  const second = await pay(session, 'wechat_jsapi', inWechat);
  assert.equal(second.status, 200, second.text);
  assert.equal(second.body.type, 'jsapi');
  const { params } = second.body;
  assert.deepEqual(Object.keys(params), ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign']);
  assert.equal(params.appId, config.WECHATPAY_APPID);
  assert.equal(params.signType, 'RSA');
  assert.match(params.package, /^prepay_id=wx/);
  assert.ok(Math.abs(Number(params.timeStamp) - Date.now() / 1000) < 60);

  const order = (await sandboxOrders()).find((o) => `prepay_id=${o.detail?.prepay_id}` === params.package);
  assert.equal(order.kind, 'jsapi');
  const openid = order.payer;
  assert.match(openid, /^o[\w-]{27}$/, 'the sandbox got the openid of the signed-in WeChat user');
  const seen = await fetch(`${workerUrl}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.client_secret}`, 'user-agent': USER_AGENTS.wechatIphone } });
  const seenText = await seen.text();
  assert.equal(seen.status, 200);
  assert.equal(JSON.parse(seenText).action.type, 'jsapi');
  for (const text of [seenText, second.text, first.text]) assert.ok(!text.includes(openid), 'the openid never reaches the widget');

  const bridged = await fetch(`${sandbox.url}/sandbox/bridge/wechat/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  assert.deepEqual(await bridged.json(), { err_msg: 'get_brand_wcpay_request:ok' });
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
  await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');
  new Webhook(WEBHOOK_SECRET).verify(eventsFor(session.id)[0].body, eventsFor(session.id)[0].headers);
});

test('JSAPI sign-in: forged states, pages off the allowed origins and sessions with nowhere to come back to are refused', async () => {
  const forged = [
    `cs_${'a'.repeat(24)}.bm9uY2Vub25jZW5v.9999999999.${'A'.repeat(43)}`,
    'garbage',
    '',
  ];
  for (const state of forged) {
    const response = await fetch(`${workerUrl}/v1/wechat/oauth/callback?code=whatever&state=${encodeURIComponent(state)}`, { redirect: 'manual' });
    assert.equal(response.status, 400, state);
    const text = await response.text();
    assert.equal(JSON.parse(text).error.code, 'invalid_request');
    assert.ok(!text.includes('whatever'), 'nothing is echoed');
  }
  const session = await createSession({ methods: ['wechat_jsapi'] });
  const elsewhere = await pay(session, 'wechat_jsapi', { userAgent: USER_AGENTS.wechatIphone, body: { page_url: 'https://evil.example/phish' } });
  assert.equal(elsewhere.status, 400);
  assert.match(elsewhere.body.error.message, /allowed origins/);
  const lookalike = await pay(session, 'wechat_jsapi', { userAgent: USER_AGENTS.wechatIphone, body: { page_url: 'https://shop.example@evil.example/' } });
  assert.equal(lookalike.status, 400);
  const nowhere = await pay(session, 'wechat_jsapi', { userAgent: USER_AGENTS.wechatIphone });
  assert.equal(nowhere.status, 400, nowhere.text);
  assert.match(nowhere.body.error.message, /page to come back to/);
  assert.equal((await pay(session, 'wechat_jsapi', { userAgent: USER_AGENTS.wechatIphone, body: { page_url: PAGE } })).body.type, 'oauth');
});

// ---- hand-forged callbacks, signed with the sandbox's test-only platform key -------------------

/** A callback as WeChat Pay sends it: `transaction` encrypted with the APIv3 key, signed over the raw body. */
function forgeCallback(transaction, { timestamp = Math.floor(Date.now() / 1000), serial = config.WECHATPAY_PUBLIC_KEY_ID, key = sandbox.keys.wechatpay.platform_private_key } = {}) {
  const nonce = crypto.randomBytes(6).toString('hex');
  const cipher = crypto.createCipheriv('aes-256-gcm', Buffer.from(config.WECHATPAY_APIV3_KEY, 'ascii'), Buffer.from(nonce, 'ascii'));
  cipher.setAAD(Buffer.from('transaction'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(transaction)), cipher.final(), cipher.getAuthTag()]).toString('base64');
  const body = JSON.stringify({
    id: crypto.randomUUID(),
    create_time: '2026-01-01T10:00:00+08:00',
    event_type: 'TRANSACTION.SUCCESS',
    resource_type: 'encrypt-resource',
    resource: { algorithm: 'AEAD_AES_256_GCM', ciphertext, associated_data: 'transaction', original_type: 'transaction', nonce },
    summary: '支付成功',
  });
  const headerNonce = crypto.randomBytes(16).toString('hex');
  const signature = crypto.sign('sha256', Buffer.from(`${timestamp}\n${headerNonce}\n${body}\n`), key).toString('base64');
  const headers = {
    'content-type': 'application/json',
    'wechatpay-timestamp': String(timestamp),
    'wechatpay-nonce': headerNonce,
    'wechatpay-signature': signature,
    'wechatpay-serial': serial,
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
  };
  return { body, headers };
}

async function deliver({ body, headers }) {
  const response = await fetch(`${workerUrl}/v1/notify/wechatpay`, { method: 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : null };
}

/**
 * POSTs on a connection of its own (the worker may answer before reading the body and drop the
 * rest, which would break a pooled connection): resolves with the answer.
 */
function postOnFreshConnection(url, headers, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: false }, (response) => {
      let text = '';
      response.on('data', (d) => (text += d));
      response.on('end', () => resolve({ status: response.statusCode, text }));
    });
    request.on('error', (err) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    request.end(body);
  });
}

function assertFail(answer, status, what) {
  assert.equal(answer.status, status, `${what}: ${answer.text}`);
  assert.equal(answer.body.code, 'FAIL', what);
  assert.equal(typeof answer.body.message, 'string');
  assert.ok(answer.body.message.length < 80, 'a short fixed sentence');
}

test('callbacks that are stale, tampered with, signed with another key, for another merchant or too large change nothing; the genuine one pays', async () => {
  const session = await createSession();
  const { body: action } = await pay(session, 'wechat_native');
  const order = (await sandboxOrders()).find((o) => o.detail?.qr_data === action.data);
  const transaction = {
    appid: config.WECHATPAY_APPID,
    mchid: config.WECHATPAY_MCHID,
    out_trade_no: order.out_trade_no,
    transaction_id: '4200000000000000000000000001',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2026-01-01T10:00:00+08:00',
    payer: { openid: 'oForgedForgedForgedForged123' },
    amount: { total: 6800, payer_total: 6800, currency: 'CNY', payer_currency: 'CNY' },
  };
  const now = Math.floor(Date.now() / 1000);

  assertFail(await deliver(forgeCallback(transaction, { timestamp: now - 301 })), 401, 'stale');
  assertFail(await deliver(forgeCallback(transaction, { timestamp: now + 400 })), 401, 'from the future');
  const genuine = forgeCallback(transaction);
  assertFail(await deliver({ ...genuine, body: genuine.body.replace('支付成功', '支付成功!') }), 401, 'tampered after signing');
  assertFail(await deliver({ ...genuine, headers: { ...genuine.headers, 'wechatpay-signature': `WECHATPAY/SIGNTEST/${genuine.headers['wechatpay-signature']}` } }), 401, 'probe');
  assertFail(await deliver(forgeCallback(transaction, { key: sandbox.keys.wechatpay.merchant_private_key })), 401, 'another key');
  assertFail(await deliver(forgeCallback(transaction, { serial: 'PUB_KEY_ID_0000000000000000000000000000' })), 401, 'unknown serial');
  const { 'wechatpay-signature': _dropped, ...unsigned } = genuine.headers;
  assertFail(await deliver({ ...genuine, headers: unsigned }), 401, 'no signature');
  assertFail(await deliver(forgeCallback({ ...transaction, mchid: '1900000999' })), 400, 'another merchant');
  assertFail(await deliver(forgeCallback({ ...transaction, appid: 'wx0000000000000000' })), 400, 'another app');
  assertFail(await deliver(forgeCallback({ ...transaction, amount: { ...transaction.amount, total: 1 } })), 400, 'another amount');
  assertFail(await deliver(forgeCallback({ ...transaction, out_trade_no: `EP${'A'.repeat(30)}` })), 400, 'unknown order');
  const huge = await postOnFreshConnection(`${workerUrl}/v1/notify/wechatpay`, genuine.headers, 'x'.repeat(1024 * 1024 + 1));
  assert.equal(huge.status, 413);
  assert.equal(JSON.parse(huge.text).code, 'FAIL');
  assert.equal((await readSession(session)).status, 'processing', 'nothing changed');
  assert.equal(eventsFor(session.id).length, 0);

  // Not paid yet (NOTPAY): acknowledged, nothing recorded.
  assert.equal((await deliver(forgeCallback({ ...transaction, trade_state: 'NOTPAY' }))).status, 204);
  assert.equal((await readSession(session)).status, 'processing');

  // The same callback, genuine and fresh: the forging above was right, so those refusals meant something.
  assert.equal((await deliver(genuine)).status, 204);
  assert.equal((await readSession(session)).status, 'paid');
  assert.equal((await deliver(genuine)).status, 204, 'a repeat is acknowledged and changes nothing');
  await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(eventsFor(session.id).length, 1);
  assert.ok(eventsFor(session.id)[0].body.includes('4200000000000000000000000001'));
});

test('certificate mode: answers and callbacks named by the platform certificate serial verify too', async () => {
  assert.notEqual(certConfig.WECHATPAY_PLATFORM_CERTS, undefined);
  const certWorker = await startWorker(certConfig);
  const session = await createSession({}, certWorker);
  const { status, body: action } = await pay(session, 'wechat_native', { base: certWorker });
  assert.equal(status, 200, JSON.stringify(action));
  assert.equal(action.type, 'qr');
  const order = (await sandboxOrders(certSandbox)).find((o) => o.detail?.qr_data === action.data);
  await payAtSandbox(session, order.out_trade_no, { box: certSandbox, base: certWorker });
  const after = await (await fetch(`${certSandbox.url}/sandbox/control/orders/wechatpay/${order.out_trade_no}`)).json();
  assert.ok(after.deliveries.some((d) => d.acknowledged), JSON.stringify(after.deliveries));

  // The same sandbox, and a worker that trusts only the public key: its answers do not verify.
  const { WECHATPAY_PLATFORM_CERTS: _certs, ...publicKeyOnly } = certConfig;
  const strictWorker = await startWorker(publicKeyOnly);
  const strict = await createSession({}, strictWorker);
  const refused = await pay(strict, 'wechat_native', { base: strictWorker });
  assert.equal(refused.status, 503, refused.text);
  assert.equal(refused.body.error.code, 'provider_unavailable');
});

test('the sandbox failing is a clear retryable error, and the session is not stuck', async () => {
  const session = await createSession();
  await fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"fail_next":1}' });
  const failed = await pay(session, 'wechat_native');
  assert.equal(failed.status, 503);
  assert.deepEqual([failed.body.error.code, failed.body.error.retryable], ['provider_unavailable', true]);
  assert.equal((await pay(session, 'wechat_native')).body.type, 'qr');
});

test('a sandbox fault scoped to one path (fault_path) leaves other calls alone until that call comes', async () => {
  const session = await createSession();
  const put = (faults) => fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
  await put({ fail_next: 1, fault_path: '/v3/refund/' });
  assert.equal((await pay(session, 'wechat_native')).body.type, 'qr', 'a call on another path is not failed');
  await put({ fail_next: 1, fault_path: '/v3/pay/transactions/native' });
  const failed = await pay(session, 'wechat_native');
  assert.equal(failed.status, 503, failed.text);
  assert.equal((await pay(session, 'wechat_native')).body.type, 'qr', 'the fault was used once');
  await put({});
});

test('a sandbox that hangs is given up after 10 s: retryable, and the session is not stuck', async () => {
  const session = await createSession();
  await fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"hang_next":1,"hang_ms":20000}' });
  const started = Date.now();
  const hung = await pay(session, 'wechat_native');
  assert.equal(hung.status, 503, hung.text);
  assert.deepEqual([hung.body.error.code, hung.body.error.retryable], ['provider_unavailable', true]);
  assert.ok(Date.now() - started < 15_000, 'the worker stopped waiting');
  assert.equal((await pay(session, 'wechat_native')).body.type, 'qr');
});

test('health names the sign-in settings, and no answer carries a key or secret', async () => {
  const health = await (await fetch(`${workerUrl}/v1/health`)).text();
  assert.deepEqual(JSON.parse(health).features.wechat_oauth, { configured: true, missing: [] });
  assert.deepEqual(JSON.parse(health).providers.wechatpay, { configured: true, missing: [] });
  const session = await createSession();
  const answers = [health, (await pay(session, 'wechat_native')).text, JSON.stringify(await readSession(session))];
  for (const text of answers) {
    for (const secret of [config.WECHATPAY_APIV3_KEY, config.WECHATPAY_APP_SECRET, DATA_ENCRYPTION_KEY, SESSION_SECRET, 'PRIVATE KEY']) {
      assert.ok(!text.includes(secret), 'a secret leaked');
    }
  }
});
