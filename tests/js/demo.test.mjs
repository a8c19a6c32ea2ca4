// The README's demo command, for real: it starts, prints the shop URL and a line per environment,
// the widget renders there in Chromium, a second demo at the same time is refused clearly, Ctrl-C
// (SIGINT to its process group) stops everything it started, and starting it again works with the
// state of the first run (a session made then is still there), with a taken port replaced and said so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ENVIRONMENTS = ['desktop', 'phone', 'wechat', 'alipay', 'miniprogram'];

async function refused(url) {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

/** Starts scripts/demo.sh; resolves once it printed its URLs, with `{urls, output(), exited, interrupt()}`. */
async function startDemo() {
  const demo = spawn(path.join(ROOT, 'scripts', 'demo.sh'), [], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (d) => (output += d));
  demo.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
  const interrupt = async () => {
    try {
      process.kill(-demo.pid, 'SIGINT');
    } catch {
      // already gone
    }
    return Promise.race([exited, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 20_000))]);
  };
  try {
    const urls = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not print its URLs:\n${output}`)), 240_000);
      demo.stdout.on('data', () => {
        const shop = output.match(/shop\s+(http:\/\/127\.0\.0\.1:\d+)/);
        const worker = output.match(/worker\s+(http:\/\/127\.0\.0\.1:\d+)/);
        const sandbox = output.match(/sandbox\s+(http:\/\/127\.0\.0\.1:\d+)/);
        if (shop && worker && sandbox && /Ctrl-C stops everything/.test(output)) {
          clearTimeout(timer);
          resolve({ shop: shop[1], worker: worker[1], sandbox: sandbox[1] });
        }
      });
      exited.then(({ code }) => reject(new Error(`demo exited (${code}):\n${output}`)));
    });
    return { urls, output: () => output, exited, interrupt };
  } catch (err) {
    await interrupt();
    throw err;
  }
}

/** Runs a demo that must refuse to start; resolves with its exit code and output. */
function runToEnd() {
  return new Promise((resolve) => {
    const demo = spawn(path.join(ROOT, 'scripts', 'demo.sh'), [], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout.on('data', (d) => (output += d));
    demo.stderr.on('data', (d) => (output += d));
    demo.once('exit', (code) => resolve({ code, output }));
  });
}

async function stopped(demo, urls) {
  const { code } = await demo.interrupt();
  assert.equal(code, 0, `demo did not stop cleanly on Ctrl-C:\n${demo.output()}`);
  for (const url of [urls.shop, `${urls.worker}/v1/health`, `${urls.sandbox}/health`]) {
    assert.ok(await refused(url), `${url} still answers after Ctrl-C`);
  }
}

test('demo command: the shop with a working widget, a line per environment, one demo at a time, Ctrl-C stops every process', { timeout: 600_000 }, async () => {
  const demo = await startDemo();
  const { urls } = demo;
  let session;
  try {
    // One line per environment, each a working preview of the checkout.
    for (const ua of ENVIRONMENTS) {
      const line = demo.output().split('\n').find((l) => l.includes(`${urls.shop}/?ua=${ua}`));
      assert.ok(line, `a line for ${ua}:\n${demo.output()}`);
      const page = await (await fetch(`${urls.shop}/?ua=${ua}`)).text();
      assert.match(page, new RegExp(`data-endpoint="/preview/${ua}" data-session="cs_`), ua);
    }
    assert.match(demo.output(), new RegExp(`${urls.shop}/environments`));

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(urls.shop);
      // The shop made a session at the worker; the widget shows its methods.
      const card = page.locator('#checkout .ep-card[data-edgepay-state="methods"]');
      await card.waitFor({ timeout: 20_000 });
      assert.equal(await card.getAttribute('data-environment'), 'desktop_browser');
      assert.ok((await card.locator('button.ep-method').count()) > 0);
      session = await page.locator('#checkout').evaluate((el) => ({ id: el.dataset.session, secret: el.dataset.clientSecret }));
    } finally {
      await browser.close();
    }

    // A second demo while this one runs is refused, saying why.
    const second = await runToEnd();
    assert.equal(second.code, 1, second.output);
    assert.match(second.output, /another demo is already running \(pid \d+\), its shop at http:\/\/127\.0\.0\.1:\d+; stop it first/);
    assert.ok(!(await refused(urls.shop)), 'the refused demo left the running one alone');
  } finally {
    await stopped(demo, urls).catch((err) => assert.fail(err));
  }

  // Started again (with the shop's usual port taken): it says so, and the first run's state is there.
  const holder = net.createServer();
  const shopPort = 8788; // the demo's usual shop port; if someone else holds it, it is taken all the same
  await new Promise((resolve) => holder.once('error', resolve).listen(shopPort, '127.0.0.1', resolve));
  try {
    const again = await startDemo();
    try {
      assert.ok(!again.urls.shop.endsWith(`:${shopPort}`), again.urls.shop);
      assert.match(again.output(), new RegExp(`note: port ${shopPort} was taken, the shop uses ${again.urls.shop} instead`));
      const read = await fetch(`${again.urls.worker}/v1/sessions/${session.id}`, { headers: { authorization: `Bearer ${session.secret}` } });
      assert.equal(read.status, 200, 'the session of the first run is still at the worker');
      assert.equal((await read.json()).amount, 6800);
    } finally {
      await stopped(again, again.urls);
    }
  } finally {
    holder.close();
  }
});
