// Starts edgepay's local stack on 127.0.0.1: the provider sandbox, the worker under `wrangler dev`,
// and the demo shop. Used by the demo command (`node scripts/stack.mjs`) and by the tests
// (`import { startStack } from '../../scripts/stack.mjs'`). Every process started here is stopped
// by `stop()` (its whole process group), and the demo stops them on Ctrl-C.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { createWriteStream, mkdirSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STATE = process.env.EDGEPAY_STATE ?? path.join(ROOT, '.state');
const HOST = '127.0.0.1';
// Which cargo build of the sandbox and the demo shop runs: `debug` (scripts/build.sh, the tests)
// or `release` (scripts/bench.sh: a merchant's server is an optimized build).
const NATIVE_PROFILE = process.env.EDGEPAY_NATIVE_PROFILE === 'release' ? 'release' : 'debug';

/** Wrangler fully offline: no metrics, error reports, banner/update check or `Request.cf` fetch. */
export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  XDG_CONFIG_HOME: path.join(STATE, 'xdg-config'),
  WRANGLER_LOG_PATH: path.join(STATE, 'wrangler-logs'),
  CI: '1',
  BROWSER: 'none',
};

/**
 * A free TCP port on 127.0.0.1: `preferred` if it is free, else one the kernel picks (0 → the
 * kernel picks). Never one of `avoid` (ports already handed out but not yet listened on: the
 * kernel may offer a port again once its probe is closed).
 */
export function freePort(preferred = 0, avoid = []) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err) => (preferred ? resolve(freePort(0, avoid)) : reject(err)));
    server.listen(avoid.includes(preferred) ? 0 : preferred, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(avoid.includes(port) ? freePort(0, avoid) : port));
    });
  });
}

/** Whether process `pid` exists and (where /proc tells) is a demo's node running this file. */
function isDemo(pid) {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (err.code !== 'EPERM') return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('stack.mjs');
  } catch {
    return !existsSync('/proc/self'); // no /proc: trust the pid
  }
}

/** Spawns `cmd` in its own process group with output to a log file. */
function start(name, cmd, args, { cwd = ROOT, env = {}, logDir }) {
  const log = path.join(logDir, `${name}.log`);
  const out = createWriteStream(log);
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const proc = { name, child, log, exited, exitedEarly: false };
  exited.then(() => (proc.exitedEarly = true));
  return proc;
}

/** Resolves with the URL from the process's `listening on …` line. */
function listeningUrl(proc, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`${proc.name} did not start in time; see ${proc.log}`)), timeoutMs);
    proc.child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const match = buffer.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    proc.exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${proc.name} exited (code ${code}) before it listened; see ${proc.log}`));
    });
  });
}

/** Polls `url` until it answers 200. */
async function waitForHttp(proc, url, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitedEarly) throw new Error(`${proc.name} exited before it was ready; see ${proc.log}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${proc.name} did not answer ${url} in time; see ${proc.log}`);
}

async function stopProcess(proc) {
  if (proc.exitedEarly) return;
  const signal = (sig) => {
    try {
      process.kill(-proc.child.pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), 5_000));
  if ((await Promise.race([proc.exited, timeout])) === 'timeout') {
    signal('SIGKILL');
    await proc.exited;
  }
}

/**
 * The demo merchant's own worker secrets (API key, session secret, webhook secret), made once per stack name and
 * kept in the ignored state folder so that restarts keep sessions valid.
 */
function merchantSecrets(name) {
  const file = path.join(STATE, 'secrets', `${name}.json`);
  const existing = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const secrets = {
    MERCHANT_API_KEY: `sk_test_${crypto.randomBytes(24).toString('hex')}`,
    SESSION_SECRET: crypto.randomBytes(32).toString('base64'),
    DATA_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
    MERCHANT_WEBHOOK_SECRET: `whsec_${crypto.randomBytes(32).toString('base64')}`,
    ...existing,
  };
  if (Object.keys(secrets).length !== Object.keys(existing).length) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

/**
 * Starts the provider sandbox alone (state and logs under .state/, named `name`). Resolves with
 * `{url, keys, stop}`: `keys` is its keys.json (test-only keys and ids). `env`: extra environment
 * variables (e.g. `SANDBOX_WECHATPAY_MODE`).
 */
export async function startSandbox({ name = 'sandbox', port = 0, callbackScale = 0.01, env = {} } = {}) {
  const logDir = path.join(STATE, 'logs', name);
  mkdirSync(logDir, { recursive: true });
  const stateDir = path.join(STATE, 'sandbox', name);
  const proc = start(
    'sandbox',
    path.join(ROOT, 'target', NATIVE_PROFILE, 'sandbox'),
    ['--port', String(port), '--state-dir', stateDir, '--callback-scale', String(callbackScale)],
    { logDir, env },
  );
  try {
    const url = await listeningUrl(proc);
    const keys = JSON.parse(readFileSync(path.join(stateDir, 'keys.json'), 'utf8'));
    return { url, keys, logDir, stop: () => stopProcess(proc) };
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
}

/**
 * Starts the stack. Options: `ports` ({sandbox, worker, shop}; 0 or absent = any free port),
 * `name` (log folder under .state/logs), `webhookUrl` (where the worker sends the merchant's
 * webhooks instead of the demo shop). Resolves with `{sandboxUrl, workerUrl, shopUrl, logDir,
 * merchantApiKey, webhookSecret, stop}`.
 * Needs the widget and worker builds and the native binaries (scripts/build-*.sh, cargo build).
 */
export async function startStack({ ports = {}, name = 'stack', webhookUrl } = {}) {
  const logDir = path.join(STATE, 'logs', name);
  mkdirSync(logDir, { recursive: true });
  const bin = (b) => path.join(ROOT, 'target', NATIVE_PROFILE, b);
  for (const need of [bin('sandbox'), bin('demo-site'), path.join(ROOT, 'edge-worker/build/index.js'), path.join(ROOT, 'checkout-wasm/pkg/edgepay.js')]) {
    if (!existsSync(need)) throw new Error(`missing build output ${need}: run scripts/build.sh first`);
  }
  const procs = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => (p.stop ? p.stop() : stopProcess(p))));
  };
  try {
    // Callbacks retry on the providers' real schedules, a hundred times faster.
    const sandbox = await startSandbox({ name, port: ports.sandbox ?? 0 });
    procs.push(sandbox);
    const sandboxUrl = sandbox.url;
    const providerConfig = await (await fetch(`${sandboxUrl}/sandbox/worker-config`)).json();

    // The shop's origin must be known before the worker starts (CORS allow-list), so fix its port now.
    const sandboxPort = Number(new URL(sandboxUrl).port);
    const shopPort = await freePort(ports.shop ?? 0, [sandboxPort]);
    const shopOrigins = [`http://${HOST}:${shopPort}`, `http://localhost:${shopPort}`];
    const workerPort = await freePort(ports.worker ?? 0, [sandboxPort, shopPort]);
    const inspectorPort = await freePort(0, [sandboxPort, shopPort, workerPort]);
    const workerUrl = `http://${HOST}:${workerPort}`;
    // The worker's settings, as .dev.vars would hold them: the sandbox's provider settings and the
    // shop's origin. Written to the ignored state folder, never to edge-worker/.dev.vars.
    const envFile = path.join(STATE, 'wrangler', `${name}.env`);
    mkdirSync(path.dirname(envFile), { recursive: true });
    const secrets = merchantSecrets(name);
    const settings = {
      ...providerConfig, ...secrets, PUBLIC_BASE_URL: workerUrl, ALLOWED_ORIGINS: shopOrigins.join(','),
      MERCHANT_WEBHOOK_URL: webhookUrl ?? `${shopOrigins[0]}/webhooks/edgepay`,
    };
    writeFileSync(envFile, Object.entries(settings).map(([k, v]) => `${k}=${JSON.stringify(String(v))}`).join('\n') + '\n', { mode: 0o600 });
    const wrangler = start(
      'wrangler',
      path.join(ROOT, 'node_modules', '.bin', 'wrangler'),
      [
        'dev', '--local', '--ip', HOST, '--port', String(workerPort), '--inspector-port', String(inspectorPort),
        '--persist-to', path.join(STATE, 'wrangler', name), '--show-interactive-dev-session=false',
        '--env-file', envFile,
      ],
      { cwd: path.join(ROOT, 'edge-worker'), logDir, env: WRANGLER_OFFLINE_ENV },
    );
    procs.push(wrangler);

    const shop = start(
      'demo-site',
      bin('demo-site'),
      ['--port', String(shopPort), '--worker-url', workerUrl, '--widget-dir', path.join(ROOT, 'checkout-wasm', 'pkg')],
      // The shop is the merchant's backend: it creates sessions with the merchant's API key and
      // verifies the worker's webhooks with the webhook secret.
      { logDir, env: { EDGEPAY_MERCHANT_API_KEY: secrets.MERCHANT_API_KEY, EDGEPAY_WEBHOOK_SECRET: secrets.MERCHANT_WEBHOOK_SECRET } },
    );
    procs.push(shop);
    const shopUrl = await listeningUrl(shop);
    await waitForHttp(wrangler, `${workerUrl}/v1/health`);
    return { sandboxUrl, workerUrl, shopUrl, logDir, merchantApiKey: secrets.MERCHANT_API_KEY, webhookSecret: secrets.MERCHANT_WEBHOOK_SECRET, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The demo's preview environments (demo-site `preview.rs`) and what each shows. */
const DEMO_ENVIRONMENTS = [
  ['desktop', 'desktop browser: WeChat Pay QR, Alipay page and QR, UnionPay online banking'],
  ['phone', 'phone browser: WeChat Pay H5, Alipay wap, UnionPay mobile'],
  ['wechat', 'inside WeChat: WeChat Pay in place; Alipay explains "open in browser"'],
  ['alipay', 'inside Alipay: Alipay in place; WeChat Pay explains why not'],
  ['miniprogram', 'a WeChat mini-program web-view: hands off to the mini-program to pay'],
];

// The demo command: start everything on the usual ports (or free ones), print the URLs, stop on Ctrl-C.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // One demo per clone: a second one would share the first one's worker state folder.
  const lock = path.join(STATE, 'demo.lock');
  const running = existsSync(lock) ? JSON.parse(readFileSync(lock, 'utf8')) : null;
  if (running && running.pid !== process.pid && isDemo(running.pid)) {
    console.error(`demo: another demo is already running (pid ${running.pid}), its shop at ${running.shopUrl}; stop it first (Ctrl-C there, or kill ${running.pid})`);
    process.exit(1);
  }
  mkdirSync(STATE, { recursive: true });
  writeFileSync(lock, JSON.stringify({ pid: process.pid }));
  const wanted = { sandbox: 8790, worker: 8787, shop: 8788 };
  const sandboxPort = await freePort(wanted.sandbox);
  const stack = await startStack({ name: 'demo', ports: { ...wanted, sandbox: sandboxPort } }).catch((err) => {
    console.error(`demo: ${err.message}`);
    rmSync(lock, { force: true });
    process.exit(1);
  });
  writeFileSync(lock, JSON.stringify({ pid: process.pid, shopUrl: stack.shopUrl }));
  for (const [what, url, port] of [['shop', stack.shopUrl, wanted.shop], ['worker', stack.workerUrl, wanted.worker], ['sandbox', stack.sandboxUrl, wanted.sandbox]]) {
    if (!url.endsWith(`:${port}`)) console.log(`note: port ${port} was taken, the ${what} uses ${url} instead`);
  }
  console.log(`
  edgepay demo is running (logs in ${path.relative(process.cwd(), stack.logDir) || stack.logDir})

    shop     ${stack.shopUrl}      <- open this
    worker   ${stack.workerUrl}    (wrangler dev, local)
    sandbox  ${stack.sandboxUrl}   (offline WeChat Pay / Alipay / UnionPay)

  Try each environment (the shop's ?ua= preview asks the worker with that environment's real
  User-Agent; or use your browser's device emulation with such a User-Agent on the shop URL):
${DEMO_ENVIRONMENTS.map(([ua, what]) => `    ${ua.padEnd(12)} ${stack.shopUrl}/?ua=${ua}`.padEnd(54) + `  ${what}`).join('\n')}
    all of them  ${stack.shopUrl}/environments   side by side
  Orders and their audit trail: ${stack.shopUrl}/orders

  Ctrl-C stops everything.
`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    await stack.stop();
    rmSync(lock, { force: true });
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
