// The worker as it ships (worker-build output), running in workerd through Miniflare.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';
import { WORKER_OPTIONS } from './worker-harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOP = 'http://shop.example';
// The same compatibility date as production.
const instances = [];

function worker(bindings = {}) {
  const mf = new Miniflare({
    ...WORKER_OPTIONS,
    bindings: { ALLOWED_ORIGINS: `${SHOP}, http://other-shop.example`, ...bindings },
  });
  instances.push(mf);
  return mf;
}

after(async () => {
  await Promise.all(instances.map((mf) => mf.dispose()));
});

const bare = worker();

test('health reports the version and every provider as not configured, naming what is missing', async () => {
  const response = await bare.dispatchFetch('http://worker.test/v1/health');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const body = await response.json();
  assert.equal(body.status, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+$/);
  assert.deepEqual(Object.keys(body.providers).sort(), ['alipay', 'unionpay', 'wechatpay']);
  for (const provider of Object.values(body.providers)) assert.equal(provider.configured, false);
  assert.ok(body.providers.wechatpay.missing.includes('WECHATPAY_MCHID'));
  assert.ok(body.providers.wechatpay.missing.includes('WECHATPAY_PUBLIC_KEY'));
  assert.deepEqual(body.providers.alipay.missing, ['ALIPAY_APP_ID', 'ALIPAY_SELLER_ID', 'ALIPAY_APP_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY']);
  assert.deepEqual(body.settings, { configured: false, missing: ['MERCHANT_API_KEY', 'SESSION_SECRET'] });
});

test('a provider with every setting is configured, and no setting value appears in the answer', async () => {
  const secret = 'very-secret-value-do-not-echo';
  const mf = worker({
    ALIPAY_APP_ID: '2021000000000001',
    ALIPAY_SELLER_ID: '2088000000000001',
    ALIPAY_APP_PRIVATE_KEY: secret,
    ALIPAY_PUBLIC_KEY: secret,
    WECHATPAY_MCHID: '1900000001',
    WECHATPAY_APPID: 'wx0000000000000001',
    WECHATPAY_MERCHANT_SERIAL: 'ABC',
    WECHATPAY_MERCHANT_PRIVATE_KEY: secret,
    WECHATPAY_APIV3_KEY: secret,
    WECHATPAY_PLATFORM_CERTS: secret,
    UNIONPAY_MER_ID: '   ',
  });
  const response = await mf.dispatchFetch('http://worker.test/v1/health');
  const text = await response.text();
  assert.ok(!text.includes(secret), 'a secret value leaked into /v1/health');
  const body = JSON.parse(text);
  assert.deepEqual(body.providers.alipay, { configured: true, missing: [] });
  assert.deepEqual(body.providers.wechatpay, { configured: true, missing: [] }, 'platform-certificate mode is enough');
  assert.equal(body.providers.unionpay.configured, false);
  assert.ok(body.providers.unionpay.missing.includes('UNIONPAY_MER_ID'), 'a blank setting counts as missing');
});

test('CORS: an allowed origin is echoed exactly, an unlisted one gets no grant', async () => {
  const allowed = await bare.dispatchFetch('http://worker.test/v1/health', { headers: { Origin: SHOP } });
  assert.equal(allowed.headers.get('access-control-allow-origin'), SHOP);
  assert.match(allowed.headers.get('vary'), /Origin/);

  const other = await bare.dispatchFetch('http://worker.test/v1/health', { headers: { Origin: 'http://evil.example' } });
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('CORS preflight: allowed origin gets 204 with methods, unlisted origin gets the error shape', async () => {
  const ok = await bare.dispatchFetch('http://worker.test/v1/health', {
    method: 'OPTIONS',
    headers: { Origin: SHOP, 'Access-Control-Request-Method': 'GET' },
  });
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), SHOP);
  assert.match(ok.headers.get('access-control-allow-methods'), /POST/);

  const refused = await bare.dispatchFetch('http://worker.test/v1/health', {
    method: 'OPTIONS',
    headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' },
  });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('access-control-allow-origin'), null);
  assert.deepEqual((await refused.json()).error.code, 'origin_not_allowed');
});

test('a wildcard in ALLOWED_ORIGINS grants nothing', async () => {
  const mf = worker({ ALLOWED_ORIGINS: '*' });
  const response = await mf.dispatchFetch('http://worker.test/v1/health', { headers: { Origin: 'http://evil.example' } });
  assert.equal(response.headers.get('access-control-allow-origin'), null);
});

test('unknown routes answer the one error shape', async () => {
  for (const [method, url] of [['GET', '/nope'], ['POST', '/v1/health/x'], ['GET', '/v1']]) {
    const response = await bare.dispatchFetch(`http://worker.test${url}`, { method });
    assert.equal(response.status, 404, `${method} ${url}`);
    assert.deepEqual(await response.json(), {
      error: { code: 'not_found', message: 'No such endpoint.', retryable: false },
    });
  }
  const wrongMethod = await bare.dispatchFetch('http://worker.test/v1/health', { method: 'DELETE' });
  assert.equal(wrongMethod.status, 405);
  assert.equal((await wrongMethod.json()).error.code, 'method_not_allowed');
});
