// How much CPU workerd spends on a request while it waits for a subrequest: an empty JavaScript
// Durable Object making one POST whose answer comes at once or after a delay. A diagnosis for
// BENCHMARKS.md ("Waiting costs CPU here"), not part of the test command.
//
//   node bench/wait.mjs        WAIT_DELAYS=0,1,4,10,20 (ms), WAIT_ROUNDS=6, WAIT_N=200
//
// Prints, per delay, the CPU per request of workerd's threads other than V8's compiler threads
// (median and mean over rounds of WAIT_N requests; the delays alternate within each round), and
// per thread name where the difference went.
import http from 'node:http';
import { Miniflare } from 'miniflare';
import { freePort } from '../scripts/stack.mjs';
import { COMPATIBILITY_DATE, threadCpuMs, workerdPids } from './lib.mjs';

const DELAYS = (process.env.WAIT_DELAYS ?? '0,1,4,10,20').split(',').map(Number);
const ROUNDS = Number(process.env.WAIT_ROUNDS ?? 6);
const N = Number(process.env.WAIT_N ?? 200);

const ANSWER = JSON.stringify({ alipay_trade_precreate_response: { code: '10000', msg: 'Success', out_trade_no: 'x'.repeat(32), qr_code: `https://qr.alipay.com/${'y'.repeat(24)}` }, sign: 'z'.repeat(344) });
const provider = http.createServer((req, res) => {
  const delay = Number(new URL(req.url, 'http://x').searchParams.get('d') ?? 0);
  req.resume();
  req.on('end', () => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER), delay));
});
await new Promise((r) => provider.listen(0, '127.0.0.1', r));

const SCRIPT = `
export class Waiter {
  constructor(state, env) { this.env = env; }
  async fetch(req) {
    const delay = new URL(req.url).searchParams.get('d');
    if (delay !== null) {
      const r = await fetch(this.env.PROVIDER + '?d=' + delay, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8' }, body: 'a=b&c=' + 'd'.repeat(600), signal: AbortSignal.timeout(10000) });
      await r.arrayBuffer();
    }
    return new Response('ok');
  }
}
export default { fetch(req, env) { return env.WAITER.get(env.WAITER.idFromName('x')).fetch(req); } }`;
const port = await freePort();
const before = new Set(workerdPids());
const mf = new Miniflare({ host: '127.0.0.1', port, modules: true, script: SCRIPT, compatibilityDate: COMPATIBILITY_DATE, cf: false, durableObjects: { WAITER: 'Waiter' }, bindings: { PROVIDER: `http://127.0.0.1:${provider.address().port}/provider` } });
await mf.ready;
const pids = workerdPids().filter((p) => !before.has(p));

/** CPU ms by thread name, V8's compiler threads left out. */
const threads = () => Object.fromEntries(Object.entries(threadCpuMs(pids)).filter(([name]) => !name.startsWith('V8 ')));
const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);

const agent = new http.Agent({ keepAlive: true });
const get = (query) =>
  new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${port}/${query}`, { agent }, (r) => (r.resume(), r.on('end', resolve))).on('error', reject);
  });

const kinds = ['none', ...DELAYS];
const perRequest = Object.fromEntries(kinds.map((k) => [k, []]));
const where = Object.fromEntries(kinds.map((k) => [k, {}]));
try {
  for (let i = 0; i < 50; i++) await get('?d=0');
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of kinds) {
      const t0 = threads();
      for (let i = 0; i < N; i++) await get(kind === 'none' ? '' : `?d=${kind}`);
      const t1 = threads();
      perRequest[kind].push((sum(t1) - sum(t0)) / N);
      for (const name of Object.keys(t1)) where[kind][name] = (where[kind][name] ?? 0) + (t1[name] - (t0[name] ?? 0)) / N / ROUNDS;
    }
  }
} finally {
  await mf.dispose();
  provider.close();
  agent.destroy();
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`CPU per request of workerd (not V8's compiler threads), ${ROUNDS} rounds of ${N}, ms:`);
for (const kind of kinds) {
  const threadsText = Object.entries(where[kind]).filter(([, v]) => v > 0.005).map(([n, v]) => `${n} ${v.toFixed(2)}`).join(', ');
  console.log(`  ${kind === 'none' ? 'no subrequest' : `answer after ${kind} ms`}: median ${median(perRequest[kind]).toFixed(2)}, mean ${mean(perRequest[kind]).toFixed(2)}  (${threadsText})`);
}
