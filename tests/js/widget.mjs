// Helpers for the widget's browser tests: its state, an axe-core audit of its shadow root, and
// screenshots under .state/screenshots.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHOTS = path.join(ROOT, '.state', 'screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The widget's card inside `host` (Playwright's CSS pierces the open shadow root). */
export function card(page, host = '#checkout') {
  return page.locator(`${host} .ep-card`);
}

/**
 * Waits until the widget in `host` shows `state` (its `data-edgepay-state`): the live widget, not
 * the method list a server drew before it loaded (`data-prerendered`).
 */
export async function waitForState(page, state, { host = '#checkout', timeout = 20_000 } = {}) {
  await page.locator(`${host} .ep-host:not([data-prerendered]) .ep-card[data-edgepay-state="${state}"]`).waitFor({ timeout });
}

/** The element of the widget's shadow root that has focus, as `{tag, method, text, className}`. */
export function focused(page, host = '#checkout') {
  return page.evaluate((selector) => {
    const el = document.querySelector(selector)?.shadowRoot?.activeElement;
    return el ? { tag: el.tagName.toLowerCase(), method: el.dataset.method ?? null, text: el.textContent, className: el.className } : null;
  }, host);
}

/**
 * Runs axe-core on the widget (its host element and shadow tree) and fails with the violations,
 * if any. `label` names the state in the message.
 */
export async function audit(page, label, host = '#checkout') {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async (selector) => {
    const { violations, passes } = await window.axe.run(document.querySelector(selector), { resultTypes: ['violations'] });
    return {
      passes: passes.length,
      violations: violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })),
    };
  }, host);
  assert.deepEqual(result.violations, [], `axe found violations in the ${label} state:\n${JSON.stringify(result.violations, null, 2)}`);
  assert.ok(result.passes > 0, `axe checked nothing in the ${label} state`);
}

/** Saves a screenshot of the page as .state/screenshots/<name>.png. */
export async function shoot(page, name, options = {}) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), ...options });
}
