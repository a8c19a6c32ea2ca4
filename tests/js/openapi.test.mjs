// docs/openapi.json is kept true: every route of the worker's router (edge-worker/src/route.rs) is in
// the document and every documented path is a route; the real worker in workerd (Miniflare, against
// the sandbox) is called on every route, and each answer — status, content type, body — is checked
// against the document's schema for it, errors against the one error shape and the codes documented
// for that answer. The routes being added (GET /v1/ledger, POST /v1/sessions/{id}/miniprogram) are
// checked once they are in route.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { waitFor, WORKER_OPTIONS } from './worker-harness.mjs';
import { freePort, startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = JSON.parse(readFileSync(path.join(ROOT, 'docs/openapi.json'), 'utf8'));
const API_KEY = 'sk_test_openapi_0123456789abcdef';
const ORIGIN = 'https://shop.example.com';
const HTTP_METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options'];
/** Documented before they land in the router: checked only once route.rs has them. */
const LANDING = new Set(['GET /v1/ledger', 'POST /v1/sessions/{id}/miniprogram']);

// ---- the router, read from the source -------------------------------------------------------

/** `METHOD /path/{param}` of every route in the worker's route table (edge-worker/src/route.rs; constants resolved from the crate). */
function routerRoutes() {
  const src = path.join(ROOT, 'edge-worker/src');
  const table = readFileSync(path.join(src, 'route.rs'), 'utf8');
  const constants = new Map();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.rs')) {
        for (const [, name, value] of readFileSync(file, 'utf8').matchAll(/const (\w+): &str = "([^"]*)";/g)) constants.set(name, value);
      }
    }
  };
  walk(src);
  const routes = [];
  for (const [, method, arg] of table.matchAll(/\(Method::(\w+),\s*("[^"]*"|[\w:]+),\s*Endpoint::\w+\)/g)) {
    const raw = arg.startsWith('"') ? arg.slice(1, -1) : constants.get(arg.split('::').pop());
    assert.ok(raw, `route.rs: cannot resolve the route path ${arg}`);
    routes.push(`${method.toUpperCase()} ${raw}`);
  }
  assert.ok(routes.length >= 10, `found only ${routes.length} routes in route.rs: the pattern needs updating`);
  return routes;
}

function documentedRoutes() {
  return Object.entries(DOC.paths).flatMap(([p, item]) => HTTP_METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${p}`));
}

// ---- a JSON Schema (2020-12) validator for the keywords the document uses ---------------------

const KNOWN = new Set(['$ref', 'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'items', 'prefixItems', 'minItems', 'maxItems', 'oneOf', 'anyOf', 'minimum', 'maximum', 'minLength', 'maxLength', 'pattern', 'maxProperties', 'description', 'format', 'example']);

function resolve(ref) {
  assert.ok(ref.startsWith('#/'), `only local $ref: ${ref}`);
  return ref.slice(2).split('/').reduce((node, key) => node?.[key], DOC) ?? assert.fail(`unresolved $ref ${ref}`);
}

function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Number.isInteger(value)) return 'integer';
  return typeof value;
}

/** The problems of `value` against `schema`, as `path: why` strings (empty: valid). */
function validate(schema, value, at = '$') {
  for (const key of Object.keys(schema)) if (!KNOWN.has(key)) throw new Error(`${at}: the test's validator does not know the keyword ${key}`);
  const problems = [];
  if (schema.$ref) problems.push(...validate(resolve(schema.$ref), value, at));
  if (schema.type) {
    const types = [schema.type].flat();
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) return [...problems, `${at}: ${actual}, not ${types.join('|')}`];
  }
  if (schema.enum && !schema.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && value !== schema.const) problems.push(`${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && [...value].length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && [...value].length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) problems.push(`${at}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push(`${at}: more than ${schema.maxItems} items`);
    const prefix = schema.prefixItems ?? [];
    value.forEach((item, i) => {
      const itemSchema = i < prefix.length ? prefix[i] : schema.items;
      if (itemSchema) problems.push(...validate(itemSchema, item, `${at}[${i}]`));
    });
  }
  if (typeOf(value) === 'object') {
    for (const name of schema.required ?? []) if (!(name in value)) problems.push(`${at}: missing ${name}`);
    if (schema.maxProperties !== undefined && Object.keys(value).length > schema.maxProperties) problems.push(`${at}: more than ${schema.maxProperties} properties`);
    for (const [name, item] of Object.entries(value)) {
      if (schema.properties?.[name]) problems.push(...validate(schema.properties[name], item, `${at}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${at}: unexpected property ${name}`);
      else if (typeof schema.additionalProperties === 'object') problems.push(...validate(schema.additionalProperties, item, `${at}.${name}`));
    }
  }
  if (schema.oneOf) {
    const matching = schema.oneOf.filter((s) => validate(s, value, at).length === 0).length;
    if (matching !== 1) problems.push(`${at}: matches ${matching} of oneOf (${schema.oneOf.length}), not exactly one`);
  }
  if (schema.anyOf && !schema.anyOf.some((s) => validate(s, value, at).length === 0)) problems.push(`${at}: matches none of anyOf`);
  return problems;
}

// ---- checking answers against the document ---------------------------------------------------

const exercised = new Map(); // `METHOD /template` → statuses seen

/** The documented operation for a concrete request path. */
function operationFor(method, urlPath) {
  for (const [template, item] of Object.entries(DOC.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
    if (pattern.test(urlPath) && item[method.toLowerCase()]) return { template, operation: item[method.toLowerCase()] };
  }
  return null;
}

/** Sends a request to the worker and checks the answer against the document; returns `{status, body, text, headers}`. */
async function call(method, urlPath, { headers = {}, body, expect } = {}) {
  const response = await fetch(`${workerUrl}${urlPath}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
  const pathOnly = urlPath.split('?')[0];
  const found = operationFor(method, pathOnly);
  let json;
  if (contentType === 'application/json') json = JSON.parse(text);
  if (expect !== undefined) assert.equal(response.status, expect, `${method} ${urlPath}: ${text.slice(0, 300)}`);
  if (!found) {
    // Not a documented operation: only the router's own errors, in the one error shape.
    assert.ok([404, 405].includes(response.status), `${method} ${urlPath} is undocumented yet answered ${response.status}`);
    assert.deepEqual(validate({ $ref: '#/components/schemas/Error' }, json), []);
    return { status: response.status, body: json, text, headers: response.headers };
  }
  const { template, operation } = found;
  const key = `${method} ${template}`;
  const status = String(response.status);
  const documented = operation.responses[status] ?? operation.responses[`${status[0]}XX`] ?? operation.responses.default;
  assert.ok(documented, `${key}: status ${status} is not documented (${Object.keys(operation.responses)}): ${text.slice(0, 300)}`);
  const media = documented.content;
  if (!media) {
    assert.equal(text, '', `${key} ${status}: documented without a body, got ${text.slice(0, 200)}`);
  } else {
    assert.ok(media[contentType], `${key} ${status}: content type ${contentType}, documented ${Object.keys(media)}`);
    if (contentType === 'application/json') {
      assert.deepEqual(validate(media[contentType].schema, json), [], `${key} ${status}: ${text.slice(0, 500)}`);
    }
    if (documented['x-error-codes']) assert.ok(documented['x-error-codes'].includes(json.error.code), `${key} ${status}: code ${json.error.code} not documented for it`);
    if (contentType === 'text/plain') assert.deepEqual(validate(media[contentType].schema, text), [], `${key} ${status}`);
  }
  for (const [name] of Object.entries(documented.headers ?? {})) assert.ok(response.headers.get(name), `${key} ${status}: header ${name}`);
  exercised.set(key, [...(exercised.get(key) ?? []), response.status]);
  return { status: response.status, body: json, text, headers: response.headers };
}

// ---- the worker --------------------------------------------------------------------------------

let sandbox;
let mf;
let workerUrl;
let hooks;
const merchant = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };

before(async () => {
  sandbox = await startSandbox({ name: 'openapi-test', callbackScale: 0.001 });
  const config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  hooks = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  const port = await freePort();
  workerUrl = `http://127.0.0.1:${port}`;
  mf = new Miniflare({
    ...WORKER_OPTIONS,
    port,
    d1Databases: ['LEDGER'],
    bindings: {
      ...config,
      MERCHANT_API_KEY: API_KEY,
      SESSION_SECRET: 'openapi-test-session-secret-0123456789abcdef',
      DATA_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      PUBLIC_BASE_URL: workerUrl,
      ALLOWED_ORIGINS: ORIGIN,
      MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${hooks.address().port}/webhooks/edgepay`,
      MERCHANT_WEBHOOK_SECRET: `whsec_${Buffer.from('openapi-test-webhook-secret-32bytes!!').toString('base64')}`,
    },
  });
  await mf.ready;
  // The ledger's tables, as `wrangler d1 migrations apply` makes them (once the worker has them).
  const migrations = path.join(ROOT, 'edge-worker/migrations');
  if (existsSync(migrations)) {
    const db = await mf.getD1Database('LEDGER');
    for (const file of readdirSync(migrations).filter((f) => f.endsWith('.sql')).sort()) {
      for (const statement of splitSql(readFileSync(path.join(migrations, file), 'utf8'))) await db.prepare(statement).run();
    }
  }
});

/** The statements of a migration file (no `;` inside string literals in ours). */
function splitSql(sql) {
  return sql
    .replace(/--.*$/gm, '')
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

after(async () => {
  await mf?.dispose();
  await sandbox?.stop();
  await new Promise((r) => (hooks ? hooks.close(r) : r()));
});

async function newSession(extra = {}) {
  const { body } = await call('POST', '/v1/sessions', {
    headers: merchant,
    body: JSON.stringify({ order_id: `oa-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g', ...extra }),
    expect: 201,
  });
  return body;
}

const widget = (session, userAgent = USER_AGENTS.desktop, hints) => ({
  authorization: `Bearer ${session.client_secret}`,
  'content-type': 'application/json',
  'user-agent': userAgent,
  ...(hints ? { 'x-edgepay-hints': JSON.stringify(hints) } : {}),
});

const UA = {
  phone: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  miniprogram:
    'Mozilla/5.0 (Linux; Android 14; 23116PN5BC Build/UKQ1.230804.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1220099 MMWEBSDK/20240404 MMWEBID/2445 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64 MiniProgramEnv/android',
};

// ---- the tests ---------------------------------------------------------------------------------

test('the document is OpenAPI 3.1 and names exactly the router routes', () => {
  assert.equal(DOC.openapi, '3.1.0');
  const routes = routerRoutes();
  const documented = documentedRoutes();
  for (const route of routes) assert.ok(documented.includes(route), `${route} is a route in route.rs but not in docs/openapi.json`);
  for (const route of documented) {
    assert.ok(routes.includes(route) || LANDING.has(route), `${route} is documented but not a route in route.rs`);
  }
  // Every $ref resolves, every schema uses only keywords the validator checks.
  const walk = (node) => {
    if (node && typeof node === 'object') {
      if (typeof node.$ref === 'string') resolve(node.$ref);
      Object.values(node).forEach(walk);
    }
  };
  walk(DOC);
  for (const schema of Object.values(DOC.components.schemas)) validate(schema, null);
  // The error codes the document lists are the worker's (edge-worker/src/error.rs), all of them.
  const errorRs = readFileSync(path.join(ROOT, 'edge-worker/src/error.rs'), 'utf8');
  const codes = [...new Set([...errorRs.matchAll(/\(\s*\d{3},\s*"(\w+)"/g)].map((m) => m[1]))].sort();
  assert.ok(codes.length >= 10, 'read the codes of error.rs');
  assert.deepEqual([...DOC.components.schemas.Error.properties.error.properties.code.enum].sort(), codes);
});

test('the validator fails what it should', () => {
  const error = { $ref: '#/components/schemas/Error' };
  assert.deepEqual(validate(error, { error: { code: 'unauthorized', message: 'x', retryable: false } }), []);
  assert.notDeepEqual(validate(error, { error: { code: 'unauthorized', message: 'x' } }), []);
  assert.notDeepEqual(validate(error, { error: { code: 'nope', message: 'x', retryable: false } }), []);
  assert.notDeepEqual(validate(error, { error: { code: 'unauthorized', message: 'x', retryable: false, stack: 'at …' } }), []);
  assert.notDeepEqual(validate({ $ref: '#/components/schemas/NextAction' }, { type: 'qr', data: 'x' }), []);
  assert.deepEqual(validate({ $ref: '#/components/schemas/NextAction' }, { type: 'qr', data: 'x', expires_at: 1 }), []);
  assert.notDeepEqual(validate({ $ref: '#/components/schemas/Session' }, { id: 'cs_x' }), []);
});

test('every route answers as documented: success and error shapes', { timeout: 120_000 }, async () => {
  const routes = new Set(routerRoutes());

  // health, the catch-all, the router's 405, a refused preflight
  await call('GET', '/v1/health', { expect: 200 });
  await call('POST', '/v1/health', { expect: 405 });
  await call('GET', '/v2/nothing', { expect: 404 });
  const preflight = await fetch(`${workerUrl}/v1/sessions/x`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
  assert.equal(preflight.status, 403);
  assert.deepEqual(validate({ $ref: '#/components/schemas/Error' }, await preflight.json()), []);

  // sessions: created, refused, conflicting, too large
  await call('POST', '/v1/sessions', { headers: { ...merchant, authorization: 'Bearer wrong' }, body: '{}', expect: 401 });
  await call('POST', '/v1/sessions', { headers: merchant, body: JSON.stringify({ order_id: 'x', amount: 0, currency: 'CNY', description: 'd' }), expect: 400 });
  await call('POST', '/v1/sessions', { headers: merchant, body: 'not json', expect: 400 });
  await call('POST', '/v1/sessions', { headers: merchant, body: JSON.stringify({ order_id: 'x', amount: 1, currency: 'CNY', description: 'x'.repeat(70_000) }), expect: 413 });
  const key = { ...merchant, 'idempotency-key': `oa-${Date.now()}` };
  const order = { order_id: `oa-idem-${Date.now()}`, amount: 100, currency: 'CNY', description: 'd' };
  await call('POST', '/v1/sessions', { headers: key, body: JSON.stringify(order), expect: 201 });
  await call('POST', '/v1/sessions', { headers: key, body: JSON.stringify({ ...order, amount: 200 }), expect: 409 });
  const session = await newSession({ metadata: { cart: 'oolong:1' }, expires_in: 600 });

  // reading it
  await call('GET', `/v1/sessions/${session.id}`, { headers: widget(session), expect: 200 });
  await call('GET', `/v1/sessions/${session.id}`, { headers: { ...widget(session), authorization: `Bearer ${session.id}_secret_wrong` }, expect: 401 });
  await call('GET', '/v1/sessions/not-a-session-id', { headers: widget(session), expect: 404 });
  await call('POST', `/v1/sessions/${session.id}`, { headers: widget(session), expect: 405 });
  await call('GET', `/v1/sessions/${session.id}/events`, { headers: merchant, expect: 200 });
  await call('GET', `/v1/sessions/${session.id}/events`, { expect: 401 });

  // pay: every kind of next action, and its refusals
  const actions = new Set();
  const pay = async (s, method, headers, expect = 200) => {
    const { body } = await call('POST', `/v1/sessions/${s.id}/pay`, { headers, body: JSON.stringify({ method, page_url: `${ORIGIN}/checkout` }), expect });
    if (expect === 200) actions.add(body.type);
    return body;
  };
  const qr = await pay(session, 'alipay_qr', widget(session));
  for (const method of ['alipay_page', 'unionpay_pc', 'wechat_native']) {
    const other = await newSession();
    await pay(other, method, widget(other));
  }
  // With the shopper's browser, the creation's answer carries the view (validated as documented).
  const phone = await newSession({ shopper: { user_agent: UA.phone, hints: { max_touch_points: 5 } } });
  assert.equal(phone.view?.methods?.[0], 'wechat_h5', JSON.stringify(phone.view));
  await pay(phone, 'wechat_h5', widget(phone, UA.phone, { max_touch_points: 5 }));
  const wechat = await newSession();
  await pay(wechat, 'wechat_jsapi', widget(wechat, USER_AGENTS.wechatIphone, { max_touch_points: 5 }));
  const known = await newSession({ wechat_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' });
  await pay(known, 'wechat_jsapi', widget(known, USER_AGENTS.wechatIphone, { max_touch_points: 5 }));
  const mini = await newSession();
  await pay(mini, 'wechat_miniprogram', widget(mini, UA.miniprogram, { max_touch_points: 5, wxjs_environment: 'miniprogram' }));
  for (const kind of ['qr', 'redirect', 'form', 'oauth', 'jsapi', 'miniprogram']) assert.ok(actions.has(kind), `a ${kind} action was checked (${[...actions]})`);
  const desktop = await newSession();
  const blocked = await pay(desktop, 'wechat_jsapi', widget(desktop), 403);
  assert.equal(blocked.error.reason, 'needs_wechat');
  await pay(session, 'bitcoin', widget(session), 400);
  await call('GET', `/v1/sessions/${session.id}`, { headers: widget(session), expect: 200 }); // with its action

  // paid at the sandbox: no more payments, refunds
  const orders = await (await fetch(`${sandbox.url}/sandbox/control/orders`)).json();
  const trade = orders.find((o) => o.detail?.qr_data === qr.data);
  assert.ok(trade, 'the trade is at the sandbox');
  assert.equal((await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${trade.out_trade_no}/pay`, { method: 'POST' })).status, 200);
  await waitFor(async () => (await (await fetch(`${workerUrl}/v1/sessions/${session.id}`, { headers: widget(session) })).json()).status === 'paid', 'the session is paid');
  await pay(session, 'alipay_qr', widget(session), 409);
  const refund = { session_id: session.id, refund_id: 'r1', amount: 1000, reason: 'one cup short' };
  await call('POST', '/v1/refunds', { headers: merchant, body: JSON.stringify(refund), expect: 201 });
  await call('POST', '/v1/refunds', { headers: merchant, body: JSON.stringify(refund), expect: 200 });
  await call('POST', '/v1/refunds', { headers: merchant, body: JSON.stringify({ ...refund, amount: 2000 }), expect: 409 });
  const tooMuch = await call('POST', '/v1/refunds', { headers: merchant, body: JSON.stringify({ ...refund, refund_id: 'r2', amount: 6800 }), expect: 400 });
  assert.equal(tooMuch.body.error.refundable, 5800);
  await call('POST', '/v1/refunds', { headers: { ...merchant, authorization: 'Bearer no' }, body: JSON.stringify(refund), expect: 401 });
  await call('POST', '/v1/refunds', { headers: merchant, body: JSON.stringify({ ...refund, session_id: (await newSession()).id, refund_id: 'r3' }), expect: 409 });
  await call('GET', `/v1/sessions/${session.id}/events`, { headers: merchant, expect: 200 });

  // provider callbacks, refused (nothing here is signed), in each provider's format
  await call('POST', '/v1/notify/alipay', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'out_trade_no=x&sign=forged', expect: 200 });
  await call('POST', '/v1/notify/unionpay', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'orderId=x&signature=forged', expect: 400 });
  const wx = await call('POST', '/v1/notify/wechatpay', { headers: { 'content-type': 'application/json' }, body: '{"id":"forged"}' });
  assert.ok(wx.status >= 400, `a forged WeChat Pay callback is refused (${wx.status})`);
  await call('GET', '/v1/wechat/oauth/callback?code=abc&state=forged', { expect: 400 });
  await call('GET', '/v1/unionpay/return', { expect: 200 });
  await call('POST', '/v1/unionpay/return', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'respCode=00', expect: 200 });

  // the routes being added, once they are routes
  if (routes.has('GET /v1/ledger')) {
    const page = await call('GET', '/v1/ledger?limit=5', { headers: merchant, expect: 200 });
    assert.ok(page.body.entries.length > 0, 'the ledger has the entries of this test');
    if (page.body.next_cursor) await call('GET', `/v1/ledger?limit=5&cursor=${encodeURIComponent(page.body.next_cursor)}`, { headers: merchant, expect: 200 });
    const mine = await call('GET', `/v1/ledger?session_id=${session.id}`, { headers: merchant, expect: 200 });
    assert.ok(mine.body.entries.length > 0 && mine.body.entries.every((e) => e.session_id === session.id), 'session_id filters');
    await call('GET', '/v1/ledger?limit=501', { headers: merchant, expect: 400 });
    await call('GET', '/v1/ledger', { expect: 401 });
  }
  if (routes.has('POST /v1/sessions/{id}/miniprogram')) {
    // Before a hand-off there is nothing to pay; `mini` was handed off above.
    const fresh = await newSession();
    await call('POST', `/v1/sessions/${fresh.id}/miniprogram`, { headers: merchant, body: JSON.stringify({ openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }), expect: 409 });
    const handoff = mini;
    const { body } = await call('POST', `/v1/sessions/${handoff.id}/miniprogram`, { headers: merchant, body: JSON.stringify({ openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }), expect: 200 });
    assert.equal(body.type, 'jsapi');
    await call('POST', `/v1/sessions/${handoff.id}/miniprogram`, { headers: { ...merchant, authorization: 'Bearer no' }, body: '{"openid":"o"}', expect: 401 });
  }

  // Every route of the router was called and checked.
  for (const route of routes) assert.ok(exercised.has(route), `${route} was not exercised`);
});
