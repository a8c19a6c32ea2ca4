// Where the worker's own isolate spends its time, by function (a diagnosis beside bench/isolate.mjs,
// which measures the totals; not part of the test command):
//   node bench/cpuprofile.mjs      (after cargo build -p sandbox and ./scripts/build-worker.sh)
// Env: CPUPROFILE_WHAT=pay|callback (default callback: a fresh callback through to its
// webhook), CPUPROFILE_METHOD (default alipay_qr; also wechat_native, unionpay_pc), CPUPROFILE_N
// (default 200), CPUPROFILE_US (the sampling interval, default 50 µs), CPUPROFILE_TOP (default 40
// rows), CPUPROFILE_SAVE=file.cpuprofile (the raw profile, for Chrome DevTools).
//
// It starts the sandbox and a Miniflare running edge-worker/build/ with V8's inspector on, prepares
// N sessions (and for callbacks pays them at the sandbox with their callbacks dropped), warms up with
// 20 requests, then runs V8's sampling CPU profiler (the inspector's `Profiler` domain) on the
// worker's isolate while N requests run one at a time. Unlike perf, V8 names every JavaScript
// function (the wasm-bindgen glue, the entry module) and every wasm function (by the wasm's name
// section). Printed: ms per request of each function's self time, and of each function's total
// time (itself and what it called), for the top rows. Sampling costs time itself: read shares,
// not absolute figures (bench/isolate.mjs has those). The inspector client is `ws`, which comes
// with Miniflare (package-lock.json pins it).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort } from '../scripts/stack.mjs';
import { diagnosisStack, warmedUp } from './lib.mjs';

const WHAT = process.env.CPUPROFILE_WHAT ?? 'callback';
const METHOD = process.env.CPUPROFILE_METHOD ?? 'alipay_qr';
const N = Number(process.env.CPUPROFILE_N ?? 200);
const INTERVAL = Number(process.env.CPUPROFILE_US ?? 50);
const TOP = Number(process.env.CPUPROFILE_TOP ?? 40);
if (!['pay', 'callback'].includes(WHAT)) throw new Error('CPUPROFILE_WHAT must be pay or callback');

const dir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-cpuprofile-'));
process.env.TMPDIR = dir;
let stack;
let ws;
try {
  const inspectorPort = await freePort();
  stack = await diagnosisStack({ name: 'cpuprofile', method: METHOD, miniflare: { inspectorPort } });
  const targets = await new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${inspectorPort}/json/list`, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(JSON.parse(text)));
    }).on('error', reject);
  });
  // The worker's isolate (Miniflare's own workers are not proxied to the inspector).
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? (() => { throw new Error(`no inspector target: ${JSON.stringify(targets)}`); })();
  ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
  let nextId = 1;
  const pending = new Map();
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString());
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(`${JSON.stringify(message.error)}`));
      else resolve(message.result);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });

  const one = await warmedUp(stack, WHAT, N);
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: INTERVAL });
  await send('Profiler.start');
  for (let i = 20; i < N + 20; i++) await one(i);
  await new Promise((r) => setTimeout(r, 200)); // the last alarm records its delivery
  const { profile } = await send('Profiler.stop');
  if (process.env.CPUPROFILE_SAVE) writeFileSync(process.env.CPUPROFILE_SAVE, JSON.stringify(profile));

  // Self time by node from the samples and their time deltas; then by function name.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const name = (n) => {
    const f = n.callFrame;
    const where = f.url ? path.basename(f.url) : '';
    return `${f.functionName || '(anonymous)'}${where && !f.url.startsWith('wasm') ? ` ${where}` : ''}`;
  };
  const self = new Map();
  const total = new Map();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    const label = name(n);
    self.set(label, (self.get(label) ?? 0) + us);
    if (!['(idle)', '(program)', '(garbage collector)'].includes(label)) busy += us;
    // Total: once per distinct function on the sample's stack.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const l = name(byId.get(at));
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  }
  const ms = (us) => (us / 1000 / N).toFixed(3);
  console.log(`# ${WHAT} ${METHOD}, n=${N}, sampled every ${INTERVAL} µs: ${ms(busy)} ms per request in JavaScript and wasm (not idle, program or GC); (program) ${ms(self.get('(program)') ?? 0)}, (garbage collector) ${ms(self.get('(garbage collector)') ?? 0)}`);
  console.log('\n| function (self time) | ms per request |\n|---|---:|');
  for (const [l, us] of [...self].filter(([l]) => l !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${l.slice(0, 140)} | ${ms(us)} |`);
  console.log('\n| function (total time: itself and its callees) | ms per request |\n|---|---:|');
  for (const [l, us] of [...total].filter(([l]) => !['(idle)', '(root)'].includes(l)).sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${l.slice(0, 140)} | ${ms(us)} |`);
} finally {
  ws?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}
