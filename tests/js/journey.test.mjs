// Journey: the demo shop in headless Chromium, served by the real stack (sandbox, worker under
// wrangler dev, demo shop), once as a desktop browser and once inside WeChat on an iPhone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../../scripts/stack.mjs';
import { launchChromium, USER_AGENTS } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, '.state', 'screenshots');
let stack;
let browser;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ name: 'journey' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function openShop(contextOptions) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(stack.shopUrl);
  const card = page.locator('#checkout .ep-card');
  await card.and(page.locator('[data-edgepay-state="ready"]')).waitFor({ timeout: 20_000 });
  return { context, page, card, errors };
}

test('desktop browser: the widget shows desktop_browser, and every provider configured from the sandbox', async () => {
  const { context, page, card, errors } = await openShop({ userAgent: USER_AGENTS.desktop, locale: 'en-US' });
  assert.equal(await card.locator('[data-field="environment"]').textContent(), 'desktop_browser');
  assert.equal(await card.locator('[data-field="device"]').textContent(), 'desktop · Windows');
  assert.match(await card.locator('.ep-worker').textContent(), /^Payment service v\d+\.\d+\.\d+$/);
  const providers = card.locator('.ep-providers li');
  assert.equal(await providers.count(), 3);
  assert.deepEqual(await providers.evaluateAll((els) => els.map((e) => [e.dataset.provider, e.dataset.configured])), [
    ['alipay', 'true'],
    ['unionpay', 'true'],
    ['wechatpay', 'true'],
  ]);
  // The widget's styles stay inside its shadow root: the page's own header is untouched.
  assert.equal(await page.locator('header').evaluate((e) => getComputedStyle(e).fontWeight), '600');
  await page.screenshot({ path: path.join(SHOTS, 'desktop.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the worker under wrangler dev creates and serves checkout sessions (Durable Object)', async () => {
  const created = await fetch(`${stack.workerUrl}/v1/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.merchantApiKey}`, 'content-type': 'application/json', 'idempotency-key': `journey-${Date.now()}` },
    body: JSON.stringify({ order_id: 'journey-1', amount: 6800, currency: 'CNY', description: '凤凰单丛 250 g' }),
  });
  assert.equal(created.status, 201);
  const session = await created.json();
  const read = await fetch(`${stack.workerUrl}/v1/sessions/${session.id}`, {
    headers: { authorization: `Bearer ${session.client_secret}`, 'user-agent': USER_AGENTS.wechatIphone },
  });
  assert.equal(read.status, 200);
  const body = await read.json();
  assert.equal(body.amount, 6800);
  assert.deepEqual(body.methods, ['wechat_jsapi', 'unionpay_wap']);
});

test('WeChat in-app on an iPhone: the widget shows wechat_inapp, in Chinese', async () => {
  const { context, page, card, errors } = await openShop({
    userAgent: USER_AGENTS.wechatIphone,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  assert.equal(await card.locator('[data-field="environment"]').textContent(), 'wechat_inapp');
  assert.equal(await card.locator('[data-field="device"]').textContent(), 'phone · iOS');
  assert.equal(await card.locator('.ep-title').textContent(), '安全支付');
  assert.match(await card.locator('.ep-worker').textContent(), /^支付服务 v/);
  await page.screenshot({ path: path.join(SHOTS, 'wechat-inapp.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});
