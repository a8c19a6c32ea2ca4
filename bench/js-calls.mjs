// How many calls cross between the worker's wasm and JavaScript per request (a diagnosis beside
// bench/worker.mjs): every function the wasm imports from its wasm-bindgen glue is a call out of
// the wasm (a storage call, a promise's `then`, a property read of a JavaScript object being
// converted, a header…), each with its own cost in V8.
//   node bench/js-calls.mjs        (after cargo build -p sandbox and ./scripts/build-worker.sh)
// Env: CALLS_WHAT=pay|callback (default pay; callback = a fresh Alipay callback through to its
// webhook), CALLS_METHOD (default alipay_qr), CALLS_N (default 100).
//
// It copies edge-worker/build/ to a temporary directory and changes the copy's glue (index.js) so
// that each import counts its calls, and its fetch handler answers `/__calls` with the counts (and
// resets them); then runs the requests against the copy in Miniflare. The worker's own files are
// not changed. Printed: calls per request, by import (the glue's names without their hash).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { freePort, startSandbox } from '../scripts/stack.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const COMPATIBILITY_DATE = readFileSync(path.join(ROOT, 'edge-worker/wrangler.toml'), 'utf8').match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
const WHAT = process.env.CALLS_WHAT ?? 'pay';
const METHOD = process.env.CALLS_METHOD ?? 'alipay_qr';
const N = Number(process.env.CALLS_N ?? 100);
if (WHAT === 'callback' && METHOD !== 'alipay_qr') throw new Error('CALLS_WHAT=callback counts Alipay callbacks: CALLS_METHOD=alipay_qr');

const dir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-js-calls-'));
process.env.TMPDIR = dir; // Miniflare's files too, removed with it
const build = path.join(dir, 'build');
cpSync(path.join(ROOT, 'edge-worker/build'), build, { recursive: true });
{
  const file = path.join(build, 'index.js');
  let glue = readFileSync(file, 'utf8');
  const imports = /function (\w+)\(\)\{return\{__proto__:null,"\.\/index_bg\.js":/;
  const handler = /(\w+)\.prototype\.fetch=function\((\w+)\)\{return (\w+)\.call\(this,\2,this\.env,this\.ctx\)\}/;
  if (!imports.test(glue) || !handler.test(glue)) throw new Error('the glue of edge-worker/build/index.js is not shaped as this script expects');
  glue = glue.replace(imports, (_, name) => `function ${name}(){return __countCalls({__proto__:null,"./index_bg.js":`);
  // The object literal that function returns now ends one parenthesis later (the function is
  // followed by the exception tag's declaration).
  const end = /\}\}\}(var \w+=new WebAssembly\.Tag)/;
  if (!end.test(glue)) throw new Error('the glue of edge-worker/build/index.js is not shaped as this script expects');
  glue = glue.replace(end, (_, next) => `}})}${next}`);
  glue = glue.replace(handler, (_, cls, req, impl) =>
    `${cls}.prototype.fetch=function(${req}){if(new URL(${req}.url).pathname==="/__calls"){const r=new Response(JSON.stringify(globalThis.__calls));globalThis.__calls={};return r}return ${impl}.call(this,${req},this.env,this.ctx)}`);
  const counter = `globalThis.__calls={};function __countCalls(o){const m=o["./index_bg.js"];for(const k of Object.keys(m)){const f=m[k];if(typeof f!=="function")continue;const n=k.replace(/_[0-9a-f]{16}$/,"");m[k]=function(...a){globalThis.__calls[n]=(globalThis.__calls[n]||0)+1;return f.apply(this,a)}}return o}\n`;
  writeFileSync(file, counter + glue);
}

const API_KEY = `sk_test_calls_${crypto.randomBytes(12).toString('hex')}`;
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
const sandbox = await startSandbox({ name: 'js-calls', callbackScale: 0.001 });
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
const port = await freePort();
const worker = `http://127.0.0.1:${port}`;
let mf;
try {
  const config = JSON.parse((await request('GET', `${sandbox.url}/sandbox/worker-config`)).text);
  mf = new Miniflare({
    host: '127.0.0.1',
    port,
    modules: true,
    scriptPath: path.join(build, 'index.js'),
    modulesRoot: build, // module names relative to the copy (workerd refuses paths through "..")
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: COMPATIBILITY_DATE,
    cf: false,
    durableObjects: { SESSIONS: 'SessionObject' },
    d1Databases: { LEDGER: 'edgepay-ledger' },
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
  const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
  const create = async () => {
    const r = await request('POST', `${worker}/v1/sessions`, { order_id: crypto.randomUUID(), amount: 6800, currency: 'CNY', description: 'calls', methods: [METHOD] }, { authorization: `Bearer ${API_KEY}` });
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
  const sessions = [];
  for (let i = 0; i < N; i++) sessions.push(await create());
  const orders = [];
  if (WHAT === 'callback') {
    const actions = [];
    for (const s of sessions) actions.push(await pay(s));
    const all = JSON.parse((await request('GET', `${sandbox.url}/sandbox/control/orders`)).text);
    for (const a of actions) orders.push(all.find((o) => o.detail?.qr_data === a.data).out_trade_no);
    for (const no of orders) await sandboxPost(`/sandbox/control/orders/alipay/${no}/pay`);
  }
  await new Promise((r) => setTimeout(r, 1_500)); // the creations' ledger copies
  await request('GET', `${worker}/__calls`);
  for (let i = 0; i < N; i++) {
    if (WHAT === 'pay') {
      await pay(sessions[i]);
    } else {
      const arrived = new Promise((r) => waiters.set(sessions[i].id, r));
      await sandboxPost(`/sandbox/control/orders/alipay/${orders[i]}/notify`);
      await arrived;
    }
  }
  await new Promise((r) => setTimeout(r, 200)); // the last alarm records its delivery
  const calls = JSON.parse((await request('GET', `${worker}/__calls`)).text);
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  console.log(`# ${WHAT} ${METHOD}, n=${N}: ${(total / N).toFixed(1)} calls from the wasm to JavaScript per request`);
  console.log('| import | calls per request |\n|---|---:|');
  for (const [name, n] of Object.entries(calls).sort((a, b) => b[1] - a[1])) console.log(`| ${name} | ${(n / N).toFixed(2)} |`);
} finally {
  await mf?.dispose();
  await sandbox.stop();
  hooks.close();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
