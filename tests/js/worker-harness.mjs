// What every workerd test of the worker shares: the Miniflare options that run the worker exactly
// as worker-build ships it (edge-worker/build/), with its Durable Object and the production
// compatibility date, offline.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { freePort } from '../../scripts/stack.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The compatibility date of edge-worker/wrangler.toml (the one production uses). */
export const COMPATIBILITY_DATE = readFileSync(path.join(ROOT, 'edge-worker/wrangler.toml'), 'utf8').match(
  /^compatibility_date\s*=\s*"([^"]+)"/m,
)[1];

/** Spread into `new Miniflare({...WORKER_OPTIONS, port?, bindings})`. */
export const WORKER_OPTIONS = {
  host: '127.0.0.1',
  modules: true,
  scriptPath: path.join(ROOT, 'edge-worker/build/index.js'),
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
  compatibilityDate: COMPATIBILITY_DATE,
  cf: false, // offline: never fetch the Request.cf object
  durableObjects: { SESSIONS: 'SessionObject' },
  d1Databases: { LEDGER: 'edgepay-ledger' }, // the ledger (edge-worker/src/ledger.rs), in memory unless d1Persist
};

/** Polls `predicate` every `every` ms until it holds; fails the test after `ms` ms naming `what`. */
export async function waitFor(predicate, what, ms = 10_000, every = 50) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * The merchant's webhook endpoint on 127.0.0.1: records every delivery as `{headers, body, status}`
 * in `received` and answers `status(body)` (204 unless told otherwise, e.g. 500 for "down"; 0: never
 * answers, a merchant endpoint that hangs; a promise: answers when it settles, a slow endpoint).
 */
export async function startWebhookReceiver(status = () => 204) {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const code = await status(body);
      received.push({ headers: req.headers, body, status: code });
      if (code !== 0) res.writeHead(code).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/webhooks/edgepay`,
    received,
    close: () => new Promise((r) => (server.close(r), server.closeAllConnections())),
  };
}

/**
 * The worker in a fresh workerd on a free port: the sandbox's `config`, `PUBLIC_BASE_URL` (its own
 * URL) and `bindings`; `options` adds Miniflare options (e.g. `handleRuntimeStdio`).
 */
export async function startWorker({ config, bindings = {}, options = {} }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const mf = new Miniflare({ ...WORKER_OPTIONS, ...options, port, bindings: { ...config, PUBLIC_BASE_URL: url, ...bindings } });
  await mf.ready;
  return { mf, url };
}
