// detectEnvironment() of the built widget, in headless Chromium, loaded from the demo shop the way a
// host page loads it: every labelled User-Agent of ../shared/ua/visible.json, and what it reads
// from the browser itself when called without arguments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CASES = JSON.parse(readFileSync(path.join(ROOT, '..', 'shared', 'ua', 'visible.json'), 'utf8')).cases;
const ALL = ['wechat_jsapi', 'wechat_h5', 'wechat_native', 'wechat_miniprogram', 'alipay_wap', 'alipay_page', 'alipay_qr', 'unionpay_wap', 'unionpay_pc'];
const REASONS = ['blocked_in_wechat', 'wechat_h5_refused_in_wechat', 'needs_wechat', 'not_in_alipay', 'desktop_only', 'mobile_only', 'miniprogram_handoff_only', 'needs_miniprogram'];
/** DESIGN.md, "Environments and methods": what each environment offers, likeliest first. */
const OFFERED = {
  wechat_inapp: ['wechat_jsapi', 'unionpay_wap'],
  wechat_miniprogram: ['wechat_miniprogram'],
  wechat_desktop: ['wechat_native', 'alipay_qr', 'unionpay_pc'],
  alipay_inapp: ['alipay_wap', 'unionpay_wap'],
  mobile_browser: ['wechat_h5', 'alipay_wap', 'unionpay_wap'],
  desktop_browser: ['wechat_native', 'alipay_page', 'alipay_qr', 'unionpay_pc'],
};
const offered = ({ environment, device }) =>
  environment === 'wecom' ? OFFERED[device === 'desktop' ? 'desktop_browser' : 'mobile_browser'] : OFFERED[environment];

let shop;
let browser;

before(async () => {
  // The demo shop alone: it serves the widget's files whether or not a worker answers.
  const child = spawn(
    path.join(ROOT, 'target', 'debug', 'demo-site'),
    ['--port', '0', '--worker-url', 'http://127.0.0.1:9', '--widget-dir', path.join(ROOT, 'checkout-wasm', 'pkg')],
    { env: { ...process.env, EDGEPAY_MERCHANT_API_KEY: 'sk_test_unused' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/\S+)/);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`demo-site exited (${code}); run scripts/build.sh first`)));
  });
  shop = { url, stop: () => child.kill('SIGTERM') };
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  shop?.stop();
});

/** A page of the shop's origin with the widget module imported; `detect(ua, hints)` runs in it. */
async function widgetPage(contextOptions = {}, init) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  if (init) await init(page, context);
  await page.goto(shop.url); // the shop page (without a worker it has no session: only the module is used)
  await page.evaluate(async () => {
    window.edgepay = await import('/widget/edgepay.js');
  });
  return { context, page, detect: (...args) => page.evaluate((a) => window.edgepay.detectEnvironment(...a), args) };
}

test(`every labelled User-Agent of visible.json (${CASES.length}) gets its environment, device, os and methods`, async () => {
  const { context, detect } = await widgetPage();
  const wrong = [];
  for (const c of CASES) {
    const got = await detect(c.ua, c.hints ?? {});
    const want = { environment: c.label, device: c.device, os: c.os };
    const seen = { environment: got.environment, device: got.device, os: got.os };
    if (JSON.stringify(seen) !== JSON.stringify(want)) wrong.push({ ua: c.ua, want, got: seen });
    assert.deepEqual(got.methods, offered(got), c.ua);
    // Every method is either offered or blocked with a reason, never both, never lost.
    assert.deepEqual([...got.methods, ...got.blocked.map((b) => b.method)].sort(), [...ALL].sort(), c.ua);
    for (const b of got.blocked) assert.ok(REASONS.includes(b.reason), `${b.reason}: ${c.ua}`);
    if (got.environment === 'wechat_inapp') {
      assert.ok(got.blocked.some((b) => b.method === 'alipay_wap' && b.reason === 'blocked_in_wechat'), c.ua);
    }
  }
  assert.deepEqual(wrong, []);
  await context.close();
});

test('without arguments it reads this browser: User-Agent, touch points, the mini-program flag', async () => {
  const wechat = CASES.find((c) => c.label === 'wechat_inapp' && c.os === 'iOS').ua;
  const inMiniprogram = await widgetPage({ userAgent: wechat }, (page) =>
    page.addInitScript(() => {
      window.__wxjs_environment = 'miniprogram';
    }),
  );
  const found = await inMiniprogram.detect();
  assert.equal(found.environment, 'wechat_miniprogram');
  assert.deepEqual(found.methods, ['wechat_miniprogram']);
  assert.equal((await inMiniprogram.detect(wechat)).environment, 'wechat_inapp', 'a given User-Agent uses only what it is given');
  await inMiniprogram.context.close();

  // An iPad in desktop mode sends a Mac User-Agent, but has touch points.
  const mac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
  const ipad = await widgetPage({ userAgent: mac }, async (page, context) => {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 });
  });
  assert.deepEqual(await ipad.detect(), {
    environment: 'mobile_browser',
    device: 'tablet',
    os: 'iPadOS',
    methods: ['wechat_h5', 'alipay_wap', 'unionpay_wap'],
    blocked: [
      { method: 'wechat_jsapi', reason: 'needs_wechat' },
      { method: 'wechat_native', reason: 'desktop_only' },
      { method: 'wechat_miniprogram', reason: 'needs_miniprogram' },
      { method: 'alipay_page', reason: 'desktop_only' },
      { method: 'alipay_qr', reason: 'desktop_only' },
      { method: 'unionpay_pc', reason: 'desktop_only' },
    ],
  });
  assert.equal((await ipad.detect(mac, {})).os, 'macOS');
  assert.equal((await ipad.detect(mac, { maxTouchPoints: 5 })).os, 'iPadOS');
  await assert.rejects(ipad.detect(42), /option "userAgent" must be a string/);
  await ipad.context.close();
});
