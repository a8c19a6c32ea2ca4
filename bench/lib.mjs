// What the worker's benchmark and its diagnoses share: the worker's Miniflare options, and for the
// diagnoses (profile.mjs, js-calls.mjs) a whole stack — the sandbox, a webhook receiver and the
// worker — with the requests they make.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { freePort, startSandbox } from '../scripts/stack.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const COMPATIBILITY_DATE = readFileSync(path.join(ROOT, 'edge-worker/wrangler.toml'), 'utf8').match(/^compatibility_date\s*=\s*"([^"]+)"/m)[1];
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** The pids of the workerd processes below this Node process. */
export function workerdPids() {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm=']).toString().trim().split('\n');
  const procs = rows.map((r) => r.trim().split(/\s+/)).map(([pid, ppid, comm]) => ({ pid: +pid, ppid: +ppid, comm }));
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) (mine.add(p.pid), (grew = true));
  }
  return procs.filter((p) => mine.has(p.pid) && p.comm.startsWith('workerd')).map((p) => p.pid);
}

/**
 * The CPU (utime + stime, in ms; counted in the kernel's ticks) of the live threads of `pids`, by
 * thread name (V8's compiler threads are named `V8 DefaultWorke`).
 */
export function threadCpuMs(pids) {
  const byName = {};
  for (const pid of pids) {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let stat;
      try {
        stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byName[name] = (byName[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * TICK_MS; // fields 14, 15 of proc(5)
    }
  }
  return byName;
}

/** [`threadCpuMs`] summed over the threads other than V8's compiler threads. */
export function requestThreadsMs(pids) {
  return Object.entries(threadCpuMs(pids))
    .filter(([name]) => !name.startsWith('V8 '))
    .reduce((sum, [, ms]) => sum + ms, 0);
}

/** The provider behind each method a diagnosis can pay at the sandbox. */
export const PROVIDER = { alipay_qr: 'alipay', wechat_native: 'wechatpay', unionpay_pc: 'unionpay' };

export const DESKTOP_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

/**
 * Miniflare's options for the worker's build (`scriptPath`, default edge-worker/build/) on `port`,
 * bound to the sandbox's `config` and a merchant webhook at `webhookUrl`. `ledger`: the D1 binding,
 * as deployed (its D1 is Miniflare's local SQLite service inside workerd; on Cloudflare, another
 * service). `memory`: the Durable Objects' storage in memory instead of Miniflare's SQLite files.
 */
export function workerOptions({ port, config, apiKey, webhookUrl, webhookSecret, scriptPath, modulesRoot, ledger = true, memory = false }) {
  return {
    host: '127.0.0.1',
    port,
    modules: true,
    scriptPath: scriptPath ?? path.join(ROOT, 'edge-worker/build/index.js'),
    ...(modulesRoot ? { modulesRoot } : {}),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: COMPATIBILITY_DATE,
    cf: false,
    durableObjects: { SESSIONS: 'SessionObject' },
    ...(ledger ? { d1Databases: { LEDGER: 'edgepay-ledger' } } : {}),
    unsafeEphemeralDurableObjects: memory,
    bindings: {
      ...config,
      MERCHANT_API_KEY: apiKey,
      SESSION_SECRET: crypto.randomBytes(32).toString('base64'),
      DATA_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      MERCHANT_WEBHOOK_URL: webhookUrl,
      MERCHANT_WEBHOOK_SECRET: webhookSecret ?? `whsec_${crypto.randomBytes(32).toString('base64')}`,
    },
  };
}

/**
 * The sandbox, a webhook receiver and the worker (`scriptPath`, default edge-worker/build/) in a
 * Miniflare, for sessions accepting `method` only, with the provider's callbacks dropped (a
 * diagnosis sends each itself). `stop()` stops all three.
 */
export async function diagnosisStack({ name, method, scriptPath, modulesRoot, ledger = true, miniflare = {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const request = (verb, url, body, headers = {}) =>
    new Promise((resolve, reject) => {
      const r = http.request(url, { method: verb, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode, text }));
      });
      r.on('error', reject);
      r.end(body === undefined ? '' : JSON.stringify(body));
    });
  const sandbox = await startSandbox({ name, callbackScale: 0.001 });
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
  const apiKey = `sk_test_${name}_${crypto.randomBytes(12).toString('hex')}`;
  let mf;
  const stop = async () => {
    await mf?.dispose();
    await sandbox.stop();
    hooks.close();
    agent.destroy();
  };
  try {
    const port = await freePort();
    const worker = `http://127.0.0.1:${port}`;
    const config = JSON.parse((await request('GET', `${sandbox.url}/sandbox/worker-config`)).text);
    mf = new Miniflare({ ...workerOptions({ port, config, apiKey, webhookUrl: `http://127.0.0.1:${hooks.address().port}/webhooks/edgepay`, scriptPath, modulesRoot, ledger }), ...miniflare });
    await mf.ready;
    const sandboxPost = async (p) => {
      const r = await request('POST', `${sandbox.url}${p}`, { times: 1 });
      if (r.status !== 200) throw new Error(`${p}: ${r.status} ${r.text}`);
    };
    await request('PUT', `${sandbox.url}/sandbox/control/faults`, { callbacks: 'drop' });
    const stack = {
      worker,
      request,
      stop,
      /** A new session accepting `method`. */
      async create() {
        const r = await request('POST', `${worker}/v1/sessions`, { order_id: crypto.randomUUID(), amount: 6800, currency: 'CNY', description: name, methods: [method] }, { authorization: `Bearer ${apiKey}` });
        if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
        return JSON.parse(r.text);
      },
      /** The widget's pay with `method`, from a desktop browser: its next action. */
      async pay(session) {
        const r = await request('POST', `${worker}/v1/sessions/${session.id}/pay`, { method }, { authorization: `Bearer ${session.client_secret}`, 'user-agent': DESKTOP_UA });
        if (r.status !== 200) throw new Error(`pay: ${r.status} ${r.text}`);
        return JSON.parse(r.text);
      },
      /** The widget's status poll of `session`. */
      async poll(session) {
        const r = await request('GET', `${worker}/v1/sessions/${session.id}`, undefined, { authorization: `Bearer ${session.client_secret}`, 'user-agent': DESKTOP_UA });
        if (r.status !== 200) throw new Error(`poll: ${r.status} ${r.text}`);
      },
      /**
       * Pays each session with the stack's method (alipay_qr, wechat_native or unionpay_pc), then
       * pays each order at the sandbox: their order numbers at the provider.
       */
      async paid(sessions) {
        const provider = PROVIDER[method];
        if (!provider) throw new Error(`paid(): no sandbox payment for ${method}`);
        const located = [];
        for (const s of sessions) {
          const action = await stack.pay(s);
          if (method === 'unionpay_pc') {
            // UnionPay's order exists once the shopper's browser posts the form to the gateway.
            const gateway = await new Promise((resolve, reject) => {
              const r = http.request(action.action, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => (res.resume(), res.on('end', () => resolve(res.statusCode))));
              r.on('error', reject);
              r.end(new URLSearchParams(action.fields).toString());
            });
            if (gateway !== 302) throw new Error(`unionpay gateway: ${gateway}`);
            located.push(action.fields.find(([k]) => k === 'orderId')[1]);
          } else located.push(action.data);
        }
        const orders = JSON.parse((await request('GET', `${sandbox.url}/sandbox/control/orders`)).text);
        const byQr = new Map(orders.filter((o) => o.detail?.qr_data).map((o) => [o.detail.qr_data, o.out_trade_no]));
        const numbers = located.map((l) => byQr.get(l) ?? l);
        for (const no of numbers) await sandboxPost(`/sandbox/control/orders/${provider}/${no}/pay`);
        return numbers;
      },
      /** Has the sandbox send the provider's callback for `outTradeNo`; resolves when `session`'s webhook arrives. */
      async callbackToWebhook(session, outTradeNo) {
        const arrived = new Promise((r) => waiters.set(session.id, r));
        await sandboxPost(`/sandbox/control/orders/${PROVIDER[method]}/${outTradeNo}/notify`);
        await arrived;
      },
      /** Has the sandbox send the provider's callback for `outTradeNo` again (the webhook went out before). */
      async repeatCallback(outTradeNo) {
        await sandboxPost(`/sandbox/control/orders/${PROVIDER[method]}/${outTradeNo}/notify`);
      },
    };
    return stack;
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Readies `stack` for a diagnosis of `n` requests of `what` (`pay`, or `callback`: a fresh
 * callback through to its webhook): 20 pays warm the isolate up, `n + 20` sessions are created
 * (for callbacks, paid at the sandbox with their callbacks dropped), the first 20 requests are
 * made, and the creations' and pays' alarms (ledger copies within a second) are waited out.
 * Returns `one(i)`, the request of session `i` (20 ≤ i < n + 20). (Callbacks that come more
 * than 10 s after their pay meet the worker's own provider query, which the pay's alarm makes
 * then: a long run of callbacks holds some of those queries too.)
 */
export async function warmedUp(stack, what, n) {
  for (let i = 0; i < 20; i++) await stack.pay(await stack.create());
  const sessions = [];
  for (let i = 0; i < n + 20; i++) sessions.push(await stack.create());
  const orders = what === 'callback' ? await stack.paid(sessions) : [];
  const one = (i) => (what === 'pay' ? stack.pay(sessions[i]) : stack.callbackToWebhook(sessions[i], orders[i]));
  for (let i = 0; i < 20; i++) await one(i);
  await new Promise((r) => setTimeout(r, 2_500));
  return one;
}
