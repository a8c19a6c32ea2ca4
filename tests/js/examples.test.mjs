// The merchant-backend snippets of examples/ (Node, Python, Rust), run against the demo stack: each
// creates a session with the merchant key; the sessions are paid at the sandbox; the worker's real
// signed webhooks are verified by each snippet with its off-the-shelf Standard Webhooks library
// (npm and PyPI `standardwebhooks`, crates.io `standardwebhooks`), and tampered ones are rejected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { startStack } from '../../scripts/stack.mjs';
import { waitFor } from './worker-harness.mjs';
import { USER_AGENTS } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Where scripts/bootstrap.sh --examples puts the Python example's venv.
const VENV = process.env.EDGEPAY_PYTHON_VENV ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'edgepay', 'python-examples');
const PYTHON = path.join(VENV, 'bin', 'python');
const RUST_BIN = path.join(ROOT, 'target', 'debug', 'merchant');

/** Each snippet as a command line. */
const SNIPPETS = {
  node: [process.execPath, path.join(ROOT, 'examples/node/merchant.mjs')],
  python: [PYTHON, path.join(ROOT, 'examples/python/merchant.py')],
  rust: [RUST_BIN],
};

let stack;
let hooks;
const received = [];

before(async () => {
  assert.ok(
    existsSync(PYTHON),
    `no Python venv with PyPI standardwebhooks at ${VENV}: run scripts/bootstrap.sh --examples (it needs python3 on PATH)`,
  );
  // The Rust snippet is its own crate (examples/rust); built into the workspace's target folder.
  execFileSync('cargo', ['build', '--quiet', '--manifest-path', path.join(ROOT, 'examples/rust/Cargo.toml')], {
    env: { ...process.env, CARGO_TARGET_DIR: path.join(ROOT, 'target') },
    stdio: 'inherit',
  });
  hooks = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
  stack = await startStack({ name: 'examples', webhookUrl: `http://127.0.0.1:${hooks.address().port}/webhooks/edgepay` });
});

after(async () => {
  await stack?.stop();
  await new Promise((r) => (hooks ? hooks.close(r) : r()));
});

/** Runs a snippet; resolves with `{status, stdout, stderr}`. */
function run(snippet, args, { input = '', secret = stack.webhookSecret } = {}) {
  const [cmd, ...pre] = SNIPPETS[snippet];
  const result = spawnSync(cmd, [...pre, ...args], {
    input,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      NO_PROXY: '127.0.0.1,localhost',
      EDGEPAY_URL: stack.workerUrl,
      EDGEPAY_MERCHANT_API_KEY: stack.merchantApiKey,
      EDGEPAY_WEBHOOK_SECRET: secret,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const verify = (snippet, hook, options) =>
  run(snippet, ['verify', hook.headers['webhook-id'], hook.headers['webhook-timestamp'], hook.headers['webhook-signature']], { input: hook.body, ...options });

test('each snippet creates a session, and verifies the real webhook of its payment; tampered ones are rejected', { timeout: 240_000 }, async () => {
  const sessions = {};
  for (const snippet of Object.keys(SNIPPETS)) {
    const orderId = `example-${snippet}-${Date.now()}`;
    const created = run(snippet, ['create', orderId, '6800', `凤凰单丛 · ${snippet}`]);
    assert.equal(created.status, 0, `${snippet} create: ${created.stderr}`);
    const session = JSON.parse(created.stdout);
    assert.match(session.id, /^cs_[a-z2-7]{24}$/, snippet);
    assert.equal(session.amount, 6800);
    assert.equal(session.status, 'open');
    // The same order again (Idempotency-Key = order id): the same session.
    assert.equal(JSON.parse(run(snippet, ['create', orderId, '6800', `凤凰单丛 · ${snippet}`]).stdout).id, session.id, `${snippet}: idempotent`);
    // A refusal is an error, not a session.
    const refused = run(snippet, ['create', `${orderId}-bad`, '0', 'x']);
    assert.notEqual(refused.status, 0, `${snippet} refused create`);
    assert.match(refused.stderr, /edgepay refused the session: 400 invalid_request/, snippet);
    sessions[snippet] = session;
  }

  // Pay each at the sandbox (Alipay QR), as a shopper would.
  for (const session of Object.values(sessions)) {
    const paying = await fetch(`${stack.workerUrl}/v1/sessions/${session.id}/pay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.client_secret}`, 'content-type': 'application/json', 'user-agent': USER_AGENTS.desktop },
      body: JSON.stringify({ method: 'alipay_qr' }),
    });
    const action = await paying.json();
    assert.equal(paying.status, 200, JSON.stringify(action));
    const order = (await (await fetch(`${stack.sandboxUrl}/sandbox/control/orders`)).json()).find((o) => o.detail?.qr_data === action.data);
    assert.ok(order, 'the trade is at the sandbox');
    assert.equal((await fetch(`${stack.sandboxUrl}/sandbox/control/orders/alipay/${order.out_trade_no}/pay`, { method: 'POST' })).status, 200);
  }
  const succeeded = (session) => received.find((h) => JSON.parse(h.body).type === 'payment.succeeded' && JSON.parse(h.body).data.session_id === session.id);
  await waitFor(() => Object.values(sessions).every(succeeded), 'a payment.succeeded webhook per session', 30_000);

  const otherSecret = `whsec_${Buffer.from('not-the-merchant-secret-at-all-32b').toString('base64')}`;
  for (const [owner, session] of Object.entries(sessions)) {
    const hook = succeeded(session);
    for (const snippet of Object.keys(SNIPPETS)) {
      const ok = verify(snippet, hook);
      assert.equal(ok.status, 0, `${snippet} verifying ${owner}'s webhook: ${ok.stderr}`);
      assert.deepEqual(JSON.parse(ok.stdout), JSON.parse(hook.body), `${snippet} returns the event`);

      const tamperedBody = { ...hook, body: hook.body.replace('"amount":6800', '"amount":1') };
      assert.notEqual(tamperedBody.body, hook.body);
      assert.notEqual(verify(snippet, tamperedBody).status, 0, `${snippet}: a changed amount is rejected`);
      const moved = { ...hook, headers: { ...hook.headers, 'webhook-timestamp': String(Number(hook.headers['webhook-timestamp']) + 1) } };
      assert.notEqual(verify(snippet, moved).status, 0, `${snippet}: a changed timestamp is rejected`);
      assert.notEqual(verify(snippet, hook, { secret: otherSecret }).status, 0, `${snippet}: another secret rejects it`);
      // Signed correctly but with another secret: rejected.
      const forgedId = `msg_forged_${snippet}`;
      const now = new Date();
      const forged = {
        body: hook.body,
        headers: { 'webhook-id': forgedId, 'webhook-timestamp': String(Math.floor(now / 1000)), 'webhook-signature': new Webhook(otherSecret).sign(forgedId, now, hook.body) },
      };
      assert.notEqual(verify(snippet, forged).status, 0, `${snippet}: a signature by another secret is rejected`);
      // Too old (replay): the libraries refuse timestamps more than 5 minutes away.
      const old = new Date(Date.now() - 10 * 60_000);
      const stale = {
        body: hook.body,
        headers: { 'webhook-id': 'msg_old', 'webhook-timestamp': String(Math.floor(old / 1000)), 'webhook-signature': new Webhook(stack.webhookSecret).sign('msg_old', old, hook.body) },
      };
      assert.notEqual(verify(snippet, stale).status, 0, `${snippet}: a stale webhook is rejected`);
    }
  }
});
