// Alipay end to end in workerd (Miniflare) against the sandbox: the widget's pay call creates the
// trade, the shopper pays at the sandbox, the sandbox's signed notification reaches the worker,
// which records the payment once and tells the merchant's webhook, signed per Standard Webhooks
// (verified here with npm standardwebhooks).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWebhookReceiver, startWorker, waitFor } from './worker-harness.mjs';
import { Webhook } from 'standardwebhooks';
import { startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const API_KEY = 'sk_test_alipay_flow_0123456789';
const WEBHOOK_SECRET = `whsec_${Buffer.from('edgepay-test-webhook-secret-32bytes!!').toString('base64')}`;

let sandbox;
let mf;
let workerUrl;
let hooks;
let received;
// How many webhook deliveries to answer 500 before answering 204 again (a merchant endpoint down).
let failWebhooks = 0;
// How many webhook deliveries to leave unanswered (a merchant endpoint that hangs).
let hangWebhooks = 0;

before(async () => {
  sandbox = await startSandbox({ name: 'worker-alipay-test', callbackScale: 0.001 });
  const config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  hooks = await startWebhookReceiver(() => (hangWebhooks > 0 ? (hangWebhooks--, 0) : failWebhooks > 0 ? (failWebhooks--, 500) : 204));
  received = hooks.received;
  ({ mf, url: workerUrl } = await startWorker({
    config,
    bindings: {
      MERCHANT_API_KEY: API_KEY,
      SESSION_SECRET: 'alipay-flow-session-secret-0123456789abcdef',
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

async function createSession(extra = {}) {
  const response = await fetch(`${workerUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `order-${Date.now()}`, amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g', ...extra }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

async function pay(session, method, userAgent = USER_AGENTS.desktop) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ method }),
  });
  return { status: response.status, body: await response.json() };
}

async function readSession(session) {
  const response = await fetch(`${workerUrl}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.client_secret}` } });
  return response.json();
}

async function sandboxOrderFor(qrData) {
  const orders = await (await fetch(`${sandbox.url}/sandbox/control/orders`)).json();
  return orders.find((o) => o.detail?.qr_data === qrData);
}

/** A new session paid with Alipay's QR code at the sandbox (which then sends its callback). */
async function sessionPaidByQr() {
  const session = await createSession({ methods: ['alipay_qr'] });
  const { body: action } = await pay(session, 'alipay_qr');
  const order = await sandboxOrderFor(action.data);
  await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}/pay`, { method: 'POST' });
  return session;
}


const eventsFor = (sessionId) => received.filter((r) => JSON.parse(r.body).data?.session?.id === sessionId || r.body.includes(sessionId));

test('QR: pay → scan and pay at the sandbox → notify → paid once → one signed webhook', async () => {
  const session = await createSession({ methods: ['alipay_qr', 'alipay_page'] });
  const { status, body: action } = await pay(session, 'alipay_qr');
  assert.equal(status, 200, JSON.stringify(action));
  assert.equal(action.type, 'qr');
  assert.ok(action.data && action.expires_at > Date.now() / 1000);
  assert.equal((await readSession(session)).action.data, action.data, 'the widget can read the action back');

  const order = await sandboxOrderFor(action.data);
  assert.ok(order, 'the trade exists at the sandbox');
  assert.equal(order.amount_fen, 6800);
  const paid = await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}/pay`, { method: 'POST' });
  assert.equal(paid.status, 200);

  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
  await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');
  const [hook] = eventsFor(session.id);
  const event = new Webhook(WEBHOOK_SECRET).verify(hook.body, hook.headers);
  assert.equal(event.type, 'payment.succeeded');
  assert.equal(hook.headers['webhook-id'], event.id);
  assert.ok(hook.body.includes('"amount":6800'), hook.body);

  // The sandbox acknowledged delivery only once the worker answered `success`.
  const after = await (await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}`)).json();
  assert.ok(after.deliveries.some((d) => d.acknowledged), JSON.stringify(after.deliveries));

  // A storm of the same notification: all acknowledged, nothing changes, no second event.
  const storm = await (await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}/notify`, { method: 'POST', body: '{"times":20}', headers: { 'content-type': 'application/json' } })).json();
  assert.equal(storm.acknowledged, 20);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(eventsFor(session.id).length, 1, 'exactly one merchant event');
  assert.equal((await readSession(session)).status, 'paid');

  // A paid session takes no more payments.
  assert.equal((await pay(session, 'alipay_qr')).body.error.code, 'session_not_payable');
});

test('a merchant endpoint that is down gets the event later, once', async () => {
  failWebhooks = 1;
  const session = await sessionPaidByQr();
  await waitFor(() => eventsFor(session.id).some((r) => r.status === 204), 'the retried webhook', 20_000);
  const deliveries = eventsFor(session.id);
  assert.deepEqual(deliveries.map((d) => d.status), [500, 204]);
  assert.equal(deliveries[0].headers['webhook-id'], deliveries[1].headers['webhook-id'], 'a retry is the same event');
  new Webhook(WEBHOOK_SECRET).verify(deliveries[1].body, deliveries[1].headers);
});

test('a merchant endpoint that hangs: the delivery is given up after 10 s and retried, the same event', async () => {
  hangWebhooks = 1;
  const session = await sessionPaidByQr();
  await waitFor(() => eventsFor(session.id).some((r) => r.status === 204), 'the webhook after the hung one', 40_000);
  const deliveries = eventsFor(session.id);
  assert.deepEqual(deliveries.map((d) => d.status), [0, 204]);
  assert.equal(deliveries[0].headers['webhook-id'], deliveries[1].headers['webhook-id'], 'a retry is the same event');
});

test('a badly signed notification is refused and changes nothing', async () => {
  const { body } = await (await fetch(`${sandbox.url}/sandbox/control/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'alipay', url: `${workerUrl}/v1/notify/alipay` }),
  })).json().then((b) => ({ body: b }));
  assert.equal(body.acknowledged, false);
  const garbage = await fetch(`${workerUrl}/v1/notify/alipay`, { method: 'POST', body: 'out_trade_no=EPX&trade_status=TRADE_SUCCESS&sign=AAAA' });
  assert.equal(await garbage.text(), 'fail');
});

test('page pay redirects the browser to the signed gateway request, which opens the cashier', async () => {
  const session = await createSession({ return_url: 'https://shop.example/thanks' });
  const { status, body: action } = await pay(session, 'alipay_page');
  assert.equal(status, 200, JSON.stringify(action));
  assert.equal(action.type, 'redirect');
  assert.ok(action.url.startsWith(`${sandbox.url}/gateway.do?`), action.url);
  const gateway = await fetch(action.url, { redirect: 'manual' });
  assert.equal(gateway.status, 302, await gateway.text());
  assert.match(gateway.headers.get('location'), /\/sandbox\/cashier\/alipay\/EP[A-Z2-7]{30}$/);
});

test('methods the environment or the session does not allow are refused with their reason', async () => {
  const session = await createSession({ methods: ['alipay_qr', 'alipay_wap'] });
  const inWechat = await pay(session, 'alipay_wap', USER_AGENTS.wechatIphone);
  assert.equal(inWechat.status, 403);
  assert.equal(inWechat.body.error.code, 'method_not_allowed');
  assert.equal(inWechat.body.error.reason, 'blocked_in_wechat');
  const notForSession = await pay(session, 'alipay_page');
  assert.equal(notForSession.body.error.reason, 'not_enabled_for_session');
  const unknown = await pay(session, 'paypal');
  assert.equal(unknown.body.error.code, 'invalid_request');
  const wrongSecret = await fetch(`${workerUrl}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'alipay_qr' }),
  });
  assert.equal(wrongSecret.status, 401);
});

test('after the mini-program hand-off (see worker-gaps.test.mjs) the session stays payable', async () => {
  const session = await createSession();
  const handOff = await pay(session, 'wechat_miniprogram', `${USER_AGENTS.wechatIphone} miniProgram`);
  assert.equal(handOff.status, 200);
  assert.equal(handOff.body.type, 'miniprogram');
  assert.ok(['open', 'processing'].includes((await readSession(session)).status));
  assert.equal((await pay(session, 'alipay_qr')).body.type, 'qr');
});

test('the sandbox failing is a clear retryable error, and the session is not stuck', async () => {
  const session = await createSession();
  await fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"fail_next":1}' });
  const failed = await pay(session, 'alipay_qr');
  assert.equal(failed.status, 503);
  assert.deepEqual([failed.body.error.code, failed.body.error.retryable], ['provider_unavailable', true]);
  assert.equal((await pay(session, 'alipay_qr')).body.type, 'qr');
});

test('an Alipay gateway that hangs is given up after 10 s: retryable, and the session is not stuck', async () => {
  const session = await createSession();
  await fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"hang_next":1,"hang_ms":20000,"fault_path":"/gateway.do"}' });
  const started = Date.now();
  const hung = await pay(session, 'alipay_qr');
  assert.equal(hung.status, 503, hung.text);
  assert.deepEqual([hung.body.error.code, hung.body.error.retryable], ['provider_unavailable', true]);
  assert.ok(Date.now() - started < 15_000, 'the worker stopped waiting');
  assert.equal((await pay(session, 'alipay_qr')).body.type, 'qr');
});

test('the first callback delivered 1,000 times at once: all acknowledged, one transition, one merchant event', async () => {
  const session = await createSession({ methods: ['alipay_qr'] });
  const { body: action } = await pay(session, 'alipay_qr');
  const order = await sandboxOrderFor(action.data);
  const faults = (body) => fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  // Paid at the sandbox with its own callback dropped: the storm carries the first one.
  await faults({ callbacks: 'drop' });
  try {
    await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}/pay`, { method: 'POST' });
  } finally {
    await faults({});
  }
  // (Not read through GET /v1/sessions/{id}: its active query would find the payment first.)
  const trailOf = async () => (await (await fetch(`${workerUrl}/v1/sessions/${session.id}/events`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()).events;
  assert.equal((await trailOf()).filter((e) => e.kind === 'attempt.paid').length, 0);
  const storm = await (await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}/notify`, { method: 'POST', body: '{"times":1000}', headers: { 'content-type': 'application/json' } })).json();
  assert.deepEqual(storm, { sent: 1000, acknowledged: 1000 });
  assert.equal((await readSession(session)).status, 'paid');
  await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(eventsFor(session.id).length, 1, 'exactly one merchant event');
  const trail = await trailOf();
  assert.equal(trail.filter((e) => e.kind === 'attempt.paid').length, 1, 'one transition');
  assert.equal(trail.filter((e) => e.kind === 'event.queued').length, 1, 'one event queued');
  assert.equal(trail.filter((e) => e.kind === 'callback.accepted').length, 1, 'one callback applied, the rest acknowledged as repeats');
});
