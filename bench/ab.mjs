// Compares two builds of the worker side by side, for deciding whether a change saves CPU when the
// machine's own speed drifts more than the change (2 shared cores: a figure moves ±30% between
// runs minutes apart). Each build runs in its own Miniflare (its own workerd) with its own sandbox;
// the script alternates small batches of the same request between them, so both see the same
// moments, and reports per build the CPU per request of its workerd's request threads (V8's
// compiler threads left out, as in bench/worker.mjs) and the paired difference, batch by batch.
//
//   node bench/ab.mjs A_DIR B_DIR      (directories holding a worker build's index.js)
//   AB_WHAT=pay|callback|poll (default pay), AB_METHOD=alipay_qr|wechat_native|unionpay_pc (pay only),
//   AB_ROUNDS (default 12), AB_BATCH (requests per batch, default 50)
//
// `callback` is a fresh Alipay callback through to its webhook (the alarm included), as in
// bench/worker.mjs. Alarms other requests set (a new session's ledger copy within a second, a
// pay's within ten) ring outside the counted windows: the script waits them out. CPU is counted in
// the kernel's 10 ms ticks per thread, hence batches and rounds. Not part of the test command; a
// diagnosis like profile.mjs.
import path from 'node:path';
import { diagnosisStack, requestThreadsMs, workerdPids } from './lib.mjs';

const [dirA, dirB] = process.argv.slice(2).map((d) => path.resolve(d));
if (!dirA || !dirB) {
  console.error('usage: node bench/ab.mjs A_DIR B_DIR');
  process.exit(2);
}
const WHAT = process.env.AB_WHAT ?? 'pay';
const METHOD = WHAT === 'callback' ? 'alipay_qr' : (process.env.AB_METHOD ?? 'alipay_qr');
const ROUNDS = Number(process.env.AB_ROUNDS ?? 12);
const BATCH = Number(process.env.AB_BATCH ?? 50);
async function start(name, dir) {
  const before = new Set(workerdPids());
  const stack = await diagnosisStack({ name, method: METHOD, scriptPath: path.join(dir, 'index.js'), modulesRoot: '/' });
  return { name, stack, pids: workerdPids().filter((p) => !before.has(p)), perRequest: [] };
}

const sides = [await start('ab-a', dirA), await start('ab-b', dirB)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One batch on `side`: its CPU per request. Preparation (sessions, sandbox payments) is not counted. */
async function batch(side) {
  const { stack } = side;
  const sessions = [];
  for (let i = 0; i < (WHAT === 'poll' ? 1 : BATCH); i++) sessions.push(await stack.create());
  let numbers = [];
  if (WHAT === 'callback') numbers = await stack.paid(sessions);
  // The new sessions' alarms (their ledger rows, within a second) ring before the count starts.
  await sleep(1_500);
  const cpu0 = requestThreadsMs(side.pids);
  for (let i = 0; i < BATCH; i++) {
    if (WHAT === 'callback') await stack.callbackToWebhook(sessions[i], numbers[i]);
    else if (WHAT === 'poll') await stack.poll(sessions[0]);
    else await stack.pay(sessions[i]);
  }
  // A callback's alarm may still be copying the ledger when the webhook has arrived.
  await sleep(200);
  return (requestThreadsMs(side.pids) - cpu0) / BATCH;
}

try {
  // Warm-up: two uncounted batches each.
  for (const side of sides) for (let i = 0; i < 2; i++) await batch(side);
  if (WHAT === 'pay') await sleep(11_000);
  for (let round = 0; round < ROUNDS; round++) {
    // A B, then B A: neither always goes first.
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) side.perRequest.push(await batch(side));
    // The pays' own alarms (ledger copies, within ten seconds) ring here, uncounted.
    if (WHAT === 'pay') await sleep(11_000);
  }
} finally {
  for (const side of sides) await side.stack.stop();
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const [a, b] = sides;
const diffs = a.perRequest.map((x, i) => b.perRequest[i] - x);
const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - mean(diffs)) ** 2, 0) / (diffs.length - 1));
console.log(`${WHAT}${WHAT === 'pay' ? ` ${METHOD}` : ''}: ${ROUNDS} rounds of ${BATCH}, CPU per request of the request threads (ms; counted in 10 ms ticks)`);
for (const side of sides) console.log(`  ${side.name === 'ab-a' ? 'A' : 'B'} ${path.basename(side.name === 'ab-a' ? dirA : dirB)}: median ${median(side.perRequest).toFixed(2)}, mean ${mean(side.perRequest).toFixed(2)}  [${side.perRequest.map((x) => x.toFixed(2)).join(' ')}]`);
console.log(`  B − A per round: median ${median(diffs).toFixed(2)}, mean ${mean(diffs).toFixed(2)} ± ${(sd / Math.sqrt(diffs.length)).toFixed(2)} (standard error)`);
