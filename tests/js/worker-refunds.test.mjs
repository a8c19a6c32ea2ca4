// Refunds end to end in workerd (Miniflare) against the sandbox: a session paid at the sandbox
// (Alipay, WeChat Pay, UnionPay), then POST /v1/refunds — full and partial, bounded by what was
// paid, idempotent by refund_id — submitted to the provider, its outcome recorded by the
// session's Durable Object and told to the merchant's webhook (verified with npm standardwebhooks).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWebhookReceiver, startWorker, waitFor } from './worker-harness.mjs';
import { Webhook } from 'standardwebhooks';
import { startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const API_KEY = 'sk_test_refunds_flow_0123456789';
const WEBHOOK_SECRET = `whsec_${Buffer.from('edgepay-test-webhook-secret-32bytes!!').toString('base64')}`;

let sandbox;
let mf;
let workerUrl;
let hooks;
let received;
/** How the merchant's endpoint answers a delivery (see startWebhookReceiver). */
let answer = () => 204;

before(async () => {
  sandbox = await startSandbox({ name: 'worker-refunds-test', callbackScale: 0.001 });
  const config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  hooks = await startWebhookReceiver((body) => answer(body));
  received = hooks.received;
  ({ mf, url: workerUrl } = await startWorker({
    config,
    bindings: {
      MERCHANT_API_KEY: API_KEY,
      SESSION_SECRET: 'refunds-flow-session-secret-0123456789abcdef',
      MERCHANT_WEBHOOK_URL: hooks.url,
      MERCHANT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
  }));
});

after(async () => {
  await mf?.dispose();
  await sandbox?.stop();
  await hooks?.close();
});

async function createSession(methods) {
  const response = await fetch(`${workerUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `order-${Date.now()}`, amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g', methods }),
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
  return response.json();
}


const sandboxOrders = async () => (await fetch(`${sandbox.url}/sandbox/control/orders`)).json();

/** A session of 6800 fen, paid at the sandbox with `method`. */
async function paidSession(method) {
  const session = await createSession([method]);
  const action = await pay(session, method);
  let provider;
  let no;
  if (action.type === 'qr') {
    const order = (await sandboxOrders()).find((o) => o.detail?.qr_data === action.data);
    [provider, no] = [order.provider, order.out_trade_no];
  } else {
    // UnionPay: the browser posts the form to the gateway, then the shopper pays at the cashier.
    const gateway = await fetch(action.action, { method: action.method, body: new URLSearchParams(action.fields), redirect: 'manual' });
    assert.equal(gateway.status, 302, await gateway.text());
    [provider, no] = ['unionpay', action.fields.find(([k]) => k === 'orderId')[1]];
  }
  const paid = await fetch(`${sandbox.url}/sandbox/control/orders/${provider}/${no}/pay`, { method: 'POST' });
  assert.equal(paid.status, 200, await paid.text());
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
  return session;
}

async function refund(body, key = API_KEY) {
  const response = await fetch(`${workerUrl}/v1/refunds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The verified webhook events of `sessionId` of type `type`. */
const events = (sessionId, type) =>
  received
    .filter((r) => r.body.includes(sessionId))
    .map((r) => new Webhook(WEBHOOK_SECRET).verify(r.body, r.headers))
    .filter((e) => e.type === type);

test('Alipay: two partial refunds up to the total, a third refused naming the bound, replay, conflict, webhooks', async () => {
  const session = await paidSession('alipay_qr');
  const first = await refund({ session_id: session.id, refund_id: 'rf-a-1', amount: 2800, reason: 'one cup broken' });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.deepEqual(first.body, { refund_id: 'rf-a-1', session_id: session.id, amount: 2800, status: 'succeeded' });
  assert.equal((await readSession(session)).status, 'partially_refunded');

  // The same request again: the same answer, 200, nothing new at the provider.
  const replay = await refund({ session_id: session.id, refund_id: 'rf-a-1', amount: 2800, reason: 'one cup broken' });
  assert.equal(replay.status, 200);
  assert.deepEqual(replay.body, first.body);
  // The same refund_id with another body.
  const conflict = await refund({ session_id: session.id, refund_id: 'rf-a-1', amount: 2700 });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error.code, 'idempotency_conflict');

  // More than is left: refused, naming the bound.
  const tooMuch = await refund({ session_id: session.id, refund_id: 'rf-a-2', amount: 4001 });
  assert.equal(tooMuch.status, 400);
  assert.equal(tooMuch.body.error.code, 'invalid_request');
  assert.match(tooMuch.body.error.message, /4000 fen/);

  const second = await refund({ session_id: session.id, refund_id: 'rf-a-3', amount: 4000 });
  assert.equal(second.status, 201, JSON.stringify(second.body));
  assert.equal(second.body.status, 'succeeded');
  assert.equal((await readSession(session)).status, 'refunded');

  const third = await refund({ session_id: session.id, refund_id: 'rf-a-4', amount: 1 });
  assert.equal(third.status, 409);
  assert.equal(third.body.error.code, 'session_not_refundable');

  await waitFor(() => events(session.id, 'refund.succeeded').length === 2, 'two refund.succeeded events');
  const amounts = events(session.id, 'refund.succeeded').map((e) => e.data.refund_amount).sort((a, b) => a - b);
  assert.deepEqual(amounts, [2800, 4000]);
  const order = (await sandboxOrders()).find((o) => o.provider === 'alipay' && o.out_trade_no === events(session.id, 'refund.succeeded')[0].data.out_trade_no);
  assert.equal(order.refunds.length, 2, 'two refunds at the provider, not three');
});

test('Alipay: full refund; a provider failure leaves a pending refund that a retry completes', async () => {
  const session = await paidSession('alipay_qr');
  await fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"fail_next":1}' });
  const failed = await refund({ session_id: session.id, refund_id: 'rf-full', amount: 6800 });
  assert.equal(failed.status, 503, JSON.stringify(failed.body));
  assert.equal(failed.body.error.code, 'provider_unavailable');
  assert.equal(failed.body.error.retryable, true);
  // Not lost: its amount stays reserved, and the same request completes it.
  const other = await refund({ session_id: session.id, refund_id: 'rf-other', amount: 1 });
  assert.equal(other.status, 400, 'the pending refund reserves the whole amount');
  const retried = await refund({ session_id: session.id, refund_id: 'rf-full', amount: 6800 });
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(retried.body.status, 'succeeded');
  assert.equal((await readSession(session)).status, 'refunded');
  await waitFor(() => events(session.id, 'refund.succeeded').length === 1, 'the refund.succeeded event');
});

test('an event queued while a webhook is on its way is delivered too, not overwritten by that delivery\'s record', async () => {
  // The merchant's endpoint holds the payment's webhook for a while; the refund's event is queued
  // (by another request to the session's object) meanwhile.
  let arrived;
  const paymentWebhook = new Promise((r) => (arrived = r));
  answer = (body) => {
    if (!body.includes('"payment.succeeded"') || !body.includes('"alipay_qr"')) return 204;
    arrived(JSON.parse(body).data.session_id);
    return new Promise((r) => setTimeout(() => r(204), 1_500));
  };
  try {
    const session = await paidSession('alipay_qr');
    assert.equal(await paymentWebhook, session.id);
    const refunded = await refund({ session_id: session.id, refund_id: 'rf-during', amount: 6800 });
    assert.equal(refunded.status, 201, JSON.stringify(refunded.body));
    assert.equal(refunded.body.status, 'succeeded');
    await waitFor(() => events(session.id, 'payment.succeeded').length === 1, 'the held payment webhook');
    await waitFor(() => events(session.id, 'refund.succeeded').length === 1, 'the refund webhook queued meanwhile');
    const outbox = await (await fetch(`${workerUrl}/v1/sessions/${session.id}/events`, { headers: { authorization: `Bearer ${API_KEY}` } })).json();
    const delivered = outbox.events.filter((e) => e.kind === 'webhook.acknowledged').length;
    assert.equal(delivered, 2, JSON.stringify(outbox.events.map((e) => e.kind)));
  } finally {
    answer = () => 204;
  }
});

test('refusals: wrong API key, unpaid session, unknown session, invalid body', async () => {
  const session = await createSession(['alipay_qr']);
  const wrongKey = await refund({ session_id: session.id, refund_id: 'x1', amount: 1 }, 'sk_wrong');
  assert.equal(wrongKey.status, 401);
  const unpaid = await refund({ session_id: session.id, refund_id: 'x1', amount: 1 });
  assert.equal(unpaid.status, 409);
  assert.equal(unpaid.body.error.code, 'session_not_refundable');
  const unknown = await refund({ session_id: 'cs_aaaaaaaaaaaaaaaaaaaaaaaa', refund_id: 'x1', amount: 1 });
  assert.equal(unknown.status, 404);
  for (const body of [
    { session_id: session.id, refund_id: 'x1', amount: 0 },
    { session_id: session.id, refund_id: 'x1', amount: 1.5 },
    { session_id: session.id, refund_id: 'bad id!', amount: 1 },
    { session_id: session.id, refund_id: 'x'.repeat(65), amount: 1 },
    { session_id: session.id, refund_id: 'x1', amount: 1, extra: true },
  ]) {
    const answer = await refund(body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.equal(answer.body.error.code, 'invalid_request');
  }
});

test('WeChat Pay: a partial refund is pending, then REFUND.SUCCESS makes it succeeded', async () => {
  const session = await paidSession('wechat_native');
  const first = await refund({ session_id: session.id, refund_id: 'rf-w-1', amount: 800 });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.ok(['pending', 'succeeded'].includes(first.body.status), first.body.status);
  await waitFor(async () => (await refund({ session_id: session.id, refund_id: 'rf-w-1', amount: 800 })).body.status === 'succeeded', 'the refund callback');
  assert.equal((await readSession(session)).status, 'partially_refunded');
  await waitFor(() => events(session.id, 'refund.succeeded').length === 1, 'the refund.succeeded event');
  const [event] = events(session.id, 'refund.succeeded');
  assert.deepEqual([event.data.refund_amount, event.data.refunded_total], [800, 800]);
  const rest = await refund({ session_id: session.id, refund_id: 'rf-w-2', amount: 6000 });
  assert.equal(rest.status, 201, JSON.stringify(rest.body));
  await waitFor(async () => (await readSession(session)).status === 'refunded', 'the full refund');
});

test('UnionPay: a refund (txnType 04) is taken, then its back notification makes it succeeded', async () => {
  const session = await paidSession('unionpay_pc');
  const full = await refund({ session_id: session.id, refund_id: 'rf-u-1', amount: 6800 });
  assert.equal(full.status, 201, JSON.stringify(full.body));
  await waitFor(async () => (await readSession(session)).status === 'refunded', 'the refund back notification');
  const replay = await refund({ session_id: session.id, refund_id: 'rf-u-1', amount: 6800 });
  assert.deepEqual([replay.status, replay.body.status], [200, 'succeeded']);
  await waitFor(() => events(session.id, 'refund.succeeded').length === 1, 'the refund.succeeded event');
});

test('UnionPay: the answer to a refund is lost → the retry is a duplicate orderId (12) → the worker looks the refund up and keeps it pending, and the back notification completes it', async () => {
  const session = await paidSession('unionpay_pc');
  const faults = (body) => fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // UnionPay takes the refund, the answer never reaches the worker; its notification comes late.
  await faults({ lose_answer_next: 1, callback_delay_ms: 3000 });
  try {
    const lost = await refund({ session_id: session.id, refund_id: 'rf-u-lost', amount: 6800 });
    assert.equal(lost.status, 503, JSON.stringify(lost.body));
    assert.equal(lost.body.error.retryable, true);
    const retried = await refund({ session_id: session.id, refund_id: 'rf-u-lost', amount: 6800 });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.status, 'pending', 'a duplicate orderId is not a refusal');
    const log = await (await fetch(`${sandbox.url}/sandbox/control/requests`)).json();
    const paths = log.map((e) => e.target.split('?')[0]);
    const lastRefund = paths.lastIndexOf('/gateway/api/backTransReq.do');
    assert.ok(lastRefund > 0 && paths.indexOf('/gateway/api/queryTrans.do', lastRefund) > lastRefund, 'the retry was followed by a query');
  } finally {
    await faults({});
  }
  await waitFor(async () => (await refund({ session_id: session.id, refund_id: 'rf-u-lost', amount: 6800 })).body.status === 'succeeded', 'the back notification', 15_000);
  assert.equal((await readSession(session)).status, 'refunded');
  await waitFor(() => events(session.id, 'refund.succeeded').length === 1, 'one refund.succeeded event');
});
