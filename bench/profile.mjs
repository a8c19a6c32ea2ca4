// Where workerd's CPU goes during one kind of request, by Linux `perf` sampling (a diagnosis beside
// bench/worker.mjs, which measures the totals; not part of the test command):
//   node bench/profile.mjs           (after cargo build -p sandbox and ./scripts/build-worker.sh)
// Env: PROFILE_WHAT=pay|callback (default pay; callback = a fresh Alipay callback through to its
// webhook), PROFILE_METHOD (default alipay_qr; callback needs alipay_qr), PROFILE_N (default 200),
// PROFILE_LEDGER=off (no D1 binding), PROFILE_TOP=K (also the K leaf functions sampled most, outside
// the kernel and the JIT code). Needs `perf` (Debian: linux-perf) and permission to sample
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
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diagnosisStack, warmedUp } from './lib.mjs';

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

// Miniflare's files (and perf's) in one directory of this script's, removed at the end (Miniflare
// removes its own without waiting when disposed).
const dir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-profile-'));
process.env.TMPDIR = dir;
const workerdPids = () =>
  execFileSync('ps', ['-e', '-o', 'pid=,comm=']).toString().trim().split('\n').map((r) => r.trim().split(/\s+/)).filter(([, c]) => c.startsWith('workerd')).map(([p]) => +p);
const before = new Set(workerdPids());
let stack;
try {
  stack = await diagnosisStack({ name: 'profile', method: METHOD, ledger: process.env.PROFILE_LEDGER !== 'off' });
  const pids = workerdPids().filter((p) => !before.has(p));
  const one = await warmedUp(stack, WHAT, N);
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
  const leaves = new Map();
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
    if (!compiler && cat !== 'kernel' && cat !== 'the wasm and JavaScript (JIT code)') {
      const leaf = frames[0].sym.replace(/\(.*$/, '');
      leaves.set(leaf, (leaves.get(leaf) ?? 0) + 1);
    }
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
  const top = Number(process.env.PROFILE_TOP ?? 0);
  if (top > 0) {
    console.log('\n| leaf function (outside the kernel and the JIT code) | ms per request |\n|---|---:|');
    for (const [leaf, n] of [...leaves].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| ${leaf.slice(0, 120)} | ${per(n)} |`);
  }
} finally {
  await stack?.stop();
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
