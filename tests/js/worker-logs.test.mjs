// The worker's console in workerd (Miniflare, the runtime's own stdout/stderr): one JSON object a
// line for refusals, failures and callbacks, and never a secret, a key or a payer's id in any line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWebhookReceiver, startWorker, waitFor } from './worker-harness.mjs';
import { startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const API_KEY = 'sk_test_logs_0123456789abcdefXYZ';
const SESSION_SECRET = 'logs-test-session-secret-0123456789abcdef';
const WEBHOOK_SECRET = `whsec_${Buffer.from('edgepay-logs-test-webhook-secret-32b').toString('base64')}`;
const DATA_KEY = Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');

let sandbox;
let mf;
let url;
let hooks;
let config;
const output = [];

before(async () => {
  sandbox = await startSandbox({ name: 'worker-logs-test', callbackScale: 0.001 });
  config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  // The merchant's endpoint is down: every delivery fails (and is logged).
  hooks = await startWebhookReceiver(() => 500);
  ({ mf, url } = await startWorker({
    config,
    options: {
      handleRuntimeStdio(stdout, stderr) {
        for (const stream of [stdout, stderr]) stream.on('data', (d) => output.push(d.toString()));
      },
    },
    bindings: {
      MERCHANT_API_KEY: API_KEY,
      SESSION_SECRET,
      DATA_ENCRYPTION_KEY: DATA_KEY,
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

/** The worker's JSON lines so far (workerd's own lines are not JSON objects with an event). */
function lines() {
  return output
    .join('')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .flatMap((l) => {
      const start = l.indexOf('{');
      if (start < 0) return [];
      try {
        const value = JSON.parse(l.slice(start));
        return value && typeof value.event === 'string' ? [value] : [];
      } catch {
        return [];
      }
    });
}

test('refusals, callbacks and failed webhook deliveries are logged as JSON lines, without a secret in any line', async () => {
  const create = await fetch(`${url}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `logs-${Date.now()}`, amount: 1200, currency: 'CNY', description: 'logs', methods: ['alipay_qr'], wechat_openid: 'oLogsTestOpenid0123456789abc' }),
  });
  assert.equal(create.status, 201);
  const session = await create.json();

  // A wrong client secret, an unknown route, a forged callback.
  assert.equal((await fetch(`${url}/v1/sessions/${session.id}`, { headers: { authorization: 'Bearer cs_wrong' } })).status, 401);
  assert.equal((await fetch(`${url}/v1/nothing?token=should-not-be-logged`)).status, 404);
  const forged = await fetch(`${url}/v1/notify/alipay`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'out_trade_no=EP0&trade_status=TRADE_SUCCESS&sign=Zm9yZ2Vk&sign_type=RSA2',
  });
  assert.equal(await forged.text(), 'fail');

  // A real payment: its callback is logged with status 200, the webhook's failed deliveries too.
  const pay = await fetch(`${url}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': USER_AGENTS.desktop },
    body: JSON.stringify({ method: 'alipay_qr' }),
  });
  const action = await pay.json();
  assert.equal(pay.status, 200, JSON.stringify(action));
  const orders = await (await fetch(`${sandbox.url}/sandbox/control/orders`)).json();
  const order = orders.find((o) => o.detail?.qr_data === action.data);
  assert.equal((await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}/pay`, { method: 'POST' })).status, 200);

  await waitFor(() => lines().some((l) => l.event === 'webhook.attempt_failed'), 'a failed delivery in the log');
  await waitFor(() => lines().some((l) => l.event === 'callback' && l.status === 200), 'the accepted callback in the log');
  const all = lines();
  const find = (pred, what) => assert.ok(all.some(pred), `${what}: ${JSON.stringify(all)}`);
  find((l) => l.event === 'request' && l.level === 'warn' && l.status === 401 && l.path === `/v1/sessions/${session.id}`, 'the 401');
  find((l) => l.event === 'request' && l.status === 404 && l.path === '/v1/nothing', 'the 404, without its query');
  find((l) => l.event === 'callback' && l.path === '/v1/notify/alipay' && l.status === 200, 'a callback line');
  find((l) => l.event === 'webhook.attempt_failed' && l.status === 500 && l.type === 'payment.succeeded' && /^evt_/.test(l.event_id), 'the failed delivery');
  for (const l of all) assert.ok(['info', 'warn', 'error'].includes(l.level), JSON.stringify(l));

  // No line carries a secret, a key, the client secret, a payer's id or a query string.
  const text = output.join('');
  const pemBodies = Object.values(config)
    .filter((v) => typeof v === 'string' && v.includes('-----BEGIN'))
    .flatMap((pem) => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----')));
  const secrets = [API_KEY, SESSION_SECRET, WEBHOOK_SECRET, WEBHOOK_SECRET.slice(6), DATA_KEY, session.client_secret, 'oLogsTestOpenid0123456789abc',
    config.WECHATPAY_APIV3_KEY, config.WECHATPAY_APP_SECRET, 'should-not-be-logged', ...pemBodies];
  assert.ok(pemBodies.length > 10, 'the key material to look for');
  for (const secret of secrets) assert.ok(secret && !text.includes(secret), `a secret in the log: ${String(secret).slice(0, 12)}…`);
});
