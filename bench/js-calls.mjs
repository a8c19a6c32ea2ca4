// How many calls cross between the worker's wasm and JavaScript per request (a diagnosis beside
// bench/worker.mjs): every function the wasm imports from its wasm-bindgen glue is a call out of
// the wasm (a storage call, a promise's `then`, a property read of a JavaScript object being
// converted, a header…), each with its own cost in V8.
//   node bench/js-calls.mjs        (after cargo build -p sandbox and ./scripts/build-worker.sh)
// Env: CALLS_WHAT=pay|callback (default pay; callback = a fresh Alipay callback through to its
// webhook), CALLS_METHOD (default alipay_qr), CALLS_N (default 100).
//
// It copies edge-worker/build/ to a temporary directory and changes the copy's wasm-bindgen glue (glue.mjs) so
// that each import counts its calls, and its fetch handler answers `/__calls` with the counts (and
// resets them); then runs the requests against the copy in Miniflare. The worker's own files are
// not changed. Printed: calls per request, by import (the glue's names without their hash).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diagnosisStack, ROOT } from './lib.mjs';

const WHAT = process.env.CALLS_WHAT ?? 'pay';
const METHOD = process.env.CALLS_METHOD ?? 'alipay_qr';
const N = Number(process.env.CALLS_N ?? 100);
if (!['pay', 'callback'].includes(WHAT)) throw new Error('CALLS_WHAT must be pay or callback');
if (WHAT === 'callback' && METHOD !== 'alipay_qr') throw new Error('CALLS_WHAT=callback counts Alipay callbacks: CALLS_METHOD=alipay_qr');

const dir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-js-calls-'));
process.env.TMPDIR = dir; // Miniflare's files too, removed with it
const build = path.join(dir, 'build');
let stack;
try {
  cpSync(path.join(ROOT, 'edge-worker/build'), build, { recursive: true });
  {
    const file = path.join(build, 'glue.mjs');
    let glue = readFileSync(file, 'utf8');
    const imports = /function (\w+)\(\)\{return\{__proto__:null,"\.\/index_bg\.js":/;
    const handler = /(\w+)\.prototype\.fetch=function\((\w+)\)\{return (\w+)\.call\(this,\2,this\.env,this\.ctx\)\}/;
    if (!imports.test(glue) || !handler.test(glue)) throw new Error('the glue of edge-worker/build/glue.mjs is not shaped as this script expects');
    glue = glue.replace(imports, (_, name) => `function ${name}(){return __countCalls({__proto__:null,"./index_bg.js":`);
    // The object literal that function returns now ends one parenthesis later (the function is
    // followed by the exception tag's declaration).
    const end = /\}\}\}(var \w+=new WebAssembly\.Tag)/;
    if (!end.test(glue)) throw new Error('the glue of edge-worker/build/glue.mjs is not shaped as this script expects');
    glue = glue.replace(end, (_, next) => `}})}${next}`);
    glue = glue.replace(handler, (_, cls, req, impl) =>
      `${cls}.prototype.fetch=function(${req}){if(new URL(${req}.url).pathname==="/__calls"){const r=new Response(JSON.stringify(globalThis.__calls));globalThis.__calls={};return r}return ${impl}.call(this,${req},this.env,this.ctx)}`);
    const counter = `globalThis.__calls={};function __countCalls(o){const m=o["./index_bg.js"];for(const k of Object.keys(m)){const f=m[k];if(typeof f!=="function")continue;const n=k.replace(/_[0-9a-f]{16}$/,"");m[k]=function(...a){globalThis.__calls[n]=(globalThis.__calls[n]||0)+1;return f.apply(this,a)}}return o}\n`;
    writeFileSync(file, counter + glue);
  }
  stack = await diagnosisStack({ name: 'js-calls', method: METHOD, scriptPath: path.join(build, 'index.js'), modulesRoot: build });
  const sessions = [];
  for (let i = 0; i < N; i++) sessions.push(await stack.create());
  const orders = WHAT === 'callback' ? await stack.paid(sessions) : [];
  await new Promise((r) => setTimeout(r, 1_500)); // the creations' ledger copies
  await stack.request('GET', `${stack.worker}/__calls`);
  for (let i = 0; i < N; i++) await (WHAT === 'pay' ? stack.pay(sessions[i]) : stack.callbackToWebhook(sessions[i], orders[i]));
  await new Promise((r) => setTimeout(r, 200)); // the last alarm records its delivery
  const calls = JSON.parse((await stack.request('GET', `${stack.worker}/__calls`)).text);
  const total = Object.values(calls).reduce((a, b) => a + b, 0);
  console.log(`# ${WHAT} ${METHOD}, n=${N}: ${(total / N).toFixed(1)} calls from the wasm to JavaScript per request`);
  console.log('| import | calls per request |\n|---|---:|');
  for (const [name, n] of Object.entries(calls).sort((a, b) => b[1] - a[1])) console.log(`| ${name} | ${(n / N).toFixed(2)} |`);
} finally {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}
