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
import http from 'node:http';
import { startSandbox } from '../scripts/stack.mjs';
import { alipayForm as signedAlipayForm, wechatAuthorization } from '../tests/js/sandbox-client.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

const sandbox = await startSandbox({ name: 'bench-sandbox' });
const base = sandbox.url;
const keys = sandbox.keys;
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

// One order per provider to query.
const w = keys.wechatpay;
const wechatAuth = (method, target, body = '') => wechatAuthorization(keys, method, target, body);
const no = `BENCH${Date.now()}`;
const order = JSON.stringify({ appid: w.appid, mchid: w.mchid, description: 'bench', out_trade_no: no, notify_url: 'http://127.0.0.1:9/notify', amount: { total: 100, currency: 'CNY' } });
const created = await request('POST', `${base}/v3/pay/transactions/native`, { 'content-type': 'application/json', accept: 'application/json', authorization: wechatAuth('POST', '/v3/pay/transactions/native', order) }, order);
if (created !== 200) throw new Error(`native order: ${created}`);

const alipayForm = (method, biz) => signedAlipayForm(keys, method, biz);
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
  agent.destroy();
  await sandbox.stop();
}
console.log(`| path (${CONCURRENCY} connections, ${SECONDS} s, ${process.env.EDGEPAY_NATIVE_PROFILE === 'release' ? 'release build' : 'debug build with optimized crypto'}) | requests/s | non-200 |\n|---|---:|---:|`);
for (const r of results) console.log(`| ${r.name} | ${r.perSecond} | ${r.non200} |`);
