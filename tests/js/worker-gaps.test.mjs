// The worker's gaps, end to end in workerd (Miniflare) against the sandbox: duplicate payments
// refunded, a merchant-supplied openid, the mini-program hand-off, refused callbacks in the audit
// trail, hostile bodies, and a webhook delivered once across a worker restart (the alarm survives).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { waitFor as waitUntil, WORKER_OPTIONS } from './worker-harness.mjs';
import { Webhook } from 'standardwebhooks';
import { freePort, startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const API_KEY = 'sk_test_gaps_flow_0123456789';
const SESSION_SECRET = 'gaps-flow-session-secret-0123456789abcdef';
const DATA_ENCRYPTION_KEY = crypto.randomBytes(32).toString('base64');
const WEBHOOK_SECRET = `whsec_${Buffer.from('edgepay-gaps-webhook-secret-32bytes!!!').toString('base64')}`;
const MINIPROGRAM_UA = `${USER_AGENTS.wechatIphone} miniProgram`;

let sandbox;
let mf;
let port;
let workerUrl;
let hooks;
let persistDir;
const received = [];
// While true, the merchant's endpoint answers 500 (down).
let endpointDown = false;

function startWorker(config) {
  return new Miniflare({
    ...WORKER_OPTIONS,
    port,
    durableObjectsPersist: persistDir,
    bindings: {
      ...config,
      MERCHANT_API_KEY: API_KEY,
      SESSION_SECRET,
      DATA_ENCRYPTION_KEY,
      ALLOWED_ORIGINS: 'https://shop.example',
      PUBLIC_BASE_URL: workerUrl,
      MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${hooks.address().port}/webhooks/edgepay`,
      MERCHANT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  });
}

let workerConfig;

before(async () => {
  sandbox = await startSandbox({ name: 'worker-gaps-test', callbackScale: 0.001 });
  workerConfig = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const status = endpointDown ? 500 : 204;
      received.push({ headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  persistDir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-gaps-'));
  port = await freePort();
  workerUrl = `http://127.0.0.1:${port}`;
  mf = startWorker(workerConfig);
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
  await sandbox?.stop();
  await new Promise((r) => (hooks ? hooks.close(r) : r()));
  if (persistDir) rmSync(persistDir, { recursive: true, force: true });
});

async function createSession(extra = {}) {
  const response = await fetch(`${workerUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `order-${Date.now()}-${Math.random()}`, amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g', ...extra }),
  });
  const text = await response.text();
  assert.equal(response.status, 201, text);
  return { ...JSON.parse(text), text };
}

async function pay(session, method, { userAgent = USER_AGENTS.desktop, headers = {}, body = {} } = {}) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': userAgent, ...headers },
    body: JSON.stringify({ method, ...body }),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

async function readSession(session, headers = {}) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.client_secret}`, ...headers } });
  return { ...(await response.clone().json()), text: await response.text() };
}

async function auditOf(session) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}/events`, { headers: { authorization: `Bearer ${API_KEY}` } });
  assert.equal(response.status, 200);
  const text = await response.text();
  return { ...JSON.parse(text), text };
}

const sandboxOrders = async () => (await fetch(`${sandbox.url}/sandbox/control/orders`)).json();
const orderFor = async (qrData) => (await sandboxOrders()).find((o) => o.detail?.qr_data === qrData);
const control = (p, body) =>
  fetch(`${sandbox.url}/sandbox/control/${p}`, { method: p === 'faults' ? 'PUT' : 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

const waitFor = (predicate, what, ms = 15_000) => waitUntil(predicate, what, ms);

const hooksFor = (sessionId) => received.filter((r) => r.body.includes(sessionId));
const verified = (hook) => new Webhook(WEBHOOK_SECRET).verify(hook.body, hook.headers);

test('duplicate: two attempts paid → one payment.succeeded, one payment.duplicate, the duplicate refunded in full at the sandbox, the session kept paid', async () => {
  const session = await createSession({ methods: ['alipay_qr', 'wechat_native'] });
  const alipayAction = (await pay(session, 'alipay_qr')).body;
  const wechatAction = (await pay(session, 'wechat_native')).body;
  assert.equal(alipayAction.type, 'qr');
  assert.equal(wechatAction.type, 'qr');
  const alipayOrder = await orderFor(alipayAction.data);
  const wechatOrder = await orderFor(wechatAction.data);
  assert.ok(alipayOrder && wechatOrder);

  // Both shoppers' phones pay before any callback lands.
  assert.equal((await control('faults', { callbacks: 'drop' })).status, 200);
  try {
    assert.equal((await control(`orders/alipay/${alipayOrder.out_trade_no}/pay`)).status, 200);
    assert.equal((await control(`orders/wechatpay/${wechatOrder.out_trade_no}/pay`)).status, 200);
  } finally {
    await control('faults', {});
  }
  assert.equal((await control(`orders/alipay/${alipayOrder.out_trade_no}/notify`, { times: 1 })).status, 200);
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid by Alipay');
  await control(`orders/wechatpay/${wechatOrder.out_trade_no}/notify`, { times: 1 });

  await waitFor(() => hooksFor(session.id).filter((h) => h.status === 204).length >= 2, 'two webhooks');
  await waitFor(async () => {
    const order = (await sandboxOrders()).find((o) => o.provider === 'wechatpay' && o.out_trade_no === wechatOrder.out_trade_no);
    return order.refunds.length > 0;
  }, 'the duplicate refunded at the sandbox');

  const events = hooksFor(session.id).filter((h) => h.status === 204).map(verified);
  const types = events.map((e) => e.type).sort();
  assert.deepEqual(types, ['payment.duplicate', 'payment.succeeded']);
  const succeeded = events.find((e) => e.type === 'payment.succeeded');
  const duplicate = events.find((e) => e.type === 'payment.duplicate');
  assert.equal(succeeded.data.out_trade_no, alipayOrder.out_trade_no, 'the first payment is kept');
  assert.equal(duplicate.data.out_trade_no, wechatOrder.out_trade_no);

  const refunded = (await sandboxOrders()).find((o) => o.provider === 'wechatpay' && o.out_trade_no === wechatOrder.out_trade_no);
  assert.equal(refunded.refunds.length, 1, JSON.stringify(refunded.refunds));
  assert.equal(refunded.refunds[0].amount_fen, 6800, 'refunded in full');
  const kept = (await sandboxOrders()).find((o) => o.provider === 'alipay' && o.out_trade_no === alipayOrder.out_trade_no);
  assert.equal(kept.refunds.length, 0, 'the kept payment is not refunded');

  // The refund's callback arrives and is recorded; the session stays paid with the first payment.
  await waitFor(async () => (await auditOf(session)).events.some((e) => e.kind === 'duplicate.refund_refunded'), 'the refund recorded as done');
  const trail = (await auditOf(session)).events;
  assert.ok(trail.some((e) => e.kind === 'duplicate.refund_queued' && e.out_trade_no === wechatOrder.out_trade_no), JSON.stringify(trail));
  const state = await readSession(session);
  assert.equal(state.status, 'paid');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(hooksFor(session.id).filter((h) => h.status === 204).length, 2, 'no further event');
  assert.equal((await sandboxOrders()).find((o) => o.out_trade_no === wechatOrder.out_trade_no).refunds.length, 1, 'refunded once');
});

test('wechat_openid: accepted and sealed at creation → JSAPI straight away (no sign-in) → never returned', async () => {
  const openid = 'oMerchantKnown_0123456789abc';
  const invalid = await fetch(`${workerUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: 'bad-openid', amount: 100, currency: 'CNY', description: 'x', wechat_openid: 'has space' }),
  });
  assert.equal(invalid.status, 400);
  assert.equal((await invalid.json()).error.code, 'invalid_request');

  const session = await createSession({ methods: ['wechat_jsapi'], wechat_openid: openid });
  assert.ok(!session.text.includes(openid));
  const { status, body: action, text } = await pay(session, 'wechat_jsapi', { userAgent: USER_AGENTS.wechatIphone });
  assert.equal(status, 200, text);
  assert.equal(action.type, 'jsapi', 'no OAuth round trip');
  const order = (await sandboxOrders()).find((o) => o.provider === 'wechatpay' && `prepay_id=${o.detail?.prepay_id}` === action.params.package);
  assert.ok(order, 'the JSAPI order exists at the sandbox');
  assert.equal(order.kind, 'jsapi');
  const seen = await readSession(session, { 'user-agent': USER_AGENTS.wechatIphone });
  const trail = await auditOf(session);
  for (const t of [text, seen.text, trail.text]) assert.ok(!t.includes(openid), 'the openid never leaves the worker');
  // The sandbox pays as the payer the merchant named.
  assert.equal((await control(`orders/wechatpay/${order.out_trade_no}/pay`, { payer: openid })).status, 200);
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
});

test('mini-program web-view → {type: miniprogram, path: WECHAT_MINIPROGRAM_PAY_PATH?session_id=…}, no client secret in it', async () => {
  const session = await createSession();
  const hints = { 'x-edgepay-hints': JSON.stringify({ wxjs_environment: 'miniprogram' }) };
  const seen = await readSession(session, { 'user-agent': MINIPROGRAM_UA, ...hints });
  assert.ok(seen.methods.includes('wechat_miniprogram'), JSON.stringify(seen.methods));
  const { status, body, text } = await pay(session, 'wechat_miniprogram', { userAgent: MINIPROGRAM_UA, headers: hints });
  assert.equal(status, 200, text);
  assert.deepEqual(body, { type: 'miniprogram', path: `/pages/edgepay/pay?session_id=${session.id}` });
  assert.ok(!text.includes(session.client_secret));
  // Anywhere else the hand-off is refused.
  const desktop = await pay(session, 'wechat_miniprogram');
  assert.equal(desktop.status, 403, desktop.text);
  assert.equal(desktop.body.error.reason, 'needs_miniprogram');
});

test('mini-program pay page: its backend gets wx.requestPayment parameters for the hand-off attempt, the payment reaches the session, once', async () => {
  const session = await createSession();
  const hints = { 'x-edgepay-hints': JSON.stringify({ wxjs_environment: 'miniprogram' }) };
  const merchantCall = (id, body, key = API_KEY) =>
    fetch(`${workerUrl}/v1/sessions/${id}/miniprogram`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const openid = 'oMiniProgramPayer0123456789a';
  // Before the hand-off there is no attempt to pay.
  const early = await merchantCall(session.id, { openid });
  assert.equal(early.status, 409);
  assert.equal((await early.json()).error.code, 'session_not_payable');
  const handoff = await pay(session, 'wechat_miniprogram', { userAgent: MINIPROGRAM_UA, headers: hints });
  assert.equal(handoff.body.type, 'miniprogram');

  // Only the merchant, with a valid openid.
  assert.equal((await merchantCall(session.id, { openid }, session.client_secret)).status, 401);
  for (const body of [{}, { openid: "" }, { openid, extra: 1 }]) {
    const r = await merchantCall(session.id, body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${await r.text()}`);
  }
  assert.equal((await merchantCall('cs_000000000000000000000000', { openid })).status, 404);

  const answer = await merchantCall(session.id, { openid });
  const text = await answer.text();
  assert.equal(answer.status, 200, text);
  const { type, params } = JSON.parse(text);
  assert.equal(type, 'jsapi');
  assert.equal(params.appId, workerConfig.WECHAT_MINIPROGRAM_APPID, 'signed for the mini-program');
  assert.match(params.package, /^prepay_id=wx/);
  assert.equal(params.signType, 'RSA');
  assert.ok(params.paySign && params.nonceStr && /^\d+$/.test(params.timeStamp));
  assert.ok(!text.includes(openid), 'the payer id is not echoed');
  // Asking again (the page reloaded) gives the same order.
  const again = await (await merchantCall(session.id, { openid })).json();
  assert.equal(again.params.package, params.package);

  // The order at the sandbox is the hand-off attempt's, under the mini-program's appid.
  const order = (await sandboxOrders()).find((o) => o.detail?.prepay_id === params.package.slice('prepay_id='.length));
  assert.ok(order, 'the JSAPI order exists at the sandbox');
  assert.equal(order.detail.appid, workerConfig.WECHAT_MINIPROGRAM_APPID);
  assert.equal(order.amount_fen, 6800);
  assert.equal((await control(`orders/wechatpay/${order.out_trade_no}/pay`, { payer: openid })).status, 200);
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid by the mini-program payment');
  await waitFor(() => received.some((r) => r.body.includes(session.id) && r.body.includes('payment.succeeded')), 'the webhook');
  const events = received.filter((r) => r.body.includes(session.id)).map((r) => new Webhook(WEBHOOK_SECRET).verify(r.body, r.headers));
  assert.deepEqual(events.map((e) => e.type), ['payment.succeeded']);
  assert.ok(JSON.stringify(events[0]).includes('wechat_miniprogram'));
  // Paid: nothing more to pay.
  assert.equal((await merchantCall(session.id, { openid })).status, 409);
});

test('audit: a forged Alipay notify for a real session is refused and recorded with its reason; the session is unchanged', async () => {
  const session = await createSession({ methods: ['alipay_qr'] });
  const action = (await pay(session, 'alipay_qr')).body;
  const order = await orderFor(action.data);
  const form = new URLSearchParams({
    notify_type: 'trade_status_sync', notify_id: 'forged', app_id: workerConfig.ALIPAY_APP_ID, charset: 'utf-8', version: '1.0',
    sign_type: 'RSA2', sign: Buffer.from('not a signature').toString('base64'), trade_no: '2026000000000000', out_trade_no: order.out_trade_no,
    trade_status: 'TRADE_SUCCESS', total_amount: '68.00', gmt_payment: '2026-01-01 10:00:00', notify_time: '2026-01-01 10:00:00',
  });
  const response = await fetch(`${workerUrl}/v1/notify/alipay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  assert.equal(await response.text(), 'fail');
  const trail = (await auditOf(session)).events;
  const refused = trail.find((e) => e.kind === 'callback.refused');
  assert.ok(refused, JSON.stringify(trail));
  assert.equal(refused.detail, 'unverified');
  assert.equal(refused.out_trade_no, order.out_trade_no);
  assert.ok(trail.some((e) => e.kind === 'provider.answer' && e.detail === 'qr' && e.out_trade_no === order.out_trade_no), 'the order creation answer');
  assert.equal((await readSession(session)).status, 'processing');
  // Forgeries cannot fill the trail: at most 20 such entries.
  for (let i = 0; i < 25; i++) {
    await fetch(`${workerUrl}/v1/notify/alipay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  }
  assert.equal((await auditOf(session)).events.filter((e) => e.kind === 'callback.refused').length, 20);
});

test('hostile bodies: 1 MiB+ callbacks refused unread, malformed callbacks refused, POST /v1/sessions 1 MiB → 413 in the error shape', async () => {
  const session = await createSession({ methods: ['alipay_qr'] });
  const order = await orderFor((await pay(session, 'alipay_qr')).body.data);
  const before = await auditOf(session);
  const huge = `out_trade_no=${order.out_trade_no}&orderId=${order.out_trade_no}&pad=${'a'.repeat(1024 * 1024 + 10)}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const wechatHeaders = { 'content-type': 'application/json', 'wechatpay-serial': 'X', 'wechatpay-signature': 'c2ln', 'wechatpay-timestamp': `${Math.floor(Date.now() / 1000)}`, 'wechatpay-nonce': 'n' };
  const cases = [
    ['alipay', form, huge, (r, t) => assert.equal(t, 'fail')],
    ['unionpay', form, huge, (r) => assert.equal(r.status, 400)],
    ['wechatpay', wechatHeaders, `{"pad":"${'a'.repeat(1024 * 1024 + 10)}"}`, (r) => assert.equal(r.status, 413)],
    ['alipay', form, '%%%&&==&sign=%ZZ', (r, t) => assert.equal(t, 'fail')],
    ['unionpay', form, '%%%&&==&signature=%ZZ', (r) => assert.equal(r.status, 400)],
    ['wechatpay', wechatHeaders, '{"id": "x", "resource": ', (r) => assert.ok(r.status === 401 || r.status === 400, `${r.status}`)],
    ['wechatpay', wechatHeaders, '\u0000\u0001not json', (r) => assert.ok(r.status >= 400 && r.status < 500, `${r.status}`)],
  ];
  for (const [provider, headers, body, check] of cases) {
    let response;
    try {
      response = await fetch(`${workerUrl}/v1/notify/${provider}`, { method: 'POST', headers, body });
    } catch (e) {
      // Refused unread: workerd may answer and close before the client has written 1 MiB, and the
      // client then sees the connection reset instead of the answer. The provider would retry; the
      // session must still be unchanged (checked below). Only the oversized bodies may end so.
      // (The error's code varies with when the connection closed: EPIPE, ECONNRESET, UND_ERR_SOCKET, …)
      assert.ok(body.length > 1024 * 1024, `${provider}: a small body must be answered (${e.cause?.code ?? e})`);
      continue;
    }
    check(response, await response.text());
  }
  const after = await auditOf(session);
  assert.equal((await readSession(session)).status, 'processing', 'the session is unchanged');
  assert.equal(after.events.filter((e) => e.kind === 'callback.refused' && e.detail !== 'unverified').length, 0);
  assert.equal(after.events.filter((e) => !['callback.refused'].includes(e.kind)).length, before.events.length, 'nothing but refusals recorded');

  const sessions = (body) =>
    fetch(`${workerUrl}/v1/sessions`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body });
  const big = await sessions(JSON.stringify({ order_id: 'big', amount: 100, currency: 'CNY', description: 'x'.repeat(1024 * 1024) }));
  assert.equal(big.status, 413);
  const bigError = (await big.json()).error;
  assert.equal(bigError.code, 'body_too_large');
  assert.equal(typeof bigError.message, 'string');
  for (const body of ['{"order_id": ', 'not json at all', '[1,2,3]']) {
    const response = await sessions(body);
    assert.equal(response.status, 400, body);
    assert.equal((await response.json()).error.code, 'invalid_request');
  }
});

test('restart: merchant endpoint down, the worker restarted on the same storage, endpoint back → the event is delivered once', async () => {
  const session = await createSession({ methods: ['alipay_qr'] });
  const order = await orderFor((await pay(session, 'alipay_qr')).body.data);
  endpointDown = true;
  try {
    assert.equal((await control(`orders/alipay/${order.out_trade_no}/pay`)).status, 200);
    await waitFor(() => hooksFor(session.id).some((h) => h.status === 500), 'a failed delivery');
    await mf.dispose();
    mf = undefined;
  } finally {
    endpointDown = false;
  }
  mf = startWorker(workerConfig);
  await mf.ready;
  // The first retry is due 5 s after the failure: only the persisted alarm can bring it.
  await waitFor(() => hooksFor(session.id).some((h) => h.status === 204), 'the delivery after the restart', 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  const delivered = hooksFor(session.id).filter((h) => h.status === 204);
  assert.equal(delivered.length, 1, 'delivered once');
  const event = verified(delivered[0]);
  assert.equal(event.type, 'payment.succeeded');
  assert.ok(hooksFor(session.id).filter((h) => h.status === 500).every((h) => h.headers['webhook-id'] === event.id), 'the same event retried');
  assert.equal((await readSession(session)).status, 'paid');
});
