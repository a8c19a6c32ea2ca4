// The truth when callbacks are late or lost, end to end in workerd (Miniflare) against the sandbox:
// the worker's active status query (WeChat Pay, Alipay, UnionPay) on GET /v1/sessions/{id}, its
// per-session rate limit, closing the other attempts once one is paid (and a duplicate found when
// closing), the merchant's audit trail (GET /v1/sessions/{id}/events) and the session's alarm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWebhookReceiver, startWorker, waitFor as waitUntil } from './worker-harness.mjs';
import { Webhook } from 'standardwebhooks';
import { startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const API_KEY = 'sk_test_query_flow_0123456789abc';
const SESSION_SECRET = 'query-flow-session-secret-0123456789abcdef';
const WEBHOOK_SECRET = `whsec_${Buffer.from('edgepay-test-webhook-secret-32bytes!!').toString('base64')}`;

let sandbox;
let mf;
let workerUrl;
let hooks;
let config;
let received;

before(async () => {
  sandbox = await startSandbox({ name: 'worker-query-test', callbackScale: 0.001 });
  config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  hooks = await startWebhookReceiver();
  received = hooks.received;
  ({ mf, url: workerUrl } = await startWorker({
    config,
    bindings: { MERCHANT_API_KEY: API_KEY, SESSION_SECRET, MERCHANT_WEBHOOK_URL: hooks.url, MERCHANT_WEBHOOK_SECRET: WEBHOOK_SECRET },
  }));
});

after(async () => {
  await mf?.dispose();
  await sandbox?.stop();
  await hooks?.close();
});

async function faults(body) {
  const response = await fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
}

async function createSession(extra = {}) {
  const response = await fetch(`${workerUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `order-${Date.now()}-${Math.random()}`, amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g', ...extra }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

async function pay(session, method) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': USER_AGENTS.desktop },
    body: JSON.stringify({ method }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}

async function readSession(session) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.client_secret}` } });
  assert.equal(response.status, 200);
  return response.json();
}

async function auditTrail(session, key = API_KEY) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}/events`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  return { status: response.status, body: await response.json() };
}

const orders = async () => (await fetch(`${sandbox.url}/sandbox/control/orders`)).json();
const sandboxOrder = async (provider, no) => (await fetch(`${sandbox.url}/sandbox/control/orders/${provider}/${no}`)).json();
const payAtSandbox = async (provider, no) => assert.equal((await fetch(`${sandbox.url}/sandbox/control/orders/${provider}/${no}/pay`, { method: 'POST' })).status, 200);
const field = (action, name) => action.fields.find(([k]) => k === name)?.[1];

/** Starts an attempt with `method` and returns its order number at the sandbox. */
async function startAttempt(session, method) {
  const action = await pay(session, method);
  if (action.type === 'form') {
    // UnionPay: the order exists once the shopper's browser posts the form to the gateway.
    const gateway = await fetch(action.action, { method: action.method, body: new URLSearchParams(action.fields), redirect: 'manual' });
    assert.equal(gateway.status, 302, await gateway.text());
    return { provider: 'unionpay', no: field(action, 'orderId') };
  }
  const order = (await orders()).find((o) => o.detail?.qr_data === action.data);
  assert.ok(order, `the ${method} order exists at the sandbox`);
  return { provider: order.provider, no: order.out_trade_no };
}

const waitFor = (predicate, what, ms = 10_000) => waitUntil(predicate, what, ms, 100);

const eventsFor = (sessionId) => received.filter((r) => r.body.includes(sessionId)).map((r) => new Webhook(WEBHOOK_SECRET).verify(r.body, r.headers));

for (const method of ['wechat_native', 'alipay_qr', 'unionpay_pc']) {
  test(`${method}: callback lost → polling GET /v1/sessions/{id} finds the payment within seconds`, async () => {
    await faults({ callbacks: 'drop' });
    try {
      const session = await createSession({ methods: [method] });
      const { provider, no } = await startAttempt(session, method);
      // Not paid yet: a poll queries the provider, which says so; nothing changes.
      assert.equal((await readSession(session)).status, 'processing');
      await payAtSandbox(provider, no);
      const paidAt = Date.now();
      await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid by a query', 8_000);
      assert.ok(Date.now() - paidAt < 6_000, 'found within a few seconds (3 s rate limit)');
      const order = await sandboxOrder(provider, no);
      assert.equal(order.deliveries.length, 0, 'the callback really was dropped');
      await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');
      const [event] = eventsFor(session.id);
      assert.equal(event.type, 'payment.succeeded');
      assert.equal(event.data.payment?.provider_transaction_id ?? event.data.provider_transaction_id, order.transaction_id);

      const { body } = await auditTrail(session);
      const kinds = body.events.map((e) => `${e.kind}${e.detail ? `:${e.detail}` : ''}`);
      assert.ok(kinds.includes('query.result:not_paid'), kinds.join(' '));
      assert.ok(kinds.includes('query.result:paid'), kinds.join(' '));
      assert.ok(!kinds.some((k) => k.startsWith('callback.')), 'no callback reached the worker');
    } finally {
      await faults({ callbacks: 'normal' });
    }
  });
}

test('rate limit: two polls within 3 s → one provider query; after 3 s → another', async () => {
  const session = await createSession({ methods: ['wechat_native'] });
  const { no } = await startAttempt(session, 'wechat_native');
  const queries = async (since) =>
    (await (await fetch(`${sandbox.url}/sandbox/control/requests?since_ms=${since}`)).json()).filter(
      (r) => r.method === 'GET' && r.target.startsWith(`/v3/pay/transactions/out-trade-no/${no}`),
    ).length;
  const since = Date.now() - 1;
  await readSession(session);
  await readSession(session);
  await readSession(session);
  assert.equal(await queries(since), 1, 'three polls within 3 s, one query');
  await new Promise((r) => setTimeout(r, 3_100));
  await readSession(session);
  assert.equal(await queries(since), 2, 'the next poll after 3 s queries again');
  const { body } = await auditTrail(session);
  assert.equal(body.events.filter((e) => e.kind === 'query.result').length, 2);
  // While processing, the alarm is set for a query soon (10 s after the attempt), well before expiry.
  assert.ok(body.alarm_at && body.alarm_at <= Date.now() + 11_000, `alarm at ${body.alarm_at}`);
});

test('two methods, one paid → the other is closed at its provider; the audit trail tells it in order', async () => {
  const session = await createSession({ methods: ['wechat_native', 'alipay_qr'] });
  const wechat = await startAttempt(session, 'wechat_native');
  const alipay = await startAttempt(session, 'alipay_qr');
  await payAtSandbox('alipay', alipay.no);
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
  await waitFor(async () => (await sandboxOrder('wechatpay', wechat.no)).status === 'closed', 'the WeChat order to be closed at the provider');
  await waitFor(async () => (await auditTrail(session)).body.events.some((e) => e.kind === 'webhook.acknowledged'), 'the acknowledged webhook');
  await waitFor(async () => (await auditTrail(session)).body.events.some((e) => e.kind === 'close.done'), 'close.done in the trail');

  const { status, body } = await auditTrail(session);
  assert.equal(status, 200);
  const kinds = body.events.map((e) => e.kind);
  const order = ['session.created', 'attempt.started', 'attempt.started', 'callback.accepted', 'attempt.paid', 'event.queued', 'close.queued', 'close.done'];
  let at = -1;
  for (const kind of order) {
    const next = kinds.indexOf(kind, at + 1);
    assert.ok(next > at, `${kind} after index ${at} in ${kinds.join(' ')}`);
    at = next;
  }
  assert.ok(kinds.indexOf('webhook.acknowledged') > kinds.indexOf('event.queued'));
  assert.deepEqual(body.events.filter((e) => e.kind === 'attempt.started').map((e) => e.detail), ['wechat_native', 'alipay_qr']);
  assert.equal(body.events.find((e) => e.kind === 'close.queued').out_trade_no, wechat.no);
  const times = body.events.map((e) => e.at_ms);
  assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in time order');
  // No secret, signature or payer id in the trail.
  const text = JSON.stringify(body);
  const payer = (await sandboxOrder('alipay', alipay.no)).payer;
  assert.ok(payer && !text.includes(payer), 'no payer id');
  for (const secret of [API_KEY, SESSION_SECRET, WEBHOOK_SECRET, session.client_secret]) assert.ok(!text.includes(secret));
  assert.ok(!/sign|BEGIN|openid|buyer/i.test(text), text);
  // A paid session has no alarm left but its webhook retries (none: delivered).
  assert.equal(eventsFor(session.id).filter((e) => e.type === 'payment.succeeded').length, 1);
});

test('closing the other attempt finds it paid after all → payment.duplicate', async () => {
  const session = await createSession({ methods: ['wechat_native', 'alipay_qr'] });
  const wechat = await startAttempt(session, 'wechat_native');
  const alipay = await startAttempt(session, 'alipay_qr');
  // The WeChat payment's callback is lost; the Alipay one arrives and pays the session.
  await faults({ callbacks: 'drop' });
  try {
    await payAtSandbox('wechatpay', wechat.no);
  } finally {
    await faults({ callbacks: 'normal' });
  }
  await payAtSandbox('alipay', alipay.no);
  await waitFor(() => eventsFor(session.id).some((e) => e.type === 'payment.duplicate'), 'payment.duplicate');
  const duplicate = eventsFor(session.id).find((e) => e.type === 'payment.duplicate');
  assert.ok(JSON.stringify(duplicate).includes(wechat.no));
  const kinds = (await auditTrail(session)).body.events.map((e) => `${e.kind}${e.detail ? `:${e.detail}` : ''}`);
  assert.ok(kinds.includes('close.found_paid'), kinds.join(' '));
  assert.ok(kinds.includes('attempt.paid:duplicate'), kinds.join(' '));
  assert.equal((await readSession(session)).status, 'paid');
});

test('the audit trail is the merchant\'s: 401 without the API key, with a wrong one, or with the client secret', async () => {
  const session = await createSession();
  for (const key of [null, 'sk_wrong', session.client_secret]) {
    const { status, body } = await auditTrail(session, key);
    assert.equal(status, 401);
    assert.equal(body.error.code, 'unauthorized');
  }
  assert.equal((await auditTrail({ id: 'cs_000000000000000000000000' })).status, 404);
});

test('a session\'s alarm is set at its expiry (no cron needed: each session expires itself)', async () => {
  const session = await createSession({ expires_in: 60 });
  // The alarm first copies the creation to the ledger (within a second), then waits for the expiry.
  const first = (await auditTrail(session)).body.alarm_at;
  assert.ok(first <= Date.now() + 1_500, `the ledger copy comes first: ${first}`);
  await waitFor(async () => (await auditTrail(session)).body.alarm_at === session.expires_at * 1000, 'the alarm at the expiry', 5_000);
  const { body } = await auditTrail(session);
  assert.deepEqual(body.events.map((e) => e.kind), ['session.created']);
  assert.equal(body.alarm_at, session.expires_at * 1000, 'the alarm is the expiry');
});
