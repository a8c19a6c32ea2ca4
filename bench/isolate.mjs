// CPU time of the worker's isolate per request: the figure Cloudflare bills and limits ("the time
// the CPU spends executing the Worker"; waiting for a subrequest or for storage is not counted),
// measured in workerd (Miniflare) against the provider sandbox:
//   node bench/isolate.mjs     (as root, after cargo build -p sandbox and ./scripts/build-worker.sh;
//                               scripts/bench.sh runs it and judges issue 5's CPU budgets on it)
// Env: ISOLATE_N (default 100 requests per phase), ISOLATE_PHASES (default
// calibrate,poll,pay,callback; `repeat` is repeated callbacks alone, without waiting for webhooks,
// for comparing builds that stop a callback early; `forged` is forged Alipay notifications, which
// need no setup; `entries`: what the Rust floor's entry costs, by the layers it goes through,
// and single prices; `ab`: two builds side by side in one run, see `ab()`), EDGEPAY_NATIVE_PROFILE=release for the optimized sandbox,
// ISOLATE_SAVE=file to keep the raw traces (appended), ISOLATE_METHODS (default
// alipay_qr,wechat_native,unionpay_pc), ISOLATE_BUILD=dir (another build of the worker than
// edge-worker/build/, for comparing), ISOLATE_WARMUP (default 20), ISOLATE_REPEAT_WARMUP (default 0:
// repeated callbacks before the counted ones), ISOLATE_FLOOR_RS=dir (another build of
// bench/floor-worker for the Rust floor rows).
//
// How: workerd runs a worker's JavaScript and WebAssembly only while it holds that worker's
// isolate lock (`workerd::Worker::Lock`, taken for every turn of a request, a Durable Object call,
// an alarm). This script puts Linux uprobes on the lock's constructor and destructor in the workerd
// binary (through tracefs, /sys/kernel/tracing; needs root) and records `sched_switch` for workerd's
// threads, then sums, per worker, the time between taking and dropping the lock minus the time the
// thread was switched out meanwhile (a blocking system call, or preemption). That is the
// isolate's CPU time, by request:
//   - "request": the holds of edge-worker's isolate between the moment Miniflare's entry worker
//     (a worker of Miniflare's own, in front of every request; not on Cloudflare) passes the
//     request on and the moment it hands back the answer: the front worker's invocation and the
//     session's Durable Object invocation it calls, which Cloudflare bills as two invocations;
//     The front worker's share is printed apart: the turns of the context (`IoContext`, found by a
//     third uprobe on `IoContext::runImpl`) of the request's first turn; the Durable Object's
//     turns run in the object's own context;
//   - "later": edge-worker's holds after the answer — alarms the request set off (a paid
//     callback's merchant webhook and ledger copy run in the object's alarm, its own invocation);
//   - Miniflare's own workers apart: the entry worker, the outbound fetch proxy, local D1 (on
//     Cloudflare D1 is another service, not the worker's CPU).
// Each uprobe hit costs the thread a few microseconds, about one of them inside each hold (the
// number of holds, "turns", is printed). The calibration phase checks the method: a JavaScript
// worker burning a known amount of CPU, read both by its lock holds and by workerd's threads in
// /proc, and an empty JavaScript worker's holds. A budget is judged on the mean per request.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { freePort } from '../scripts/stack.mjs';
import { COMPATIBILITY_DATE, diagnosisStack, requestThreadsMs, ROOT, workerdPids } from './lib.mjs';

const N = Number(process.env.ISOLATE_N ?? 100);
const WARMUP = Number(process.env.ISOLATE_WARMUP ?? 20);
const REPEAT_WARMUP = Number(process.env.ISOLATE_REPEAT_WARMUP ?? 0);
const BUILD = process.env.ISOLATE_BUILD ? path.resolve(process.env.ISOLATE_BUILD) : null;
const METHODS = (process.env.ISOLATE_METHODS ?? 'alipay_qr,wechat_native,unionpay_pc').split(',').map((m) => m.trim());
const PHASES = new Set((process.env.ISOLATE_PHASES ?? 'calibrate,poll,pay,callback').split(',').map((p) => p.trim()));
const BUDGET = { pay: 2, callback: 1 };
const TRACE = '/sys/kernel/tracing';
const GROUP = 'edgepay_isolate';

// ---------- the tracer ----------

function workerdBinary() {
  const bin = path.join(ROOT, 'node_modules/@cloudflare/workerd-linux-64/bin/workerd');
  if (!existsSync(bin)) throw new Error(`no workerd binary at ${bin}`);
  return bin;
}

/**
 * File offsets in `bin` (it has its symbol table) of `Worker::Lock`'s constructor and destructor,
 * and of `IoContext::runImpl`, which takes the lock for a turn of one request's context (a
 * stateless request's own; a Durable Object's, shared by its requests): which invocation a turn
 * belongs to.
 */
function lockOffsets(bin) {
  const syms = execFileSync('nm', [bin], { maxBuffer: 1 << 28 }).toString();
  const find = (name) => {
    const m = new RegExp(`^([0-9a-f]+) T ${name}$`, 'm').exec(syms);
    if (!m) throw new Error(`workerd has no symbol ${name}: this workerd's Worker::Lock is not where this script looks`);
    return BigInt(`0x${m[1]}`);
  };
  const ctor = find('_ZN7workerd6Worker4LockC2ERKS0_NS0_8LockTypeERNS_3jsg12V8StackScopeE');
  const dtor = find('_ZN7workerd6Worker4LockD2Ev');
  const run = find('_ZN7workerd9IoContext7runImplERNS0_8RunnableENS_6Worker8LockTypeEN2kj5MaybeINS_9InputGate4LockEEENS_30IoContext_Runnable_ExceptionalE');
  // Virtual address → file offset, by the executable segment that holds them.
  const segs = execFileSync('readelf', ['-lW', bin]).toString().split('\n').filter((l) => /^\s*LOAD/.test(l) && /\bR E\b/.test(l));
  for (const seg of segs) {
    const [off, vaddr, , , memsz] = seg.trim().split(/\s+/).slice(1, 6).map((x) => BigInt(x));
    if (ctor >= vaddr && ctor < vaddr + memsz) return { ctor: ctor - vaddr + off, dtor: dtor - vaddr + off, run: run - vaddr + off };
  }
  throw new Error('Worker::Lock is in no executable segment of workerd');
}

function tracefs() {
  if (!existsSync(`${TRACE}/uprobe_events`)) {
    try {
      execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACE], { stdio: 'ignore' });
    } catch {
      /* checked below */
    }
  }
  if (!existsSync(`${TRACE}/uprobe_events`)) throw new Error(`bench/isolate.mjs needs tracefs with uprobes at ${TRACE} and root (mount -t tracefs nodev ${TRACE})`);
}

const put = (file, text) => writeFileSync(`${TRACE}/${file}`, text);
/** tracefs settings this script changes, as they were (put back at the end). */
const saved = {};

function removeProbes() {
  for (const f of ['events/sched/sched_switch/enable', `events/${GROUP}/enable`]) {
    try {
      put(f, '0');
    } catch {
      /* not there */
    }
  }
  for (const e of ['lk', 'ul', 'run']) {
    try {
      appendFileSync(`${TRACE}/uprobe_events`, `-:${GROUP}/${e}\n`);
    } catch {
      /* not there */
    }
  }
  for (const [file, value] of Object.entries(saved)) put(file, value);
}

function installProbes() {
  tracefs();
  const bin = workerdBinary();
  const { ctor, dtor, run } = lockOffsets(bin);
  removeProbes();
  saved.buffer_size_kb = readFileSync(`${TRACE}/buffer_size_kb`, 'utf8').trim().split(' ')[0];
  saved.trace_clock = /\[(\w+)\]/.exec(readFileSync(`${TRACE}/trace_clock`, 'utf8'))[1];
  saved['events/sched/sched_switch/filter'] = '0';
  saved.trace = '';
  put('tracing_on', '0');
  appendFileSync(`${TRACE}/uprobe_events`, `p:${GROUP}/lk ${bin}:0x${ctor.toString(16)} worker=%si:x64\n`);
  appendFileSync(`${TRACE}/uprobe_events`, `p:${GROUP}/ul ${bin}:0x${dtor.toString(16)}\n`);
  appendFileSync(`${TRACE}/uprobe_events`, `p:${GROUP}/run ${bin}:0x${run.toString(16)} context=%di:x64\n`);
  put('buffer_size_kb', '32768');
  put('trace_clock', 'mono');
  put('events/sched/sched_switch/filter', 'prev_comm ~ "workerd*" || next_comm ~ "workerd*"');
}

async function traced(fn) {
  put('trace', '');
  put(`events/${GROUP}/enable`, '1');
  put('events/sched/sched_switch/enable', '1');
  put('tracing_on', '1');
  try {
    await fn();
  } finally {
    put('tracing_on', '0');
    put(`events/${GROUP}/enable`, '0');
    put('events/sched/sched_switch/enable', '0');
  }
  const text = readFileSync(`${TRACE}/trace`, 'utf8');
  if (process.env.ISOLATE_SAVE) appendFileSync(process.env.ISOLATE_SAVE, text);
  if (/LOST \d+ EVENTS/.test(text)) throw new Error('the trace lost events (raise buffer_size_kb or lower ISOLATE_N)');
  return holdsOf(text);
}

/**
 * The lock holds in a trace: [{ worker, context, t0, t1, cpu }] in µs, `cpu` without the time
 * switched out, `context` the IoContext whose turn took the lock (the thread's last `runImpl`).
 */
function holdsOf(text) {
  const re = /^\s*.+?-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): (\w+): (.*)$/;
  const open = new Map();
  const outSince = new Map();
  const context = new Map();
  const holds = [];
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const [, tid, ts, event, rest] = m;
    const t = Number(ts) * 1e6;
    if (event === 'run') {
      context.set(tid, /context=(\S+)/.exec(rest)[1]);
    } else if (event === 'lk') {
      if (open.has(tid)) throw new Error(`thread ${tid} took a worker lock twice (nested locks are not handled)`);
      open.set(tid, { worker: /worker=(\S+)/.exec(rest)[1], context: context.get(tid), t0: t, off: 0 });
      context.delete(tid);
    } else if (event === 'ul') {
      const h = open.get(tid);
      if (!h) continue; // taken before the trace started
      open.delete(tid);
      holds.push({ worker: h.worker, context: h.context, t0: h.t0, t1: t, cpu: t - h.t0 - h.off });
    } else if (event === 'sched_switch') {
      const prev = /prev_pid=(\d+)/.exec(rest)[1];
      const next = /next_pid=(\d+)/.exec(rest)[1];
      if (open.has(prev)) outSince.set(prev, t);
      if (open.has(next) && outSince.has(next)) {
        open.get(next).off += t - outSince.get(next);
        outSince.delete(next);
      }
    }
  }
  return holds;
}

/**
 * Splits `holds` of `n` sequential requests into Miniflare's entry worker (in front of every
 * request, two turns each: passing the request on and handing the answer back; of the workers
 * with 2n holds, the one that took its lock first), the worker under test (the next one to take
 * its lock), the rest, and for the worker under test the holds within each request (between the
 * entry's two turns) and outside them.
 */
function split(holds, n) {
  const counts = new Map();
  for (const h of holds) counts.set(h.worker, (counts.get(h.worker) ?? 0) + 1);
  const first = holds.findIndex((h) => counts.get(h.worker) === 2 * n);
  if (first < 0) throw new Error(`no worker took its lock twice per request (${n} requests): is Miniflare's entry worker still in front?`);
  const entry = holds[first].worker;
  const own = holds.slice(first).find((h) => h.worker !== entry)?.worker;
  const entryHolds = holds.filter((h) => h.worker === entry);
  const windows = [];
  for (let i = 0; i < n; i++) windows.push([entryHolds[2 * i].t1, entryHolds[2 * i + 1].t0]);
  const sum = (hs) => hs.reduce((s, h) => s + h.cpu, 0) / 1000;
  const ownHolds = holds.filter((h) => h.worker === own);
  const inRequest = ownHolds.filter((h) => windows.some(([a, b]) => h.t0 >= a && h.t1 <= b));
  const perRequest = windows.map(([a, b]) => sum(ownHolds.filter((h) => h.t0 >= a && h.t1 <= b))).sort((x, y) => x - y);
  // The front worker's invocation: the turns of the context of the request's first turn; the
  // rest within the request are the Durable Object's (its own context) or unattributed (none).
  let front = 0;
  for (const [a, b] of windows) {
    const mine = ownHolds.filter((h) => h.t0 >= a && h.t1 <= b);
    if (mine[0]?.context !== undefined) front += sum(mine.filter((h) => h.context === mine[0].context));
  }
  const others = new Map();
  for (const h of holds) if (h.worker !== entry && h.worker !== own) others.set(h.worker, (others.get(h.worker) ?? 0) + h.cpu / 1000);
  return {
    request: sum(inRequest) / n,
    front: front / n,
    median: perRequest[Math.floor(n / 2)],
    p90: perRequest[Math.floor(n * 0.9)],
    holds: inRequest.length / n,
    later: sum(ownHolds.filter((h) => !inRequest.includes(h))) / n,
    laterHolds: (ownHolds.length - inRequest.length) / n,
    entry: sum(entryHolds) / n,
    miniflare: [...others.values()].reduce((a, b) => a + b, 0) / n,
  };
}

// ---------- output ----------

const rows = [];
let failed = false;
const f = (x) => `${x.toFixed(2)} ms`;
function row(what, figure, budget = '', pass = null) {
  rows.push([what, figure, budget, pass === null ? '' : pass ? 'PASS' : 'FAIL']);
  if (pass === false) failed = true;
  console.error(`${what}: ${figure} ${budget} ${pass === null ? '' : pass ? 'PASS' : 'FAIL'}`);
}
const figure = (s) => `${f(s.request)} (median ${f(s.median)}, p90 ${f(s.p90)}; ${s.holds.toFixed(1)} turns; front worker ${f(s.front)}, the rest ${f(s.request - s.front)})`;
const context = (s) => `${f(s.later)} later in ${s.laterHolds.toFixed(1)} turns; Miniflare's entry worker ${f(s.entry)}, its proxy and D1 ${f(s.miniflare)}`;

// ---------- phases ----------

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** A JavaScript worker burning a fixed amount of CPU per request, read by the lock holds and by /proc. */
async function calibrate() {
  // A JavaScript worker: `?n=` burns a known amount of CPU; `POST /post` reads a body and answers
  // (the least a callback's front worker does); `POST /object` also hands the body to a Durable
  // Object over RPC, which parses it, stores it and answers (the least a verified callback does
  // before it is acknowledged, in any language).
  const SCRIPT = `import { DurableObject } from 'cloudflare:workers';
  export class Floor extends DurableObject {
    async op(text) { const value = JSON.parse(text); await this.ctx.storage.put('value', text); return [200, String(value.n)]; }
  }
  export default { async fetch(req, env) {
    const url = new URL(req.url);
    if (url.pathname === '/post') { await req.arrayBuffer(); return new Response('success'); }
    if (url.pathname === '/object') {
      const body = await req.text();
      const stub = env.FLOOR.get(env.FLOOR.idFromName(url.searchParams.get('id')));
      const [status] = await stub.op(JSON.stringify({ n: body.length }));
      return new Response(status === 200 ? 'success' : 'fail');
    }
    const n = Number(url.searchParams.get('n'));
    let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i);
    return new Response(String(x));
  } }`;
  const port = await freePort();
  const mf = new Miniflare({ host: '127.0.0.1', port, modules: true, script: SCRIPT, compatibilityDate: COMPATIBILITY_DATE, cf: false, durableObjects: { FLOOR: 'Floor' } });
  let results;
  try {
    await mf.ready;
    results = await floorPaths(port, ['/?n=0', '/?n=2000000', '/post', '/object?id=']);
  } finally {
    await mf.dispose();
  }
  const empty = results['/?n=0'];
  const busy = results['/?n=2000000'];
  row('calibration: an empty JavaScript worker, its isolate per request', `${f(empty.request)} in ${empty.holds.toFixed(1)} turns (Miniflare's entry worker ${f(empty.entry)})`);
  row("calibration: a JavaScript loop's extra CPU, by the isolate's lock / by workerd's threads in /proc (10 ms ticks, traced)", `${f(busy.request - empty.request)} / ${f(busy.proc - empty.proc)}`);
  row('floor in JavaScript: read a 1 KiB POST body and answer', `${f(results['/post'].request)} in ${results['/post'].holds.toFixed(1)} turns`);
  const object = results['/object?id='];
  row('floor in JavaScript: … and first hand it to a Durable Object over RPC that stores it', `${f(object.request)} in ${object.holds.toFixed(1)} turns (front worker ${f(object.front)})`);

  // The same two floors written in Rust with the `worker` crate and wasm-bindgen, as edge-worker
  // is (bench/floor-worker, built by scripts/bench.sh): what the language and its glue cost before
  // any of edgepay's own work.
  const floorRs = process.env.ISOLATE_FLOOR_RS ? path.resolve(process.env.ISOLATE_FLOOR_RS) : path.join(ROOT, 'bench/floor-worker/build');
  if (!existsSync(path.join(floorRs, 'glue.mjs'))) {
    console.error('note: bench/floor-worker/build is not built (scripts/bench.sh builds it): no Rust floor rows');
    return;
  }
  const rs = await rustFloor(floorRs);
  try {
    const rust = await floorPaths(rs.port, ['/post', '/rpc?id=']);
    row('floor in Rust (`worker` crate, bench/floor-worker): read a 1 KiB POST body and answer', `${f(rust['/post'].request)} in ${rust['/post'].holds.toFixed(1)} turns`);
    const rpc = rust['/rpc?id='];
    row('floor in Rust: … and first hand it to a Durable Object over RPC that parses and stores it', `${f(rpc.request)} in ${rpc.holds.toFixed(1)} turns (front worker ${f(rpc.front)})`);
  } finally {
    await rs.mf.dispose();
  }
}

/** A Miniflare running the build of bench/floor-worker in `dir` (its `index.js` the entry). */
async function rustFloor(dir) {
  const port = await freePort();
  const mf = new Miniflare({
    host: '127.0.0.1', port, modules: true, scriptPath: path.join(dir, 'index.js'), modulesRoot: dir,
    modulesRules: [{ type: 'ESModule', include: ['**/*.mjs', '**/*.js'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: COMPATIBILITY_DATE, cf: false, durableObjects: { FLOOR: 'Floor' },
  });
  await mf.ready;
  return { mf, port };
}

/**
 * Where the Rust floor's entry costs go: the same `POST /post` (read 1 KiB, answer) through six
 * entry modules over the same build of bench/floor-worker — the `worker` crate's `#[event(fetch)]`
 * (a `WorkerEntrypoint` class; edge-worker's entry until it got its own export); a plain `{ fetch }`
 * calling an export of the wasm that converts to and from the crate's `Request` and `Response`
 * (`crate_post`); one that reads and answers with `web_sys` types only (`raw_post`), the same
 * reading `cf` (`cf_post`) or answering with the crate's `Response` (`answer_post`); JavaScript
 * reading the body and building the answer around a synchronous call into the wasm (`sync_post`).
 * Then the prices of single operations inside the wasm (`POST /price?…`).
 */
async function entries() {
  const floorRs = process.env.ISOLATE_FLOOR_RS ? path.resolve(process.env.ISOLATE_FLOOR_RS) : path.join(ROOT, 'bench/floor-worker/build');
  if (!existsSync(path.join(floorRs, 'glue.mjs'))) throw new Error('bench/floor-worker/build is not built (scripts/bench.sh builds it)');
  const entry = readFileSync(path.join(ROOT, 'bench/floor-worker/js/entry.mjs'), 'utf8');
  const variants = {
    'the `worker` crate\'s `#[event(fetch)]`': entry,
    'plain `{ fetch }` → a wasm export with the crate\'s `Request`/`Response`': entry.replace('export default worker;', 'const post = worker.prototype.crate_post;\nexport default { fetch(request) { return post(request); } };'),
    'plain `{ fetch }` → a wasm export with `web_sys` types only': entry.replace('export default worker;', 'const post = worker.prototype.raw_post;\nexport default { fetch(request) { return post(request); } };'),
    'as the last, reading the request\'s `cf` too': entry.replace('export default worker;', 'const post = worker.prototype.cf_post;\nexport default { fetch(request) { return post(request); } };'),
    '`web_sys` request, the crate\'s `Response`': entry.replace('export default worker;', 'const post = worker.prototype.answer_post;\nexport default { fetch(request) { return post(request); } };'),
    'JavaScript reads and answers; one synchronous call into the wasm': entry.replace('export default worker;', 'const post = worker.prototype.sync_post;\nexport default { async fetch(request) { return new Response(post(new Uint8Array(await request.arrayBuffer()))); } };'),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-entries-'));
  try {
    for (const [label, source] of Object.entries(variants)) {
      if (!source.includes('export default')) throw new Error('bench/floor-worker/js/entry.mjs is not shaped as this phase expects');
      const build = mkdtempSync(path.join(dir, 'v-'));
      cpSync(floorRs, build, { recursive: true });
      writeFileSync(path.join(build, 'index.js'), source);
      const { mf, port } = await rustFloor(build);
      try {
        const r = (await floorPaths(port, ['/post']))['/post'];
        row(`Rust floor's entry, read a 1 KiB POST body and answer: ${label}`, `${f(r.request)} (median ${f(r.median)}) in ${r.holds.toFixed(1)} turns`);
      } finally {
        await mf.dispose();
      }
    }
    // Prices of single operations (through the crate's entry, as edge-worker's was): the
    // difference to the plain request, over the count.
    const { mf, port } = await rustFloor(floorRs);
    try {
      const r = await floorPaths(port, ['/price', '/price?calls=100', '/price?awaits=20', '/price?sha=20', '/price?json=20', '/price?logs=1', '/price?logs=20']);
      const base = r['/price'].request;
      row('price of one call out of the wasm (`js_sys::Date::now`, 100 per request)', `${(((r['/price?calls=100'].request - base) / 100) * 1000).toFixed(1)} µs`);
      row('price of one await of a resolved JavaScript promise (`JsFuture`, 20 per request)', `${(((r['/price?awaits=20'].request - base) / 20) * 1000).toFixed(1)} µs`);
      row('price of a log line (`console.log` of one JSON line, one per request / the next 19 each)', `${((r['/price?logs=1'].request - base) * 1000).toFixed(1)} µs / ${(((r['/price?logs=20'].request - r['/price?logs=1'].request) / 19) * 1000).toFixed(1)} µs`);
      row('price of a SHA-256 of 2 KiB in the wasm (`sha2`, 20 per request)', `${(((r['/price?sha=20'].request - base) / 20) * 1000).toFixed(1)} µs`);
      row('price of parsing and serializing a 2 KiB JSON object in the wasm (`serde_json::Value`, 20 per request)', `${(((r['/price?json=20'].request - base) / 20) * 1000).toFixed(1)} µs`);
    } finally {
      await mf.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The isolate's CPU per request of each of `paths` (GET for `/?…`, else a 1 KiB POST) on the worker at `port`. */
async function floorPaths(port, paths) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = 'x'.repeat(1024); // an Alipay notification is about 1 KiB
  const send = (p) => new Promise((resolve, reject) => {
    const req = http.request(`http://127.0.0.1:${port}${p}`, { agent, method: p.startsWith('/?') ? 'GET' : 'POST' }, (res) => (res.resume(), res.on('end', resolve)));
    req.on('error', reject);
    req.end(p.startsWith('/?') ? undefined : body);
  });
  try {
    const pids = workerdPids();
    const results = {};
    for (const p of paths) {
      // Paths ending in `id=` go to 20 objects in turn, all started by the warm-up (as a callback
      // goes to its session's object, running since the pay).
      let k = 0;
      const next = () => (p.endsWith('id=') ? `${p}${k++ % 20}` : p);
      for (let i = 0; i < WARMUP; i++) await send(next());
      const c0 = requestThreadsMs(pids);
      const holds = await traced(async () => {
        for (let i = 0; i < N; i++) await send(next());
      });
      results[p] = { proc: (requestThreadsMs(pids) - c0) / N, ...split(holds, N) };
    }
    return results;
  } finally {
    agent.destroy();
  }
}

async function withStack(method, fn) {
  // The worker's own log lines (one per callback) are dropped: the trace is what is read here.
  const quiet = { handleRuntimeStdio: (stdout, stderr) => (stdout.resume(), stderr.pipe(process.stderr)) };
  const stack = await diagnosisStack({ name: `isolate-${method}`, method, ...(BUILD ? { scriptPath: path.join(BUILD, 'index.js'), modulesRoot: '/' } : {}), miniflare: quiet });
  try {
    await fn(stack);
  } finally {
    await stack.stop();
  }
}

async function sessions(stack, n) {
  const list = [];
  for (let i = 0; i < n; i++) list.push(await stack.create());
  await pause(1500); // the creations' alarms (their ledger rows, copied within 1 s) ring before the trace
  return list;
}

async function poll() {
  await withStack('alipay_qr', async (stack) => {
    const [s] = await sessions(stack, 1);
    for (let i = 0; i < WARMUP; i++) await stack.poll(s);
    const holds = await traced(async () => {
      for (let i = 0; i < N; i++) await stack.poll(s);
    });
    const r = split(holds, N);
    row('status poll GET /v1/sessions/{id}, isolate CPU per request', figure(r), '', null);
    row('  around it', context(r));
  });
}

async function pay() {
  for (const method of METHODS) {
    await withStack(method, async (stack) => {
      const list = await sessions(stack, WARMUP + N);
      for (const s of list.slice(0, WARMUP)) await stack.pay(s);
      // Each pay sets an alarm 10 s ahead (the provider query); the N pays take well under that.
      const holds = await traced(async () => {
        for (const s of list.slice(WARMUP)) await stack.pay(s);
      });
      const r = split(holds, N);
      row(`pay ${method}, isolate CPU per request (front worker + the session's Durable Object)`, figure(r), `≤ ${BUDGET.pay} ms`, r.request <= BUDGET.pay);
      row('  around it', context(r));
    });
  }
}

async function callback() {
  for (const method of METHODS) {
    await withStack(method, async (stack) => {
      const warm = await sessions(stack, WARMUP);
      const warmNumbers = await stack.paid(warm);
      for (let i = 0; i < WARMUP; i++) await stack.callbackToWebhook(warm[i], warmNumbers[i]);
      // Fresh: each session paid at the provider, its callback not yet sent. Prepared in batches
      // of 25 and called back at once, before the worker's own query (10 s after the pay) finds it.
      const fresh = { request: 0, front: 0, median: 0, p90: 0, holds: 0, later: 0, laterHolds: 0, entry: 0, miniflare: 0 };
      const BATCH = 25;
      const batches = Math.max(1, Math.round(N / BATCH));
      for (let b = 0; b < batches; b++) {
        const batch = await sessions(stack, BATCH);
        const numbers = await stack.paid(batch);
        const holds = await traced(async () => {
          for (let i = 0; i < BATCH; i++) await stack.callbackToWebhook(batch[i], numbers[i]);
          await pause(50); // the last webhook's alarm finishes its ledger copy
        });
        const r = split(holds, BATCH);
        for (const k of Object.keys(fresh)) fresh[k] += r[k] / batches; // median, p90: the batches' mean
      }
      row(`callback ${method}, fresh: verify + checks + transition + outbox, isolate CPU per request`, figure(fresh), `≤ ${BUDGET.callback} ms`, fresh.request <= BUDGET.callback);
      row('  around it (later: the alarm signing and sending the merchant webhook, copying the ledger)', context(fresh));
      // (Each of these callbacks was sent once already, before its webhook.)
      await repeats(stack, method, warmNumbers, REPEAT_WARMUP);
    });
  }
}

/** Repeats of the recorded callbacks of `numbers` (after `warmup` uncounted ones): one row. */
async function repeats(stack, method, numbers, warmup) {
  for (let i = 0; i < warmup; i++) await stack.repeatCallback(numbers[i % numbers.length]);
  await pause(200);
  const holds = await traced(async () => {
    for (let i = 0; i < N; i++) await stack.repeatCallback(numbers[i % numbers.length]);
  });
  const r = split(holds, N);
  row(`callback ${method}, a repeat of a recorded one, isolate CPU per request`, figure(r), `≤ ${BUDGET.callback} ms`, r.request <= BUDGET.callback);
}

/** Repeated callbacks only (no webhook awaited): for comparing builds that stop a callback early. */
async function repeat() {
  for (const method of METHODS) {
    await withStack(method, async (stack) => {
      const warm = await sessions(stack, WARMUP);
      await repeats(stack, method, await stack.paid(warm), WARMUP + REPEAT_WARMUP);
    });
  }
}

/**
 * Forged Alipay notifications (well formed, about 1 KiB, signed by no one): read, refused, logged,
 * answered `fail` — what a flood of them costs; and, for builds that stop a callback before its
 * verification, the cost up to that point without any setup.
 */
async function forged() {
  await withStack('alipay_qr', async (stack) => {
    const form = (i) => new URLSearchParams({
      gmt_create: '2026-11-22 10:00:00', charset: 'utf-8', seller_email: 'merchant@example.com', subject: 'isolate',
      sign: crypto.randomBytes(256).toString('base64'), buyer_id: '2088102177846880', invoice_amount: '68.00',
      notify_id: crypto.randomBytes(16).toString('hex'), fund_bill_list: '[{"amount":"68.00","fundChannel":"ALIPAYACCOUNT"}]',
      notify_type: 'trade_status_sync', trade_status: 'TRADE_SUCCESS', receipt_amount: '68.00', app_id: '2021000000000000',
      buyer_pay_amount: '68.00', sign_type: 'RSA2', seller_id: '2088000000000000', gmt_payment: '2026-11-22 10:00:05',
      notify_time: '2026-11-22 10:00:06', version: '1.0', out_trade_no: `FORGED${i}`, total_amount: '68.00',
      trade_no: `2026112222001400000000${String(i).padStart(6, '0')}`, auth_app_id: '2021000000000000', point_amount: '0.00',
    }).toString();
    const send = (i) => new Promise((resolve, reject) => {
      const r = http.request(`${stack.worker}/v1/notify/alipay`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' } }, (res) => (res.resume(), res.on('end', resolve)));
      r.on('error', reject);
      r.end(form(i));
    });
    for (let i = 0; i < WARMUP; i++) await send(i);
    const holds = await traced(async () => {
      for (let i = 0; i < N; i++) await send(WARMUP + i);
    });
    row('callback alipay, forged (refused), isolate CPU per request', figure(split(holds, N)), '', null);
  });
}

/**
 * Two builds side by side in one run (`ISOLATE_PHASES=ab ISOLATE_AB=<dir of build B>`, build A
 * being `ISOLATE_BUILD` or edge-worker/build): both stacks up at once, batches of the same request
 * traced on A and on B in turn (A B, then B A), so that both see the same phases of the machine;
 * the paired difference per round with its standard error. `ISOLATE_AB_WHAT`: `repeat`
 * (repeated callbacks of the first of `ISOLATE_METHODS`, the default) or `poll`;
 * `ISOLATE_AB_ROUNDS` (default 10), `ISOLATE_AB_BATCH` (default 20). Not pays: each sets its
 * session's alarm for a provider query 10 s later, and in a run this long those ring inside later
 * pays (the `pay` phase runs its pays within the 10 s; compare pays with it run after run, or with
 * bench/ab.mjs, which waits the alarms out).
 */
async function ab() {
  if (!process.env.ISOLATE_AB) throw new Error('ISOLATE_PHASES=ab needs ISOLATE_AB=<the directory of build B>');
  const dirs = [BUILD ?? path.join(ROOT, 'edge-worker/build'), path.resolve(process.env.ISOLATE_AB)];
  const what = process.env.ISOLATE_AB_WHAT ?? 'repeat';
  const rounds = Number(process.env.ISOLATE_AB_ROUNDS ?? 10);
  const batch = Number(process.env.ISOLATE_AB_BATCH ?? 20);
  if (!['repeat', 'poll'].includes(what)) throw new Error('ISOLATE_AB_WHAT must be repeat or poll');
  const method = METHODS[0];
  const quiet = { handleRuntimeStdio: (stdout, stderr) => (stdout.resume(), stderr.pipe(process.stderr)) };
  const stacks = [];
  try {
    const next = [];
    for (const [k, dir] of dirs.entries()) {
      const stack = await diagnosisStack({ name: `isolate-ab-${k}`, method, scriptPath: path.join(dir, 'index.js'), modulesRoot: '/', miniflare: quiet });
      stacks.push(stack);
      if (what === 'poll') {
        const [session] = await sessions(stack, 1);
        next.push(() => stack.poll(session));
      } else {
        const warm = await sessions(stack, WARMUP);
        const numbers = await stack.paid(warm);
        let i = 0;
        next.push(() => stack.repeatCallback(numbers[i++ % numbers.length]));
      }
    }
    for (let i = 0; i < WARMUP; i++) for (const one of next) await one();
    await pause(200);
    const runs = [[], []];
    for (let r = 0; r < rounds; r++) {
      for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const holds = await traced(async () => {
          for (let i = 0; i < batch; i++) await next[k]();
        });
        runs[k].push(split(holds, batch));
      }
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const diffs = runs[1].map((b, r) => b.request - runs[0][r].request);
    const se = Math.sqrt(diffs.reduce((a, d) => a + (d - mean(diffs)) ** 2, 0) / (diffs.length - 1) / diffs.length);
    for (const k of [0, 1]) {
      const front = mean(runs[k].map((r) => r.front));
      row(`A/B ${what}${what === 'repeat' ? ` ${method}` : ''}, build ${'AB'[k]} (${path.relative(ROOT, dirs[k]) || dirs[k]}), ${rounds} rounds of ${batch}`, `${f(mean(runs[k].map((r) => r.request)))} (front worker ${f(front)}; rounds ${runs[k].map((r) => r.request.toFixed(2)).join(' ')})`);
    }
    const median = [...diffs].sort((x, y) => x - y)[Math.floor(diffs.length / 2)];
    const signed = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(3)}`;
    row(`A/B ${what}: B − A per round`, `${diffs.map((d) => d.toFixed(2)).join(' ')}; mean ${signed(mean(diffs))} ± ${se.toFixed(3)} ms (standard error), median ${signed(median)} ms`);
  } finally {
    for (const stack of stacks) await stack.stop();
  }
}

installProbes();
try {
  console.log(`# bench/isolate.mjs, ${new Date().toISOString()}, ${N} requests per phase, workerd ${JSON.parse(readFileSync(path.join(ROOT, 'node_modules/workerd/package.json'), 'utf8')).version}`);
  if (PHASES.has('calibrate')) await calibrate();
  if (PHASES.has('poll')) await poll();
  if (PHASES.has('pay')) await pay();
  if (PHASES.has('callback')) await callback();
  if (PHASES.has('repeat')) await repeat();
  if (PHASES.has('forged')) await forged();
  if (PHASES.has('entries')) await entries();
  if (PHASES.has('ab')) await ab();
} finally {
  removeProbes();
}
console.log('| measurement (isolate CPU: time holding the worker\'s lock, switched-out time excluded) | figure | budget | |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
process.exit(failed ? 1 : 0);
