// The D1 ledger in workerd (Miniflare, D1 binding LEDGER) against the sandbox: every session and
// transition is listed by GET /v1/ledger in order, for the merchant only, paginated; a worker
// without the binding still takes payments and says the ledger is missing; the cron sweep finds
// stuck sessions through the ledger.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker, waitFor } from './worker-harness.mjs';
import { startSandbox } from '../../scripts/stack.mjs';
import { USER_AGENTS } from './browser.mjs';

const API_KEY = 'sk_test_ledger_0123456789abcdef';

let sandbox;
const workers = {};

/** The worker with or without its D1 binding. */
async function ledgerWorker(withLedger) {
  const config = await (await fetch(`${sandbox.url}/sandbox/worker-config`)).json();
  return startWorker({
    config,
    options: withLedger ? {} : { d1Databases: {} },
    // SWEEP_AFTER_SECONDS=0: the cron sweep visits every open or processing session at once.
    bindings: { MERCHANT_API_KEY: API_KEY, SESSION_SECRET: 'ledger-test-session-secret-0123456789abcdef', SWEEP_AFTER_SECONDS: '0' },
  });
}

before(async () => {
  sandbox = await startSandbox({ name: 'worker-ledger-test', callbackScale: 0.001 });
  workers.with = await ledgerWorker(true);
  workers.without = await ledgerWorker(false);
});

after(async () => {
  for (const w of Object.values(workers)) await w.mf.dispose();
  await sandbox?.stop();
});

const merchant = { authorization: `Bearer ${API_KEY}` };

async function createSession(url, extra = {}) {
  const response = await fetch(`${url}/v1/sessions`, {
    method: 'POST',
    headers: { ...merchant, 'content-type': 'application/json' },
    body: JSON.stringify({ order_id: `ledger-${Date.now()}-${Math.random()}`, amount: 4200, currency: 'CNY', description: 'ledger', methods: ['alipay_qr'], ...extra }),
  });
  assert.equal(response.status, 201);
  return response.json();
}

async function payQr(url, session) {
  const response = await fetch(`${url}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': USER_AGENTS.desktop },
    body: JSON.stringify({ method: 'alipay_qr' }),
  });
  const action = await response.json();
  assert.equal(response.status, 200, JSON.stringify(action));
  const orders = await (await fetch(`${sandbox.url}/sandbox/control/orders`)).json();
  const order = orders.find((o) => o.detail?.qr_data === action.data);
  assert.ok(order, 'the trade exists at the sandbox');
  assert.equal((await fetch(`${sandbox.url}/sandbox/control/orders/alipay/${order.out_trade_no}/pay`, { method: 'POST' })).status, 200);
  return order.out_trade_no;
}

const ledger = async (url, query = '', headers = merchant) => {
  const response = await fetch(`${url}/v1/ledger${query}`, { headers });
  return { status: response.status, body: await response.json() };
};

test('every session and transition is in the ledger, in order, with amounts and attempts', async () => {
  const { url } = workers.with;
  const session = await createSession(url);
  const outTradeNo = await payQr(url, session);
  await waitFor(async () => {
    const { body } = await ledger(url, `?session_id=${session.id}`);
    return body.entries?.some((e) => e.kind === 'paid');
  }, 'the payment in the ledger');
  const { status, body } = await ledger(url, `?session_id=${session.id}`);
  assert.equal(status, 200);
  assert.deepEqual(body.entries.map((e) => [e.kind, e.status, e.attempt_id, e.amount, e.detail]), [
    ['session.created', 'open', null, 4200, null],
    ['start_attempt', 'processing', outTradeNo, null, 'alipay_qr'],
    ['paid', 'paid', outTradeNo, 4200, null],
  ]);
  for (const e of body.entries) {
    assert.equal(e.session_id, session.id);
    assert.ok(Number.isInteger(e.seq) && e.at > Date.now() - 60_000 && e.at <= Date.now(), JSON.stringify(e));
  }
  assert.ok(body.entries[0].seq < body.entries[1].seq && body.entries[1].seq < body.entries[2].seq);
  assert.equal(body.next_cursor, null);
});

test('an attempt that is not paid reaches the ledger too, by the session\'s alarm, within seconds', async () => {
  const { url } = workers.with;
  const session = await createSession(url);
  const response = await fetch(`${url}/v1/sessions/${session.id}/pay`, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': USER_AGENTS.desktop },
    body: JSON.stringify({ method: 'alipay_qr' }),
  });
  assert.equal(response.status, 200);
  const kinds = async () => (await ledger(url, `?session_id=${session.id}`)).body.entries.map((e) => e.kind);
  // The creation is copied by the alarm within a second (COPY_CREATED_WITHIN_MS), the attempt
  // within 10 s (COPY_WITHIN_MS).
  await waitFor(async () => (await kinds()).includes('session.created'), 'the creation in the ledger', 5_000);
  await waitFor(async () => (await kinds()).includes('start_attempt'), 'the attempt in the ledger', 20_000, 250);
  assert.deepEqual(await kinds(), ['session.created', 'start_attempt']);
});

test('pages follow next_cursor without gaps or repeats; only the merchant may read; bad queries say why', async () => {
  const { url } = workers.with;
  for (let i = 0; i < 3; i++) await createSession(url);
  const all = (await ledger(url, '?limit=500')).body.entries;
  assert.ok(all.length >= 3);
  const seen = [];
  let cursor = '';
  for (let pages = 0; pages < 100; pages++) {
    const { status, body } = await ledger(url, `?limit=2${cursor ? `&cursor=${body_cursor(cursor)}` : ''}`);
    assert.equal(status, 200);
    seen.push(...body.entries.map((e) => e.seq));
    if (!body.next_cursor) break;
    cursor = body.next_cursor;
  }
  assert.deepEqual(seen, all.map((e) => e.seq));

  for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
    const { status, body } = await ledger(url, '', headers);
    assert.equal(status, 401);
    assert.equal(body.error.code, 'unauthorized');
  }
  for (const query of ['?limit=0', '?limit=501', '?limit=x', '?cursor=-1', '?session_id=nope', '?other=1']) {
    const { status, body } = await ledger(url, query);
    assert.equal(status, 400, query);
    assert.equal(body.error.code, 'invalid_request', query);
    assert.equal(body.error.retryable, false);
  }
});
const body_cursor = (c) => encodeURIComponent(c);

test('without the D1 binding: payments still work, health names the missing ledger, the listing says not configured', async () => {
  const { url } = workers.without;
  const health = await (await fetch(`${url}/v1/health`)).json();
  assert.deepEqual(health.ledger, { configured: false, missing: ['LEDGER'] });
  assert.deepEqual((await (await fetch(`${workers.with.url}/v1/health`)).json()).ledger, { configured: true, missing: [] });
  const session = await createSession(url);
  await payQr(url, session);
  const read = async () => (await fetch(`${url}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.client_secret}` } })).json();
  await waitFor(async () => (await read()).status === 'paid', 'the session to be paid');
  const { status, body } = await ledger(url);
  assert.equal(status, 503);
  assert.equal(body.error.code, 'not_configured');
});

test('the cron sweep (scheduled event) queries a session whose callback was lost before its own alarm would', async () => {
  const { url, mf } = workers.with;
  const faults = (body) => fetch(`${sandbox.url}/sandbox/control/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const trail = async (id) => (await (await fetch(`${url}/v1/sessions/${id}/events`, { headers: merchant })).json()).events.map((e) => e.kind);
  const idle = await createSession(url);
  const stuck = await createSession(url);
  await faults({ callbacks: 'drop' });
  try {
    await payQr(url, stuck); // paid at the sandbox; the callback never comes
  } finally {
    await faults({});
  }
  // The session's own query alarm is 10 s away; the sweep runs now.
  await waitFor(async () => (await ledger(url, `?session_id=${stuck.id}`)).body.entries.length > 0, 'the session in the ledger', 5_000);
  const worker = await mf.getWorker();
  await worker.scheduled({ cron: '*/5 * * * *' });
  const kinds = await trail(stuck.id);
  assert.ok(kinds.includes('sweep.query'), kinds.join(' '));
  assert.ok(kinds.includes('attempt.paid'), `paid through the sweep's query: ${kinds.join(' ')}`);
  assert.ok(!kinds.includes('alarm.query'), 'before its own alarm');
  // An open session with no attempt is left as it is (nothing to query, not overdue).
  const idleKinds = await trail(idle.id);
  assert.ok(!idleKinds.includes('sweep.query') && !idleKinds.includes('session.expired'), idleKinds.join(' '));
});
