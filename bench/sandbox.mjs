// Sandbox throughput: requests per second the provider sandbox answers on loopback, so a load test
// of the worker knows the sandbox is not its bottleneck.
//   node bench/sandbox.mjs            (after cargo build -p sandbox; scripts/bench.sh does both)
// Three paths, each for BENCH_SECONDS (default 5) with BENCH_CONCURRENCY (default 32) keep-alive
// connections from one Node process on the same machine:
//   health          GET /health (the HTTP stack alone)
//   wechatpay query GET /v3/pay/transactions/out-trade-no/{no}: verify the merchant's RSA
//                   signature, answer signed (one RSA verify + one RSA sign per request)
//   alipay query    POST /gateway.do alipay.trade.query: verify RSA2, answer signed
// Requests are signed in advance with node:crypto (the client's cost is not measured).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-bench-sandbox-'));
const sandbox = spawn(path.join(ROOT, 'target/debug/sandbox'), ['--port', '0', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  let out = '';
  sandbox.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/listening on (http:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  sandbox.once('exit', () => reject(new Error('sandbox exited')));
});
sandbox.stdout.resume();
const keys = JSON.parse(readFileSync(path.join(stateDir, 'keys.json'), 'utf8'));
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(method, url, headers = {}, body = '') {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const beijing = (unix) => new Date((unix + 8 * 3600) * 1000).toISOString().replace('T', ' ').slice(0, 19);

// One order per provider to query.
const w = keys.wechatpay;
function wechatAuth(method, target, body) {
  const ts = Math.floor(Date.now() / 1000);
  const nonce = crypto.randomBytes(16).toString('hex');
  const signature = crypto.sign('sha256', Buffer.from(`${method}\n${target}\n${ts}\n${nonce}\n${body}\n`), w.merchant_private_key).toString('base64');
  return `WECHATPAY2-SHA256-RSA2048 mchid="${w.mchid}",nonce_str="${nonce}",timestamp="${ts}",serial_no="${w.merchant_serial}",signature="${signature}"`;
}
const no = `BENCH${Date.now()}`;
const order = JSON.stringify({ appid: w.appid, mchid: w.mchid, description: 'bench', out_trade_no: no, notify_url: 'http://127.0.0.1:9/notify', amount: { total: 100, currency: 'CNY' } });
const created = await request('POST', `${base}/v3/pay/transactions/native`, { 'content-type': 'application/json', accept: 'application/json', authorization: wechatAuth('POST', '/v3/pay/transactions/native', order) }, order);
if (created !== 200) throw new Error(`native order: ${created}`);

const a = keys.alipay;
function alipayForm(method, biz) {
  const params = { app_id: a.app_id, method, format: 'JSON', charset: 'utf-8', sign_type: 'RSA2', timestamp: beijing(Math.floor(Date.now() / 1000)), version: '1.0', biz_content: JSON.stringify(biz) };
  const content = Object.keys(params).sort().map((k) => `${k}=${params[k]}`).join('&');
  params.sign = crypto.sign('sha256', Buffer.from(content), a.app_private_key).toString('base64');
  return new URLSearchParams(params).toString();
}
const alipayNo = `BENCHA${Date.now()}`;
const pre = await request('POST', `${base}/gateway.do`, { 'content-type': 'application/x-www-form-urlencoded' }, alipayForm('alipay.trade.precreate', { out_trade_no: alipayNo, total_amount: '1.00', subject: 'bench' }));
if (pre !== 200) throw new Error(`precreate: ${pre}`);

async function run(name, makeRequest) {
  const prepared = [];
  const need = 4000 * SECONDS;
  for (let i = 0; i < need; i++) prepared.push(makeRequest());
  let next = 0;
  let done = 0;
  let bad = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < deadline && next < prepared.length) {
        const [method, url, headers, body] = prepared[next++];
        const status = await request(method, url, headers, body);
        if (status !== 200) bad++;
        done++;
      }
    }),
  );
  const rate = done / ((Date.now() - started) / 1000);
  return { name, requests: done, non200: bad, perSecond: Math.round(rate) };
}

const target = `/v3/pay/transactions/out-trade-no/${no}?mchid=${w.mchid}`;
const results = [];
try {
  results.push(await run('health', () => ['GET', `${base}/health`, {}, '']));
  results.push(await run('wechatpay query (verify + sign)', () => ['GET', `${base}${target}`, { accept: 'application/json', authorization: wechatAuth('GET', target, '') }, '']));
  results.push(await run('alipay query (verify + sign)', () => ['POST', `${base}/gateway.do`, { 'content-type': 'application/x-www-form-urlencoded' }, alipayForm('alipay.trade.query', { out_trade_no: alipayNo })]));
} finally {
  sandbox.kill('SIGTERM');
  agent.destroy();
  rmSync(stateDir, { recursive: true, force: true });
}
console.log(`| path (${CONCURRENCY} connections, ${SECONDS} s, debug build with optimized crypto) | requests/s | non-200 |\n|---|---:|---:|`);
for (const r of results) console.log(`| ${r.name} | ${r.perSecond} | ${r.non200} |`);
