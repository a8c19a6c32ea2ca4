// UnionPay ACP 5.1.0 end to end in workerd (Miniflare) against the sandbox: the widget's pay call
// returns the signed front consumption form, the shopper's browser posts it to the sandbox's
// gateway and pays at its cashier, the sandbox's back notification (signPubKeyCert chained to the
// configured root and middle) reaches the worker, which records the payment once and tells the
// merchant's webhook, signed per Standard Webhooks (verified here with npm standardwebhooks).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
const API_KEY = 'sk_test_unionpay_flow_0123456789';
const WEBHOOK_SECRET = `whsec_${Buffer.from('edgepay-test-webhook-secret-32bytes!!').toString('base64')}`;
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36';
// Another CA pair (payment-core's test-only fixtures): a worker trusting these must refuse the
// sandbox's notifications, whose certificate chains to the sandbox's own root.
const OTHER_ROOTS = ['test_ca_root.cert.pem', 'test_ca_middle.cert.pem']
  .map((f) => readFileSync(path.join(ROOT, 'payment-core/fixtures', f), 'utf8'))
  .join('');

let sandbox;
let config;
let hooks;
const received = [];
const workers = [];

async function startWorker(overrides = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const mf = new Miniflare({
    ...WORKER_OPTIONS,
    port,
    bindings: {
      ...config,
      MERCHANT_API_KEY: API_KEY,
      SESSION_SECRET: 'unionpay-flow-session-secret-0123456789abcdef',
      PUBLIC_BASE_URL: url,
      MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${hooks.address().port}/webhooks/edgepay`,
      MERCHANT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      ...overrides,
    },
  });
  await mf.ready;
  workers.push(mf);
  return url;
}

let workerUrl;

before(async () => {
  sandbox = await startSandbox({ name: 'worker-unionpay-test', callbackScale: 0.001 });
  config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  hooks = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  workerUrl = await startWorker();
});

after(async () => {
  for (const mf of workers) await mf.dispose();
  await sandbox?.stop();
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

async function pay(session, method, userAgent = USER_AGENTS.desktop, base = workerUrl) {
  const response = await fetch(`${base}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': userAgent },
    body: JSON.stringify({ method }),
  });
  return { status: response.status, body: await response.json() };
}

async function readSession(session, base = workerUrl) {
  const response = await fetch(`${base}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.client_secret}` } });
  return response.json();
}

const field = (action, name) => action.fields.find(([k]) => k === name)?.[1];

/** What the shopper's browser does with a form action: POST it, not following the redirect. */
function submit(action) {
  return fetch(action.action, { method: action.method, body: new URLSearchParams(action.fields), redirect: 'manual' });
}

async function sandboxOrder(orderId) {
  return (await fetch(`${sandbox.url}/sandbox/control/orders/unionpay/${orderId}`)).json();
}


const eventsFor = (sessionId) => received.filter((r) => r.body.includes(sessionId));

const unescapeHtml = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The hidden fields of an auto-submitting form page (the sandbox's front notification). */
function formFields(html) {
  return [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [unescapeHtml(m[1]), unescapeHtml(m[2])]);
}

const notify = (body, base = workerUrl) =>
  fetch(`${base}/v1/notify/unionpay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

/** Pays `session` with `method`: the form, its post to the gateway (302 to the cashier), checked. */
async function payAndSubmit(session, method, userAgent, base = workerUrl) {
  const { status, body: action } = await pay(session, method, userAgent, base);
  assert.equal(status, 200, JSON.stringify(action));
  assert.equal(action.type, 'form');
  assert.equal(action.method, 'POST');
  assert.equal(action.action, `${sandbox.url}/gateway/api/frontTransReq.do`);
  assert.equal(field(action, 'backUrl'), `${base}/v1/notify/unionpay`);
  assert.equal(field(action, 'txnAmt'), '6800');
  const gateway = await submit(action);
  assert.equal(gateway.status, 302, await gateway.text());
  const orderId = field(action, 'orderId');
  assert.match(gateway.headers.get('location'), new RegExp(`/sandbox/cashier/unionpay/${orderId}$`));
  return { action, orderId };
}

test('PC: form → gateway → cashier → back notification → paid once → one signed webhook; storm changes nothing', async () => {
  const session = await createSession({ methods: ['unionpay_pc', 'alipay_qr'] });
  const { action, orderId } = await payAndSubmit(session, 'unionpay_pc', USER_AGENTS.desktop);
  assert.equal(field(action, 'channelType'), '07');
  assert.equal(field(action, 'frontUrl'), `${workerUrl}/v1/unionpay/return`, 'no return_url: the worker page');
  assert.equal(field(action, 'merId'), config.UNIONPAY_MER_ID);
  assert.deepEqual((await readSession(session)).action, action, 'the widget can read the action back');
  const order = await sandboxOrder(orderId);
  assert.deepEqual([order.kind, order.amount_fen, order.status], ['front_pc', 6800, 'pending']);

  const paid = await fetch(`${sandbox.url}/sandbox/control/orders/unionpay/${orderId}/pay`, { method: 'POST' });
  assert.equal(paid.status, 200);
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
  await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');
  const [hook] = eventsFor(session.id);
  const event = new Webhook(WEBHOOK_SECRET).verify(hook.body, hook.headers);
  assert.equal(event.type, 'payment.succeeded');
  assert.equal(event.data.provider_transaction_id, (await sandboxOrder(orderId)).transaction_id, 'queryId');
  assert.deepEqual([event.data.provider, event.data.method, event.data.out_trade_no], ['unionpay', 'unionpay_pc', orderId]);
  assert.ok(hook.body.includes('"amount":6800'), hook.body);
  await waitFor(async () => (await sandboxOrder(orderId)).deliveries.some((d) => d.acknowledged), 'the acknowledged delivery');

  const storm = await (await fetch(`${sandbox.url}/sandbox/control/orders/unionpay/${orderId}/notify`, { method: 'POST', body: '{"times":20}', headers: { 'content-type': 'application/json' } })).json();
  assert.equal(storm.acknowledged, 20);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(eventsFor(session.id).length, 1, 'exactly one merchant event');
  assert.equal((await readSession(session)).status, 'paid');
  assert.equal((await pay(session, 'unionpay_pc')).body.error.code, 'session_not_payable');

  // The shopper's browser comes back to the worker's page (UnionPay posts its front notification there).
  for (const method of ['GET', 'POST']) {
    const page = await fetch(`${workerUrl}/v1/unionpay/return`, { method, body: method === 'POST' ? 'respCode=00&orderId=<script>' : undefined });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    const html = await page.text();
    assert.match(html, /Payment submitted/);
    assert.ok(!html.includes('<script'), 'nothing echoed, no script');
  }
});

test('mobile: a phone pays unionpay_wap at the cashier; a genuine message verifies, the same tampered is refused', async () => {
  const session = await createSession({ return_url: 'https://shop.example/thanks?order=1' });
  const { action, orderId } = await payAndSubmit(session, 'unionpay_wap', PHONE_UA);
  assert.equal(field(action, 'channelType'), '08');
  assert.equal(field(action, 'frontUrl'), 'https://shop.example/thanks?order=1');
  assert.equal((await sandboxOrder(orderId)).kind, 'front_wap');

  // The shopper pays at the cashier: the sandbox sends the back notification, and the browser
  // gets the signed front notification for the shop's page (same fields, signed by the platform).
  const cashier = await fetch(`${sandbox.url}/sandbox/cashier/unionpay/${orderId}/pay`, { method: 'POST' });
  assert.equal(cashier.status, 200);
  const front = formFields(await cashier.text());
  assert.equal(new Map(front).get('orderId'), orderId);
  assert.ok(new Map(front).get('signPubKeyCert').includes('BEGIN CERTIFICATE'));
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
  await waitFor(() => eventsFor(session.id).length >= 1, 'the webhook');

  // The genuine message is accepted (already paid: acknowledged, nothing new) …
  const genuine = await notify(new URLSearchParams(front).toString());
  assert.deepEqual([genuine.status, await genuine.text()], [200, 'ok']);
  // … and refused once any signed field changes.
  for (const [name, value] of [['txnAmt', '1'], ['queryId', '799999999999999999999'], ['respCode', '01']]) {
    const tampered = front.map(([k, v]) => [k, k === name ? value : v]);
    const refused = await notify(new URLSearchParams(tampered).toString());
    assert.deepEqual([refused.status, await refused.text()], [400, 'refused'], name);
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(eventsFor(session.id).length, 1, 'exactly one merchant event');
});

test("the sandbox's probe (a certificate that does not chain) and malformed bodies are refused and change nothing", async () => {
  const session = await createSession();
  const { orderId } = await payAndSubmit(session, 'unionpay_pc', USER_AGENTS.desktop);
  const before = received.length;
  const probe = await (await fetch(`${sandbox.url}/sandbox/control/probe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'unionpay', url: `${workerUrl}/v1/notify/unionpay` }),
  })).json();
  assert.equal(probe.acknowledged, false);
  for (const body of ['', 'orderId=EPX&respCode=00&signature=AAAA', 'a=%zz', `x=${'a'.repeat(65 * 1024)}`]) {
    const refused = await notify(body);
    assert.deepEqual([refused.status, await refused.text()], [400, 'refused'], body.slice(0, 40));
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(received.length, before, 'no merchant event');
  assert.equal((await readSession(session)).status, 'processing');
  assert.equal((await sandboxOrder(orderId)).status, 'pending');
});

test("a worker configured with another root refuses the sandbox's real notifications", async () => {
  const other = await startWorker({ UNIONPAY_ROOT_CERTS: OTHER_ROOTS });
  const health = await (await fetch(`${other}/v1/health`)).json();
  assert.equal(health.providers.unionpay.configured, true);
  const session = await createSession({}, other);
  const { orderId } = await payAndSubmit(session, 'unionpay_pc', USER_AGENTS.desktop, other);
  await fetch(`${sandbox.url}/sandbox/control/orders/unionpay/${orderId}/pay`, { method: 'POST' });
  await waitFor(async () => (await sandboxOrder(orderId)).deliveries.length >= 1, 'the first delivery');
  const storm = await (await fetch(`${sandbox.url}/sandbox/control/orders/unionpay/${orderId}/notify`, { method: 'POST', body: '{"times":3}', headers: { 'content-type': 'application/json' } })).json();
  assert.equal(storm.acknowledged, 0);
  const { deliveries } = await sandboxOrder(orderId);
  assert.ok(deliveries.every((d) => !d.acknowledged && d.status === 400), JSON.stringify(deliveries));
  assert.equal((await readSession(session, other)).status, 'processing');
  assert.equal(eventsFor(session.id).length, 0);
});

test('the gateway failing shows in the browser (the worker calls nobody to sign a form); the session is not stuck', async () => {
  const session = await createSession();
  await fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"fail_next":1}' });
  const { status, body: action } = await pay(session, 'unionpay_pc');
  assert.equal(status, 200, JSON.stringify(action));
  assert.equal((await submit(action)).status, 500, 'the injected failure hit the form post');
  // The shopper tries again: a new attempt with a new orderId, accepted by the gateway.
  const { orderId } = await payAndSubmit(session, 'unionpay_pc', USER_AGENTS.desktop);
  assert.notEqual(orderId, field(action, 'orderId'));
  await fetch(`${sandbox.url}/sandbox/control/orders/unionpay/${orderId}/pay`, { method: 'POST' });
  await waitFor(async () => (await readSession(session)).status === 'paid', 'the session to be paid');
});

test('unionpay_pc from a phone and unionpay_wap from a desktop are refused with their reason', async () => {
  const session = await createSession();
  const phone = await pay(session, 'unionpay_pc', PHONE_UA);
  assert.equal(phone.status, 403);
  assert.deepEqual([phone.body.error.code, phone.body.error.reason], ['method_not_allowed', 'desktop_only']);
  const desktop = await pay(session, 'unionpay_wap', USER_AGENTS.desktop);
  assert.deepEqual([desktop.body.error.code, desktop.body.error.reason], ['method_not_allowed', 'mobile_only']);
  assert.equal((await readSession(session)).status, 'open');
});

test('an unconfigured UnionPay is not offered and says so', async () => {
  const bare = await startWorker({ UNIONPAY_SIGN_KEY: '' });
  const health = await (await fetch(`${bare}/v1/health`)).json();
  assert.deepEqual(health.providers.unionpay, { configured: false, missing: ['UNIONPAY_SIGN_KEY'] });
  const session = await createSession({}, bare);
  const refused = await pay(session, 'unionpay_pc', USER_AGENTS.desktop, bare);
  assert.deepEqual([refused.status, refused.body.error.code], [503, 'provider_not_configured']);
  const text = JSON.stringify(refused.body);
  assert.ok(!/BEGIN|PRIVATE|signature/i.test(text), text);
});
