// Checkout sessions in workerd (Miniflare, the worker-build output unchanged): the merchant backend
// creates them with its API key, the widget reads them with the client secret and gets the methods
// that work where the shopper is.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { WORKER_OPTIONS } from './worker-harness.mjs';
import { USER_AGENTS } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const API_KEY = 'sk_test_merchant_key_0123456789abcdef';
const SESSION_SECRET = 'test-session-secret-0123456789abcdef0123456789';
const instances = [];

function worker(bindings = { MERCHANT_API_KEY: API_KEY, SESSION_SECRET }) {
  const mf = new Miniflare({
    ...WORKER_OPTIONS,
    bindings,
  });
  instances.push(mf);
  return mf;
}

after(async () => {
  await Promise.all(instances.map((mf) => mf.dispose()));
});

const mf = worker();
const ORDER = { order_id: 'order-1001', amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g' };

async function create(body = ORDER, headers = {}, target = mf) {
  const response = await target.dispatchFetch('http://worker.test/v1/sessions', {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function read(id, secret, userAgent = USER_AGENTS.desktop, hints) {
  const headers = { authorization: `Bearer ${secret}`, 'user-agent': userAgent };
  if (hints) headers['x-edgepay-hints'] = JSON.stringify(hints);
  const response = await mf.dispatchFetch(`http://worker.test/v1/sessions/${id}`, { headers });
  return { status: response.status, body: await response.json() };
}

test('the merchant creates a session: 201 with id, client secret, status, amount, expiry', async () => {
  const before = Math.floor(Date.now() / 1000);
  const { status, body } = await create();
  assert.equal(status, 201, JSON.stringify(body));
  assert.match(body.id, /^cs_[a-z2-7]{24}$/);
  assert.ok(body.client_secret.startsWith(`${body.id}_secret_`));
  assert.equal(body.status, 'open');
  assert.equal(body.amount, 6800);
  assert.equal(body.currency, 'CNY');
  assert.ok(body.expires_at >= before + 1800 && body.expires_at <= before + 1805, String(body.expires_at));
  const other = await create();
  assert.notEqual(other.body.id, body.id, 'without an Idempotency-Key every request is a new session');
});

test('only the merchant API key may create sessions; a worker without settings says so', async () => {
  for (const authorization of [undefined, 'Bearer wrong-key', `Basic ${API_KEY}`, `Bearer ${API_KEY}x`]) {
    const headers = { 'content-type': 'application/json' };
    if (authorization) headers.authorization = authorization;
    const response = await mf.dispatchFetch('http://worker.test/v1/sessions', { method: 'POST', headers, body: JSON.stringify(ORDER) });
    assert.equal(response.status, 401, String(authorization));
    assert.equal((await response.json()).error.code, 'unauthorized');
  }
  const bare = worker({});
  const { status, body } = await create(ORDER, {}, bare);
  assert.equal(status, 503);
  assert.equal(body.error.code, 'not_configured');
});

test('invalid requests are refused with a message that names the field', async () => {
  const cases = [
    [{ ...ORDER, amount: 0 }, 'amount'],
    [{ ...ORDER, amount: -1 }, 'amount'],
    [{ ...ORDER, amount: 12.5 }, 'amount'],
    [{ ...ORDER, amount: '6800' }, 'amount'],
    [{ ...ORDER, currency: 'USD' }, 'currency'],
    [{ ...ORDER, description: '   ' }, 'description'],
    [{ ...ORDER, order_id: '' }, 'order_id'],
    [{ ...ORDER, methods: ['paypal'] }, 'methods'],
    [{ ...ORDER, methods: [] }, 'methods'],
    [{ ...ORDER, return_url: 'javascript:alert(1)' }, 'return_url'],
    [{ ...ORDER, expires_in: 10 }, 'expires_in'],
    [{ ...ORDER, expires_in: 999999 }, 'expires_in'],
    [{ ...ORDER, metadata: { ['k'.repeat(41)]: 'v' } }, 'metadata'],
    [{ ...ORDER, price: 1 }, 'documented fields'],
    [{ amount: 6800 }, 'order_id'],
    ['not json', 'JSON'],
  ];
  for (const [body, field] of cases) {
    const { status, body: answer } = await create(body);
    assert.equal(status, 400, `${JSON.stringify(body)} → ${status}`);
    assert.equal(answer.error.code, 'invalid_request');
    assert.equal(answer.error.retryable, false);
    assert.ok(answer.error.message.includes(field), `${answer.error.message} should name ${field}`);
  }
});

test('Idempotency-Key: the same body gives the same session, another body a conflict', async () => {
  const key = `idem-${Date.now()}`;
  const first = await create(ORDER, { 'idempotency-key': key });
  const again = await create(ORDER, { 'idempotency-key': key });
  assert.equal(first.status, 201);
  assert.equal(again.status, 201);
  assert.equal(again.body.id, first.body.id);
  assert.equal(again.body.client_secret, first.body.client_secret);
  const conflict = await create({ ...ORDER, amount: 6801 }, { 'idempotency-key': key });
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error.code, 'idempotency_conflict');
  const otherKey = await create(ORDER, { 'idempotency-key': `${key}-2` });
  assert.notEqual(otherKey.body.id, first.body.id);
});

test('the widget reads the session with its client secret and gets the methods for its environment', async () => {
  const { body: created } = await create();
  const desktop = await read(created.id, created.client_secret);
  assert.equal(desktop.status, 200, JSON.stringify(desktop.body));
  assert.equal(desktop.body.amount, 6800);
  assert.equal(desktop.body.description, '凤凰单丛 250 g');
  assert.equal(desktop.body.status, 'open');
  assert.equal(desktop.body.environment.environment, 'desktop_browser');
  assert.deepEqual(desktop.body.methods, ['wechat_native', 'alipay_page', 'alipay_qr', 'unionpay_pc']);

  const wechat = await read(created.id, created.client_secret, USER_AGENTS.wechatIphone);
  assert.equal(wechat.body.environment.environment, 'wechat_inapp');
  assert.equal(wechat.body.methods[0], 'wechat_jsapi');
  const alipayWap = wechat.body.blocked.find((b) => b.method === 'alipay_wap');
  assert.equal(alipayWap.reason, 'blocked_in_wechat');

  // An iPad whose Safari sends a Mac desktop UA is a tablet, told by the touch-points hint.
  const mac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
  const ipad = await read(created.id, created.client_secret, mac, { max_touch_points: 5 });
  assert.equal(ipad.body.environment.device, 'tablet');
  assert.ok(ipad.body.methods.includes('alipay_wap') && !ipad.body.methods.includes('alipay_page'));
});

test('with the shopper\'s browser, the creation also answers the session as that browser reads it (view)', async () => {
  const iphoneHints = { max_touch_points: 5, platform: 'iPhone' };
  for (const [userAgent, hints] of [
    [USER_AGENTS.desktop, undefined],
    [USER_AGENTS.wechatIphone, iphoneHints],
  ]) {
    const shopper = hints ? { user_agent: userAgent, hints } : { user_agent: userAgent };
    const { status, body } = await create({ ...ORDER, order_id: `order-view-${hints ? 'wechat' : 'desktop'}`, shopper });
    assert.equal(status, 201, JSON.stringify(body));
    const readBack = await read(body.id, body.client_secret, userAgent, hints);
    assert.deepEqual(body.view, readBack.body, 'view is what GET answers that browser');
    assert.equal(body.view.methods[0], hints ? 'wechat_jsapi' : 'wechat_native');
  }
  // Without shopper there is no view.
  assert.equal((await create({ ...ORDER, order_id: 'order-view-none' })).body.view, undefined);
  // The shopper is not part of the session: a retry from another browser is the same session.
  const key = { 'idempotency-key': 'view-retry-1' };
  const first = await create({ ...ORDER, order_id: 'order-view-retry', shopper: { user_agent: USER_AGENTS.desktop } }, key);
  const retry = await create({ ...ORDER, order_id: 'order-view-retry', shopper: { user_agent: USER_AGENTS.wechatIphone } }, key);
  assert.equal(retry.body.id, first.body.id, JSON.stringify(retry.body));
  assert.equal(retry.body.view.environment.environment, 'wechat_inapp');
  // A malformed shopper is refused like any other field.
  for (const shopper of [{}, { user_agent: 7 }, { user_agent: 'x', cookie: 'y' }, { user_agent: 'x'.repeat(1025) }]) {
    const refused = await create({ ...ORDER, order_id: 'order-view-bad', shopper });
    assert.equal(refused.status, 400, JSON.stringify(shopper));
    assert.equal(refused.body.error.code, 'invalid_request');
  }
});

test('the merchant narrows the methods per session', async () => {
  const { body: created } = await create({ ...ORDER, methods: ['alipay_qr', 'wechat_native'] });
  const { body } = await read(created.id, created.client_secret);
  assert.deepEqual(body.methods, ['wechat_native', 'alipay_qr']);
});

test('a wrong or foreign client secret and an unknown session are refused', async () => {
  const { body: a } = await create();
  const { body: b } = await create();
  for (const secret of ['', 'nope', b.client_secret, `${a.client_secret}x`, API_KEY]) {
    const { status, body } = await read(a.id, secret);
    assert.equal(status, 401, secret);
    assert.equal(body.error.code, 'unauthorized');
  }
  assert.equal((await read('cs_not-a-session', a.client_secret)).status, 404);
});

test('no answer carries a secret', async () => {
  const { body: created } = await create();
  const { body } = await read(created.id, created.client_secret);
  for (const text of [JSON.stringify(created), JSON.stringify(body)]) {
    assert.ok(!text.includes(API_KEY) && !text.includes(SESSION_SECRET));
  }
});
