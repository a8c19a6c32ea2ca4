// The method list the shop's server draws (checkout-wasm `prerender`, in a declarative shadow
// root) before the widget's WebAssembly has loaded, in headless Chromium against the real stack:
// the shopper sees the methods at once, the widget takes over with the same markup, and what the
// shopper did in the drawing (a click, the focus) carries over. The wasm is held back by the test
// until the drawing has been checked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../../scripts/stack.mjs';
import { launchChromium, USER_AGENTS } from './browser.mjs';
import { focused, shoot, waitForState } from './widget.mjs';

const DESKTOP = { userAgent: USER_AGENTS.desktop, locale: 'en-US', viewport: { width: 1100, height: 800 } };
const PHONE = {
  userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
};

let stack;
let browser;

before(async () => {
  stack = await startStack({ name: 'prerender' });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * Opens the shop with the widget's wasm held back. Resolves once the drawn list is on screen and
 * the loader has run, with `release()` to let the wasm through.
 */
async function openHeld(contextOptions) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
  });
  await context.route('**/widget/checkout_wasm_bg.wasm', async (route) => {
    await gate;
    await route.continue();
  });
  await page.goto(stack.shopUrl, { waitUntil: 'commit' });
  await page.locator('#checkout .ep-host[data-prerendered] button.ep-method').first().waitFor({ timeout: 20_000 });
  // The loader (which notes clicks in the drawing) has run once it has defined its element.
  await page.waitForFunction(() => customElements.get('edgepay-checkout') !== undefined);
  return { context, page, errors, release };
}

/** The widget's markup, attributes sorted (a server and a browser may write them in any order). */
function markup(page, root) {
  return page.evaluate((selector) => {
    const host = document.querySelector('#checkout').shadowRoot.querySelector(selector);
    const write = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return node.data;
      if (node.nodeType !== Node.ELEMENT_NODE) return '';
      const attributes = [...node.attributes]
        .filter((a) => a.name !== 'data-prerendered')
        .map((a) => ` ${a.name}="${a.value}"`)
        .sort()
        .join('');
      const tag = node.tagName.toLowerCase();
      return `<${tag}${attributes}>${[...node.childNodes].map(write).join('')}</${tag}>`;
    };
    return host ? write(host) : null;
  }, root);
}

test('the shop draws the method list before the widget loads, and the widget draws the same', async () => {
  for (const [label, options, first, lang] of [
    ['desktop', DESKTOP, 'wechat_native', 'en'],
    ['phone', PHONE, 'wechat_h5', 'zh-CN'],
  ]) {
    const { context, page, errors, release } = await openHeld(options);
    try {
      const drawn = await markup(page, '.ep-host[data-prerendered]');
      assert.ok(drawn.includes(`data-edgepay-state="methods"`), `${label}: ${drawn}`);
      assert.ok(drawn.includes(`lang="${lang}"`), `${label}: the drawing speaks ${lang}`);
      const methods = await page.locator('#checkout button.ep-method').evaluateAll((b) => b.map((x) => x.dataset.method));
      assert.equal(methods[0], first, `${label}: ${methods}`);
      // Drawn, not running: nothing has been compiled yet.
      assert.equal(await page.locator('#checkout .ep-host:not([data-prerendered])').count(), 0);
      await shoot(page, `prerender-${label}-drawn`);
      release();
      await waitForState(page, 'methods');
      assert.equal(await page.locator('#checkout .ep-host').count(), 1, `${label}: the drawing is replaced, not kept beside the widget`);
      assert.equal(await markup(page, '.ep-host'), drawn, `${label}: the widget's first render is the server's drawing`);
      assert.deepEqual(errors, []);
    } finally {
      release();
      await context.close();
    }
  }
});

test('a method clicked in the drawing is carried out when the widget has loaded', async () => {
  const { context, page, errors, release } = await openHeld(DESKTOP);
  try {
    const button = page.locator('#checkout .ep-host[data-prerendered] button.ep-method[data-method="wechat_native"]');
    await button.click();
    assert.equal(await button.getAttribute('aria-busy'), 'true', 'the click is noted');
    assert.ok(Number(await button.evaluate((b) => getComputedStyle(b).opacity)) < 1, 'and shown: the button looks busy');
    release();
    await waitForState(page, 'qr');
    const code = page.locator('#checkout svg.ep-code path');
    await code.waitFor();
    // The worker has the attempt: the session's current action is that QR code.
    const session = await page.locator('#checkout').getAttribute('data-session');
    const secret = await page.locator('#checkout').getAttribute('data-client-secret');
    const view = await (await fetch(`${stack.workerUrl}/v1/sessions/${session}`, { headers: { Authorization: `Bearer ${secret}` } })).json();
    assert.equal(view.action?.type, 'qr', JSON.stringify(view));
    assert.deepEqual(errors, []);
  } finally {
    release();
    await context.close();
  }
});

test('the focus on a drawn button stays on that method when the widget takes over', async () => {
  const { context, page, errors, release } = await openHeld(DESKTOP);
  try {
    await page.locator('#checkout .ep-host[data-prerendered] button.ep-method[data-method="alipay_qr"]').focus();
    release();
    await waitForState(page, 'methods');
    await page.waitForFunction(() => document.querySelector('#checkout').shadowRoot.activeElement?.dataset.method === 'alipay_qr', null, { timeout: 5_000 });
    assert.equal((await focused(page)).method, 'alipay_qr');
    // And the keyboard goes on from there: Enter pays with it.
    await page.keyboard.press('Enter');
    await waitForState(page, 'qr');
    assert.deepEqual(errors, []);
  } finally {
    release();
    await context.close();
  }
});

test('a page without the session read (?session_data=0) draws nothing and the widget loads as before', async () => {
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  try {
    const response = await page.goto(`${stack.shopUrl}/?session_data=0`);
    assert.ok(!(await response.text()).includes('shadowrootmode'));
    await waitForState(page, 'methods');
  } finally {
    await context.close();
  }
});
