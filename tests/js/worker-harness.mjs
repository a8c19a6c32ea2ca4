// What every workerd test of the worker shares: the Miniflare options that run the worker exactly
// as worker-build ships it (edge-worker/build/), with its Durable Object and the production
// compatibility date, offline.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
