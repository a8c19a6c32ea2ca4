// The README's demo command, for real: it starts, prints the shop URL, the widget renders there in
// Chromium, and Ctrl-C (SIGINT to its process group) stops everything it started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function refused(url) {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

test('demo command: serves the shop with a working widget, Ctrl-C stops every process', { timeout: 300_000 }, async () => {
  const demo = spawn(path.join(ROOT, 'scripts', 'demo.sh'), [], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (d) => (output += d));
  demo.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve({ code, signal })));
  let urls;
  try {
    urls = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`demo did not print its URLs:\n${output}`)), 240_000);
      demo.stdout.on('data', () => {
        const shop = output.match(/shop\s+(http:\/\/127\.0\.0\.1:\d+)/);
        const worker = output.match(/worker\s+(http:\/\/127\.0\.0\.1:\d+)/);
        const sandbox = output.match(/sandbox\s+(http:\/\/127\.0\.0\.1:\d+)/);
        if (shop && worker && sandbox) {
          clearTimeout(timer);
          resolve({ shop: shop[1], worker: worker[1], sandbox: sandbox[1] });
        }
      });
      exited.then(({ code }) => reject(new Error(`demo exited (${code}):\n${output}`)));
    });
    assert.match(output, /Ctrl-C stops everything/);

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(urls.shop);
      // The shop made a session at the worker; the widget shows its methods.
      const card = page.locator('#checkout .ep-card[data-edgepay-state="methods"]');
      await card.waitFor({ timeout: 20_000 });
      assert.equal(await card.getAttribute('data-environment'), 'desktop_browser');
      assert.ok((await card.locator('button.ep-method').count()) > 0);
    } finally {
      await browser.close();
    }
  } finally {
    process.kill(-demo.pid, 'SIGINT');
  }
  const { code } = await Promise.race([exited, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 20_000))]);
  assert.equal(code, 0, `demo did not stop cleanly on Ctrl-C:\n${output}`);
  for (const url of [urls.shop, `${urls.worker}/v1/health`, `${urls.sandbox}/health`]) {
    assert.ok(await refused(url), `${url} still answers after Ctrl-C`);
  }
});
