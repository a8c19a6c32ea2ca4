// Every command and snippet of README.md, exercised: the scripts it names exist and run (their
// --help, or a syntax check for the ones that only build or test), the sandbox command starts, the
// wrangler commands of the deploy section are valid for the pinned wrangler (their --help, and
// `wrangler deploy --dry-run` with the README's flags), every secret of the settings table is put
// with `wrangler secret put`, the D1/cron/Durable Object story matches wrangler.toml, the merchant
// snippets equal examples/ (which tests/js/examples.test.mjs runs), and the embed snippet works in
// Chromium against the stack — where no secret of the stack reaches the browser.
// The two commands themselves run in demo.test.mjs (./scripts/demo.sh) and as CI (./scripts/test.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, WRANGLER_OFFLINE_ENV } from '../../scripts/stack.mjs';
import { launchChromium, USER_AGENTS } from './browser.mjs';
import { card, waitForState } from './widget.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const WRANGLER_TOML = readFileSync(path.join(ROOT, 'edge-worker/wrangler.toml'), 'utf8');
const WRANGLER = path.join(ROOT, 'node_modules/.bin/wrangler');

/** The text of the README section under `## title`, up to the next `## `. */
function section(title) {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has a "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The fenced code blocks of `text` with language `lang`. */
function blocks(text, lang) {
  return [...text.matchAll(new RegExp('```' + lang + '\\n([^]*?)```', 'g'))].map((m) => m[1]);
}

/** The README's settings table: `[{names, kind}]`. */
function settingsTable() {
  const rows = section('Deploying the worker')
    .split('\n')
    .filter((l) => /^\| `[A-Z]/.test(l))
    .map((l) => l.split('|').map((c) => c.trim()));
  assert.ok(rows.length >= 15, 'the settings table was found');
  return rows.map(([, names, kind]) => ({ names: [...names.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]), kind }));
}

function wrangler(args) {
  return spawnSync(WRANGLER, args, { cwd: path.join(ROOT, 'edge-worker'), encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...WRANGLER_OFFLINE_ENV } });
}

test('the merchant snippets in README are the files of examples/, verbatim', () => {
  const marked = [...README.matchAll(/<!-- file: (\S+) -->\n```\w+\n([^]*?)```/g)];
  assert.deepEqual(marked.map((m) => m[1]).sort(), ['examples/node/merchant.mjs', 'examples/python/merchant.py', 'examples/rust/src/main.rs']);
  for (const [, file, body] of marked) assert.equal(body, readFileSync(path.join(ROOT, file), 'utf8'), `README's copy of ${file} differs from the file`);
});

test('every script README names exists and runs: --help where it has one, else a syntax check', () => {
  const scripts = [...new Set([...README.matchAll(/(?:\.\/)?scripts\/([\w-]+\.(?:sh|mjs))/g)].map((m) => m[1]))];
  for (const expected of ['demo.sh', 'test.sh', 'bootstrap.sh', 'build-worker.sh', 'build-widget.sh', 'fuzz.sh', 'bench.sh']) {
    assert.ok(scripts.includes(expected), `README names scripts/${expected}`);
  }
  for (const name of scripts) {
    const file = path.join(ROOT, 'scripts', name);
    assert.ok(existsSync(file), `scripts/${name} exists`);
    accessSync(file, constants.X_OK);
    if (!name.endsWith('.sh')) continue;
    const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, `bash -n scripts/${name}: ${syntax.stderr}`);
    if (/--help\)/.test(readFileSync(file, 'utf8'))) {
      const help = spawnSync(file, ['--help'], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(help.status, 0, `scripts/${name} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`scripts/${name.replace('.', '\\.')}`), `scripts/${name} --help says how to call it`);
    }
  }
  // The two scripts a newcomer runs first say what they do.
  assert.match(spawnSync(path.join(ROOT, 'scripts/demo.sh'), ['--help'], { encoding: 'utf8' }).stdout, /Ctrl-C stops everything/);
  assert.match(spawnSync(path.join(ROOT, 'scripts/bootstrap.sh'), ['--help'], { encoding: 'utf8' }).stdout, /--examples/);
});

test('the sandbox command starts the sandbox, as README says', async () => {
  const documented = section('The provider sandbox').match(/`cargo run -p sandbox -- (--port \d+)`/);
  assert.ok(documented, 'README documents `cargo run -p sandbox -- --port N`');
  // The same binary `cargo run -p sandbox` runs, on a free port and a throwaway state folder.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'edgepay-readme-sandbox-'));
  const sandbox = spawn(path.join(ROOT, 'target/debug/sandbox'), ['--port', '0', '--state-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let out = '';
      sandbox.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) resolve(m[1]);
      });
      sandbox.once('exit', (code) => reject(new Error(`sandbox exited ${code}: ${out}`)));
    });
    const config = await (await fetch(`${url}/sandbox/worker-config`)).json();
    assert.ok(config.WECHATPAY_MCHID && config.ALIPAY_APP_ID && config.UNIONPAY_MER_ID, 'GET /sandbox/worker-config returns the worker settings');
    assert.ok(existsSync(path.join(dir, 'keys.json')), 'it generated its test-only keys into --state-dir');
  } finally {
    sandbox.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deploying: every wrangler command is valid for the pinned wrangler, every secret is put, D1, Durable Objects and cron match wrangler.toml', () => {
  const deploy = section('Deploying the worker');
  const [commands] = blocks(deploy, 'sh');
  const lines = commands.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l.startsWith('npx wrangler '));
  assert.ok(lines.length >= 5, 'the deploy block has its wrangler commands');
  const helps = new Map();
  for (const line of lines) {
    const words = line.split(/\s+/).slice(2);
    const sub = words.filter((w, i) => !w.startsWith('-') && !/^[A-Z_]+$/.test(w) && !words[i - 1]?.startsWith('--') && w !== 'edgepay-ledger');
    const key = sub.join(' ');
    if (!helps.has(key)) {
      const help = wrangler([...sub, '--help']);
      assert.equal(help.status, 0, `wrangler ${key} --help: ${help.stderr}`);
      helps.set(key, help.stdout + help.stderr);
    }
    for (const flag of words.filter((w) => w.startsWith('--'))) assert.ok(helps.get(key).includes(flag), `wrangler ${key} takes ${flag}`);
  }

  // The README's deploy command, dry: wrangler reads wrangler.toml and the build, and lists the bindings.
  const deployLine = lines.find((l) => l.startsWith('npx wrangler deploy'));
  const out = mkdtempSync(path.join(os.tmpdir(), 'edgepay-readme-deploy-'));
  try {
    assert.ok(existsSync(path.join(ROOT, 'edge-worker/build/index.js')), 'the worker is built (scripts/build-worker.sh)');
    const dry = wrangler([...deployLine.split(/\s+/).slice(2), '--dry-run', '--outdir', out]);
    assert.equal(dry.status, 0, `wrangler deploy --dry-run: ${dry.stdout}${dry.stderr}`);
    assert.match(dry.stdout, /env\.SESSIONS \(SessionObject\)\s+Durable Object/);
    if (/\[\[d1_databases\]\]/.test(WRANGLER_TOML)) assert.match(dry.stdout, /env\.LEDGER \(edgepay-ledger\)\s+D1 Database/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }

  // Every secret of the settings table is put, and named in the security section; nothing else is put.
  const secrets = settingsTable().filter((r) => r.kind === 'secret').flatMap((r) => r.names);
  const put = [...commands.matchAll(/wrangler secret put ([A-Z_0-9]+)/g)].map((m) => m[1]);
  assert.deepEqual([...put].sort(), [...secrets].sort(), 'wrangler secret put for exactly the secrets of the settings table');
  const security = section('Security');
  for (const name of secrets) assert.ok(security.includes(`\`${name}\``), `the security section names ${name}`);
  // Every setting of the table is one the worker reads, and every one it reads is in the table
  // (and so is every one of edge-worker/.dev.vars.example).
  const source = spawnSync('grep', ['-rhoE', '"[A-Z][A-Z0-9_]+"', path.join(ROOT, 'edge-worker/src')], { encoding: 'utf8' }).stdout;
  const documented = settingsTable().flatMap((r) => r.names);
  for (const name of documented) assert.ok(source.includes(`"${name}"`), `${name} (settings table) is read by the worker`);
  const read = spawnSync('grep', ['-rhoE', 'setting\\([^,()]+, "[A-Z][A-Z0-9_]+"\\)|secret\\("[A-Z][A-Z0-9_]+"\\)', path.join(ROOT, 'edge-worker/src')], { encoding: 'utf8' }).stdout;
  const names = new Set([...read.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]));
  const example = path.join(ROOT, 'edge-worker/.dev.vars.example');
  if (existsSync(example)) for (const [, name] of readFileSync(example, 'utf8').matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)) names.add(name);
  assert.ok(names.size >= 20, `found the settings the worker reads (${names.size})`);
  for (const name of names) assert.ok(documented.includes(name), `${name} is read by the worker but not in README's settings table`);

  // D1: the database, its binding and migrations folder as wrangler.toml has them.
  if (/\[\[d1_databases\]\]/.test(WRANGLER_TOML)) {
    const name = WRANGLER_TOML.match(/database_name\s*=\s*"([^"]+)"/)[1];
    const binding = WRANGLER_TOML.match(/\[\[d1_databases\]\]\s*\nbinding\s*=\s*"([^"]+)"/)[1];
    const dir = WRANGLER_TOML.match(/migrations_dir\s*=\s*"([^"]+)"/)?.[1] ?? 'migrations';
    assert.ok(lines.includes(`npx wrangler d1 create ${name}`), `README creates ${name}`);
    assert.ok(lines.includes(`npx wrangler d1 migrations apply ${name} --remote`), `README applies ${name}'s migrations`);
    assert.ok(deploy.includes(`binding name \`${binding}\``), `README names the binding ${binding}`);
    assert.ok(deploy.includes(`\`edge-worker/${dir}/\``), `README names the migrations folder edge-worker/${dir}/`);
  }
  // Durable Object migrations: every tag of wrangler.toml is described.
  for (const [, tag] of WRANGLER_TOML.matchAll(/\[\[migrations\]\]\s*\ntag\s*=\s*"([^"]+)"/g)) assert.ok(deploy.includes(`tag = "${tag}"`), `README describes the Durable Object migration ${tag}`);
  // Cron: README lists wrangler.toml's cron expressions, or says there is none when there is none.
  const crons = [...(WRANGLER_TOML.match(/crons\s*=\s*\[([^\]]*)\]/)?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  const scheduled = spawnSync('grep', ['-rl', 'event(scheduled)', path.join(ROOT, 'edge-worker/src')], { encoding: 'utf8' }).stdout.trim();
  if (crons.length === 0 && !scheduled) assert.match(deploy, /\*\*Cron trigger\.\*\* There is none to configure/);
  else {
    assert.doesNotMatch(deploy, /There is none to configure/, 'wrangler.toml has a cron trigger (or the worker a scheduled handler) now: describe it');
    for (const cron of crons) assert.ok(deploy.includes(cron), `README describes the cron ${cron}`);
  }
});

let stack;
let browser;

before(async () => {
  stack = await startStack({ name: 'readme' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function newSession(retry = true) {
  let created;
  try {
    created = await fetch(`${stack.workerUrl}/v1/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.merchantApiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ order_id: `readme-${Date.now()}`, amount: 6800, currency: 'CNY', description: '凤凰单丛 · Phoenix oolong, 250 g' }),
    });
  } catch (err) {
    // A kept-alive connection the worker closed while the tests above ran: a POST is not retried
    // by fetch itself. Once more on a new connection (a second session is harmless).
    if (retry && err.message === 'fetch failed') return newSession(false);
    throw err;
  }
  assert.equal(created.status, 201);
  return created.json();
}

/** `text` with each [from, to] replaced; fails when README no longer has `from`. */
function substitute(text, pairs) {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `the README snippet has ${from}`);
    text = text.split(from).join(to);
  }
  return text;
}

/** Opens `html` as a page of the shop's origin (an allowed origin of the worker). */
async function openAsShopPage(html, contextOptions = {}) {
  const context = await browser.newContext({ userAgent: USER_AGENTS.desktop, ...contextOptions });
  const page = await context.newPage();
  const logs = [];
  const errors = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  // A page of the shop's own origin (served from 127.0.0.1, like the shop), its content replaced.
  await page.goto(`${stack.shopUrl}/orders`);
  await page.setContent(`<!doctype html><meta charset="utf-8"><body>${html}</body>`);
  return { context, page, logs, errors };
}

test("README's embed snippet mounts the widget in Chromium against the stack", async () => {
  const [snippet] = blocks(section('Embedding the widget'), 'html');
  assert.ok(snippet.split('\n').filter(Boolean).length <= 12, 'the embed snippet stays about ten lines');
  const session = await newSession();
  const html = substitute(snippet, [
    ['https://pay.example.com/widget/edgepay.js', `${stack.shopUrl}/widget/edgepay.js`],
    ["'https://pay.example.com'", `'${stack.workerUrl}'`],
    ["'cs_…_secret_…'", `'${session.client_secret}'`],
    ["'cs_…'", `'${session.id}'`],
  ]);
  const { context, page, logs, errors } = await openAsShopPage(html);
  await waitForState(page, 'methods').catch(async (err) => {
    throw new Error(`${err.message}\nstate: ${await card(page).getAttribute('data-edgepay-state').catch(() => 'none')}; console: ${logs}; errors: ${errors}\n${html}`);
  });
  const amount = await card(page).locator('.ep-amount').textContent();
  assert.match(amount, /¥68\.00$/);
  assert.doesNotMatch(amount, /Total/, "locale: 'zh-CN' (the English label is Total)");
  assert.ok((await card(page).locator('button.ep-method').count()) > 0);
  assert.ok(logs.includes('methods'), `onStateChange logged the states: ${logs}`);
  assert.deepEqual(errors, []);
  await context.close();

  // The custom element the same section names.
  const element = section('Embedding the widget').match(/`(<edgepay-checkout [^`]+>)`/)[1];
  const other = await newSession();
  const tag = substitute(element, [
    ['endpoint="…"', `endpoint="${stack.workerUrl}"`],
    ['session="…"', `session="${other.id}"`],
    ['client-secret="…"', `client-secret="${other.client_secret}"`],
  ]);
  const custom = await openAsShopPage(`${tag}</edgepay-checkout><script type="module">import '${stack.shopUrl}/widget/edgepay.js';</script>`);
  await custom.page.locator('edgepay-checkout .ep-card[data-edgepay-state="methods"]').waitFor({ timeout: 20_000 });
  assert.deepEqual(custom.errors, []);
  await custom.context.close();
});

test("README's environment/method table is what detectEnvironment says for real User-Agents of each row", async () => {
  const cases = JSON.parse(readFileSync(path.join(ROOT, '..', 'shared', 'ua', 'visible.json'), 'utf8')).cases;
  const rows = section('Embedding the widget')
    .split('\n')
    .filter((l) => /^\| `[a-z_]+`/.test(l))
    .map((l) => {
      const [, where, offered, blocked] = l.split('|').map((c) => c.trim());
      return {
        environment: where.match(/`(\w+)`/)[1],
        device: where.match(/\((\w+)\)/)?.[1],
        methods: [...offered.matchAll(/`(\w+)`/g)].map((m) => m[1]),
        blocked: [...blocked.matchAll(/`(\w+)` \((\w+)\)/g)].map((m) => ({ method: m[1], reason: m[2] })),
      };
    });
  assert.deepEqual(
    [...new Set(rows.map((r) => r.environment))].sort(),
    ['alipay_inapp', 'desktop_browser', 'mobile_browser', 'wechat_desktop', 'wechat_inapp', 'wechat_miniprogram', 'wecom'],
    'a row for every environment',
  );
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.shopUrl}/orders`);
  let checked = 0;
  for (const row of rows) {
    const mine = cases.filter((c) => c.label === row.environment && (!row.device || (row.device === 'desktop') === (c.device === 'desktop')));
    assert.ok(mine.length > 0, `visible.json has User-Agents for ${row.environment} ${row.device ?? ''}`);
    for (const c of mine) {
      const hints = { maxTouchPoints: c.device === 'desktop' ? 0 : 5 };
      const detected = await page.evaluate(async ([ua, h]) => (await import('/widget/edgepay.js')).detectEnvironment(ua, h), [c.ua, hints]);
      assert.deepEqual(
        { environment: detected.environment, methods: detected.methods, blocked: detected.blocked },
        { environment: row.environment, methods: row.methods, blocked: row.blocked },
        `README's row for ${row.environment} ${row.device ?? ''} vs ${c.ua}`,
      );
      checked += 1;
    }
  }
  assert.ok(checked >= 25, `checked ${checked} User-Agents`);
  await context.close();
});

test('security: no secret of the stack reaches the browser on any shop page', async () => {
  // The stack's secrets: the merchant's and every provider credential the README calls a secret.
  const env = Object.fromEntries(
    readFileSync(path.join(ROOT, '.state/wrangler/readme.env'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), JSON.parse(l.slice(l.indexOf('=') + 1))]),
  );
  const secretNames = settingsTable().filter((r) => r.kind === 'secret').flatMap((r) => r.names).filter((n) => env[n]);
  assert.ok(secretNames.length >= 8, `the stack has its secrets set (${secretNames})`);
  // Long secrets (PEM keys) are checked by a distinctive slice of their body.
  const needles = secretNames.map((n) => [n, env[n].includes('-----BEGIN') ? env[n].split('\n').find((l) => l.length >= 40) : env[n]]);
  for (const [name, needle] of needles) assert.ok(typeof needle === 'string' && needle.length >= 16, `${name}: a distinctive piece to look for`);
  const context = await browser.newContext({ userAgent: USER_AGENTS.desktop });
  const page = await context.newPage();
  const bodies = [];
  page.on('response', async (response) => {
    try {
      bodies.push({ url: response.url(), text: (await response.body()).toString('latin1') + JSON.stringify(await response.allHeaders()) });
    } catch {
      // redirects have no body
    }
  });
  await page.goto(stack.shopUrl);
  await waitForState(page, 'methods');
  await page.locator('li[data-product="puer"] button').click();
  await waitForState(page, 'methods');
  await page.goto(`${stack.shopUrl}/?ua=wechat`);
  await waitForState(page, 'methods');
  await card(page).locator('button.ep-method').first().click();
  await page.waitForTimeout(1_000);
  await page.goto(`${stack.shopUrl}/environments`);
  await waitForState(page, 'methods', { host: '#widget-miniprogram' });
  await page.goto(`${stack.shopUrl}/orders`);
  await page.waitForTimeout(500);
  assert.ok(bodies.length >= 10, `the browser received the pages and the worker's answers (${bodies.length})`);
  for (const { url, text } of bodies) {
    for (const [name, needle] of needles) assert.ok(!text.includes(needle), `${name} reached the browser in ${url}`);
  }
  await context.close();
});
