// The demo shop against the real stack (sandbox, worker under wrangler dev, demo shop) in headless
// Chromium: the cart decides the session's amount on the server, the `?ua=` preview makes the
// worker answer as another environment would, and /environments shows every environment at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../../scripts/stack.mjs';
import { launchChromium, USER_AGENTS } from './browser.mjs';
import { card, shoot, waitForState } from './widget.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VISIBLE = JSON.parse(readFileSync(path.join(ROOT, '..', 'shared', 'ua', 'visible.json'), 'utf8')).cases;
const PREVIEWS = { desktop: 'desktop_browser', phone: 'mobile_browser', wechat: 'wechat_inapp', alipay: 'alipay_inapp', miniprogram: 'wechat_miniprogram' };
const DESKTOP = { userAgent: USER_AGENTS.desktop, locale: 'en-US', viewport: { width: 1280, height: 900 } };

let stack;
let browser;

before(async () => {
  stack = await startStack({ name: 'demo-shop' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const methodsShown = (page, host) => card(page, host).locator('button.ep-method').evaluateAll((buttons) => buttons.map((b) => b.dataset.method));

test('the cart: products added in the browser make a session for the server-side total', async () => {
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  await page.goto(stack.shopUrl);
  await waitForState(page, 'methods');
  assert.equal(await card(page).locator('.ep-amount').textContent(), 'Total¥68.00', 'a new visitor starts with one oolong');

  await page.locator('li[data-product="longjing"] button').click();
  await page.waitForURL(`${stack.shopUrl}/`);
  await waitForState(page, 'methods');
  assert.equal(await card(page).locator('.ep-amount').textContent(), 'Total¥196.00');
  assert.equal(await card(page).locator('.ep-desc').textContent(), '2 items: 凤凰单丛 ×1, 西湖龙井 ×1');

  await page.locator('tr[data-product="longjing"] input[type=number]').fill('3');
  await page.locator('tr[data-product="longjing"] button', { hasText: 'Update' }).click();
  await waitForState(page, 'methods');
  assert.equal(await card(page).locator('.ep-amount').textContent(), `Total¥${(6800 + 3 * 12800) / 100}.00`);

  // A shopper who edits the cookie can change what they buy, never what it costs.
  await context.addCookies([{ name: 'edgepay_cart', value: 'gaiwan:2|gaiwan:1:amount=1', url: stack.shopUrl }]);
  await page.goto(stack.shopUrl);
  await waitForState(page, 'methods');
  assert.equal(await card(page).locator('.ep-amount').textContent(), 'Total¥90.00');

  await page.locator('tr[data-product="gaiwan"] button', { hasText: 'Remove' }).click();
  await page.locator('.problem', { hasText: 'Your cart is empty' }).waitFor();
  assert.equal(await page.locator('#checkout').getAttribute('data-session'), '');
  await context.close();
});

test('?ua=: the worker answers as each environment would, the same as detectEnvironment(ua, hints)', async () => {
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  for (const [name, environment] of Object.entries(PREVIEWS)) {
    await page.goto(`${stack.shopUrl}/?ua=${name}`);
    await waitForState(page, 'methods');
    assert.equal(await card(page).getAttribute('data-environment'), environment, name);
    const ua = await page.locator('.previewing code').first().textContent();
    assert.ok(VISIBLE.some((c) => c.ua === ua && c.label === environment), `${name}: a real ${environment} User-Agent of visible.json`);
    const expected = await page.evaluate(
      async ([ua, name]) => {
        const hints = {
          desktop: { maxTouchPoints: 0, platform: 'MacIntel' },
          alipay: { maxTouchPoints: 5, platform: 'iPhone' },
          miniprogram: { maxTouchPoints: 5, platform: 'Linux armv8l', wxjsEnvironment: 'miniprogram' },
        }[name] ?? { maxTouchPoints: 5, platform: 'Linux armv8l' };
        return (await import('/widget/edgepay.js')).detectEnvironment(ua, hints);
      },
      [ua, name],
    );
    assert.equal(expected.environment, environment);
    assert.deepEqual(await methodsShown(page), expected.methods, name);
  }
  // Without ?ua= this browser is itself again.
  await page.goto(stack.shopUrl);
  await waitForState(page, 'methods');
  assert.equal(await card(page).getAttribute('data-environment'), 'desktop_browser');
  await context.close();
});

test('/environments: the widget in every environment side by side, each routed as detectEnvironment says', async () => {
  const context = await browser.newContext({ ...DESKTOP, viewport: { width: 1700, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${stack.shopUrl}/environments`);
  const seen = new Set();
  for (const [name, environment] of Object.entries(PREVIEWS)) {
    const host = `#widget-${name}`;
    await waitForState(page, 'methods', { host });
    const panel = page.locator(`.env[data-env="${name}"]`);
    const ua = await panel.getAttribute('data-ua');
    assert.ok(VISIBLE.some((c) => c.ua === ua && c.label === environment), `${name}: a real ${environment} User-Agent`);
    assert.equal(await panel.locator('dl').getAttribute('data-environment'), environment, `${name}: detectEnvironment`);
    assert.equal(await card(page, host).getAttribute('data-environment'), environment, `${name}: the worker`);
    const methods = await methodsShown(page, host);
    assert.equal(await panel.locator('dd').nth(2).textContent(), methods.join(', '), `${name}: the widget offers what detectEnvironment lists`);
    seen.add(methods.join());
  }
  assert.ok(seen.size >= 4, `the environments are routed differently: ${[...seen].join(' / ')}`);
  assert.deepEqual(errors, []);
  await shoot(page, 'environments', { fullPage: true });
  await context.close();
});
