// Where workerd's CPU goes during one kind of request, by Linux `perf` sampling (a diagnosis beside
// bench/worker.mjs, which measures the totals; not part of the test command):
//   node bench/profile.mjs           (after cargo build -p sandbox and ./scripts/build-worker.sh)
// Env: PROFILE_WHAT=pay|callback (default pay; callback = a fresh Alipay callback through to its
// webhook), PROFILE_METHOD (default alipay_qr; callback needs alipay_qr), PROFILE_N (default 200),
// PROFILE_LEDGER=off (no D1 binding). Needs `perf` (Debian: linux-perf) and permission to sample
// this user's processes (kernel.perf_event_paranoid ≤ 2).
//
// It starts the sandbox and a Miniflare running edge-worker/build/, prepares N sessions (and for
// callbacks pays them at the sandbox with their callbacks dropped), warms up with 20 requests, then
// samples workerd at 4 kHz with call stacks while N requests run one at a time. Each sample is put
// in one category by its innermost frame: the worker's wasm and all JavaScript (JIT code, which
// perf cannot name), V8's runtime and builtins (calls between JavaScript, wasm and the runtime,
// promises, JSON), workerd's API layer and its kj/capnp I/O, BoringSSL (WebCrypto), SQLite,
// malloc, the kernel (by system call: fsync is Miniflare's on-disk storage), and V8's compiler
// threads apart. Printed: ms per request of each category (samples × 0.25 ms / N).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { freePort, startSandbox } from '../scripts/stack.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMPATIBILITY_DATE = readFileSync(path.join(ROOT, 'edge-worker/wrangler.toml'), 'utf8').match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
const WHAT = process.env.PROFILE_WHAT ?? 'pay';
const METHOD = process.env.PROFILE_METHOD ?? 'alipay_qr';
const N = Number(process.env.PROFILE_N ?? 200);
const HZ = 4000;
if (!['pay', 'callback'].includes(WHAT)) throw new Error('PROFILE_WHAT must be pay or callback');
if (WHAT === 'callback' && METHOD !== 'alipay_qr') throw new Error('PROFILE_WHAT=callback profiles Alipay callbacks: PROFILE_METHOD=alipay_qr');
if (spawnSync('perf', ['--version']).status !== 0) {
  console.error('bench/profile.mjs needs `perf` (Debian: apt-get install linux-perf)');
  process.exit(2);
}

const API_KEY = `sk_test_profile_${crypto.randomBytes(12).toString('hex')}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function request(method, url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    r.on('error', reject);
    r.end(body === undefined ? '' : JSON.stringify(body));
  });
}

// Miniflare's files (and perf's) in one directory of this script's, removed at the end (Miniflare
// removes its own without waiting when disposed).
const dir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-profile-'));
process.env.TMPDIR = dir;
const sandbox = await startSandbox({ name: 'profile', callbackScale: 0.001 });
const config = JSON.parse((await request('GET', `${sandbox.url}/sandbox/worker-config`)).text);
const waiters = new Map();
const hooks = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    res.writeHead(204).end();
    for (const [id, arrived] of waiters) if (body.includes(id)) (waiters.delete(id), arrived());
  });
});
await new Promise((r) => hooks.listen(0, '127.0.0.1', r));
const workerdPids = () =>
  execFileSync('ps', ['-e', '-o', 'pid=,comm=']).toString().trim().split('\n').map((r) => r.trim().split(/\s+/)).filter(([, c]) => c.startsWith('workerd')).map(([p]) => +p);
const before = new Set(workerdPids());
const port = await freePort();
const worker = `http://127.0.0.1:${port}`;
const mf = new Miniflare({
  host: '127.0.0.1',
  port,
  modules: true,
  scriptPath: path.join(ROOT, 'edge-worker/build/index.js'),
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
  compatibilityDate: COMPATIBILITY_DATE,
  cf: false,
  durableObjects: { SESSIONS: 'SessionObject' },
  ...(process.env.PROFILE_LEDGER === 'off' ? {} : { d1Databases: { LEDGER: 'edgepay-ledger' } }),
  bindings: {
    ...config,
    MERCHANT_API_KEY: API_KEY,
    SESSION_SECRET: crypto.randomBytes(32).toString('base64'),
    DATA_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
    PUBLIC_BASE_URL: worker,
    MERCHANT_WEBHOOK_URL: `http://127.0.0.1:${hooks.address().port}/webhooks/edgepay`,
    MERCHANT_WEBHOOK_SECRET: `whsec_${crypto.randomBytes(32).toString('base64')}`,
  },
});
await mf.ready;
const pids = workerdPids().filter((p) => !before.has(p));
try {
  const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
  const create = async () => {
    const r = await request('POST', `${worker}/v1/sessions`, { order_id: crypto.randomUUID(), amount: 6800, currency: 'CNY', description: 'profile', methods: [METHOD] }, { authorization: `Bearer ${API_KEY}` });
    if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
    return JSON.parse(r.text);
  };
  const pay = async (s) => {
    const r = await request('POST', `${worker}/v1/sessions/${s.id}/pay`, { method: METHOD }, { authorization: `Bearer ${s.client_secret}`, 'user-agent': UA });
    if (r.status !== 200) throw new Error(`pay: ${r.status} ${r.text}`);
    return JSON.parse(r.text);
  };
  const sandboxPost = async (p) => {
    const r = await request('POST', `${sandbox.url}${p}`, { times: 1 });
    if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.text}`);
  };
  await request('PUT', `${sandbox.url}/sandbox/control/faults`, { callbacks: 'drop' });
  for (let i = 0; i < 20; i++) await pay(await create());
  const sessions = [];
  for (let i = 0; i < N + 20; i++) sessions.push(await create());
  const orders = [];
  if (WHAT === 'callback') {
    const actions = [];
    for (const s of sessions) actions.push(await pay(s));
    const all = JSON.parse((await request('GET', `${sandbox.url}/sandbox/control/orders`)).text);
    for (const a of actions) orders.push(all.find((o) => o.detail?.qr_data === a.data).out_trade_no);
    for (const no of orders) await sandboxPost(`/sandbox/control/orders/alipay/${no}/pay`);
  }
  const one = async (i) => {
    if (WHAT === 'pay') return pay(sessions[i]);
    const arrived = new Promise((r) => waiters.set(sessions[i].id, r));
    await sandboxPost(`/sandbox/control/orders/alipay/${orders[i]}/notify`);
    await arrived;
  };
  for (let i = 0; i < 20; i++) await one(i);
  // The creations' and pays' alarms (ledger copies within a second) come before the samples.
  await new Promise((r) => setTimeout(r, 2_500));
  const data = path.join(dir, 'perf.data');
  const perf = spawn('perf', ['record', '-F', String(HZ), '-g', '-o', data, '-p', pids.join(',')], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1_000));
  for (let i = 20; i < N + 20; i++) await one(i);
  await new Promise((r) => setTimeout(r, 200)); // the last alarm records its delivery
  perf.kill('SIGINT');
  await new Promise((r) => perf.on('exit', r));

  const script = spawnSync('perf', ['script', '-i', data, '-F', 'comm,ip,sym,dso'], { maxBuffer: 1 << 30, encoding: 'utf8' }).stdout;
  const counts = new Map();
  const syscalls = new Map();
  let total = 0;
  for (const sample of script.split('\n\n')) {
    const lines = sample.split('\n').filter((l) => l.trim());
    if (lines.length < 2) continue;
    const compiler = lines[0].trim().startsWith('V8 ');
    // "<ip> <symbol>+<offset> (<dso>)"
    const frames = lines.slice(1).map((l) => {
      const m = l.trim().match(/^[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$/);
      return m ? { sym: m[1], dso: m[2] } : { sym: '', dso: '' };
    });
    const cat = compiler ? "V8's compiler threads (beside the request)" : category(frames);
    counts.set(cat, (counts.get(cat) ?? 0) + 1);
    total++;
    if (!compiler && cat === 'kernel') {
      const call = frames.find((f) => /^(__x64_sys_|__do_sys_|ksys_)/.test(f.sym))?.sym.replace(/^(__x64_sys_|__do_sys_|ksys_)/, '') ?? (frames.some((f) => /page_fault/.test(f.sym)) ? 'page faults' : 'other (interrupts, scheduling)');
      syscalls.set(call, (syscalls.get(call) ?? 0) + 1);
    }
  }
  const per = (n) => ((n * 1000) / HZ / N).toFixed(3);
  console.log(`# ${WHAT} ${METHOD}, n=${N}, ${total} samples at ${HZ} Hz = ${per(total)} ms of workerd CPU per request (sampling adds some)`);
  console.log('| where (innermost frame) | ms per request | share |\n|---|---:|---:|');
  for (const [cat, n] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`| ${cat} | ${per(n)} | ${((100 * n) / total).toFixed(1)} % |`);
  console.log('\n| kernel time by system call | ms per request |\n|---|---:|');
  for (const [call, n] of [...syscalls].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`| ${call} | ${per(n)} |`);
} finally {
  await mf.dispose();
  await sandbox.stop();
  hooks.close();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}

/** The category of a sample from its frames, innermost first. */
function category(frames) {
  const { sym: leaf, dso } = frames[0];
  if (dso.includes('kernel')) return 'kernel';
  if (dso.includes('JIT') || leaf === '[unknown]' || leaf === '') return 'the wasm and JavaScript (JIT code)';
  if (/bn_|BN_|mulx4x|sqrx8x|RSA_|rsa_|sha256_block|SHA256|aes_|gcm_|EVP_|bssl::/.test(leaf)) return 'BoringSSL (WebCrypto)';
  if (/^sqlite3|^yy_|^unix(Open|Sync|Write|Read|Lock)/.test(leaf)) return 'SQLite';
  if (/compiler::|turboshaft|maglev::|Maglev|Liftoff|wasm::.*Compil/.test(leaf)) return 'V8 compilers';
  if (/Scavenger|MarkCompact|Sweeper|Marking|Heap::|Evacuat/.test(leaf)) return 'V8 garbage collector';
  if (/^Builtins_|^v8::/.test(leaf)) return 'V8 runtime and builtins';
  if (/tcmalloc|TCMalloc|^malloc|^free|^operator new|^operator delete/.test(leaf)) return 'malloc';
  if (/^kj::|^capnp::/.test(leaf)) return 'kj/capnp (I/O, promises)';
  if (/^workerd::/.test(leaf)) return 'workerd (API layer)';
  if (/^__mem|^__str|^mem|^str/.test(leaf)) return 'libc memory and strings';
  return 'other';
}
