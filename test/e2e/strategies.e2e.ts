import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';

/**
 * The Strategies page in Chromium against the real app: create from a template, the editor's own
 * TypeScript worker and the core's Check mark a typo inline, Save is refused with the reason, the
 * fix saves as version 2 and the versions list shows both.
 */

let browser: Browser;
let app: RunningApp;
let page: Page;
const shots = process.env.ARISTOBOT_SCREENSHOTS;
/** The machine may be busy: the editor's worker, the core's check and a save each take a while. */
const WAIT = { timeout: 45_000, interval: 200 };

beforeAll(async () => {
  app = await startApp({ timeoutMs: 240_000 });
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.click('[data-test=new-profile]');
  await page.fill('[data-test=create-name]', 'Quant');
  await page.fill('[data-test=create-password]', 'pw-12345');
  await page.fill('[data-test=create-password2]', 'pw-12345');
  await page.click('[data-test=create-submit]');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

/** Monaco renders spaces as no-break spaces. */
const editorText = async () => (await page.locator('[data-test=strategy-editor] .view-lines').innerText()).replace(/\u00a0/g, ' ');

describe('strategies, end to end in Chromium', () => {
  it('creates from a template, marks a typo inline, refuses to save it, saves the fix as version 2', async () => {
    await page.click('.sidebar >> text=Strategies');
    await page.waitForSelector('[data-test=strategy-new]');
    await page.fill('[data-test=strategy-new-name]', 'My EMA');
    await page.selectOption('[data-test=strategy-new-template]', 'ema-cross');
    await page.click('[data-test=strategy-create]');
    await expect.poll(() => page.locator('[data-test=strategy-name]').innerText(), WAIT).toBe('My EMA');
    expect(await page.locator('[data-test=strategy-version]').innerText()).toBe('v1');
    expect(await page.locator('[data-test=strategy-item][data-name="My EMA"]').count()).toBe(1);

    // Monaco loads with the template's code; the declared params show as a form.
    await page.waitForSelector('[data-test=strategy-editor] .monaco-editor .view-lines', { timeout: 60_000 });
    await expect.poll(editorText, WAIT).toContain('class EmaCross extends Strategy');
    await expect.poll(() => page.locator('[data-test=param-fast] input').inputValue(), WAIT).toBe('12');
    expect(await page.locator('[data-test=param-slow] input').inputValue()).toBe('26');

    // A typo at the end of the file.
    await page.click('[data-test=strategy-editor] .view-lines');
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('const typo: number = undefinedThing;');
    await page.keyboard.press('Escape');
    await expect.poll(editorText, WAIT).toContain('undefinedThing');
    expect(await page.locator('[data-test=strategy-dirty]').count()).toBe(1);

    // Marked inline (a squiggle) by the editor's TS worker and the core's check, listed with line:column.
    await page.waitForSelector('[data-test=strategy-editor] .squiggly-error', { timeout: 60_000 });
    await expect.poll(() => page.locator('[data-test=editor-problem]').allInnerTexts(), WAIT).toEqual([expect.stringMatching(/^\d+:22\s+Cannot find name 'undefinedThing'/)]);
    const line = Number((await page.locator('[data-test=editor-problem]').first().innerText()).split(':')[0]);
    expect(line).toBeGreaterThan(30);

    // The Check button lists the core's problems with line:column.
    await page.click('[data-test=strategy-check]');
    await expect.poll(() => page.locator('[data-test=check-problem]').allInnerTexts(), WAIT).toEqual([expect.stringMatching(new RegExp(`^${line}:22\\s+Cannot find name 'undefinedThing'`))]);
    if (shots) await page.screenshot({ path: `${shots}/strategies-error.png` });

    // Save is refused with the reason; nothing saved.
    await page.click('[data-test=strategy-save]');
    await expect.poll(() => page.locator('[data-test=strategy-error]').innerText(), WAIT).toMatch(new RegExp(`Not saved\\. The code does not compile: line ${line}, column 22: Cannot find name 'undefinedThing'`));
    expect(await page.locator('[data-test=strategy-version]').innerText()).toBe('v1');
    expect(await page.locator('[data-test=strategy-version-item]').count()).toBe(1);

    // Fix it: replace the line.
    await page.click('[data-test=strategy-editor] .view-lines');
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.type('const fixed = 1;');
    await page.keyboard.press('Escape');
    await expect.poll(editorText, WAIT).not.toContain('undefinedThing');
    await expect.poll(() => page.locator('[data-test=editor-problem]').count(), WAIT).toBe(0);
    await expect.poll(() => page.locator('[data-test=strategy-editor] .squiggly-error').count(), WAIT).toBe(0);
    await page.click('[data-test=strategy-check]');
    await page.waitForSelector('[data-test=check-ok]');

    await page.click('[data-test=strategy-save]');
    await expect.poll(() => page.locator('[data-test=strategy-version]').innerText(), WAIT).toBe('v2');
    expect(await page.locator('[data-test=strategy-notice]').innerText()).toBe('Saved as version 2.');
    expect(await page.locator('[data-test=strategy-dirty]').count()).toBe(0);

    // Both versions listed, the newest current; the old one can be loaded back into the editor.
    await expect.poll(() => page.locator('[data-test=strategy-version-item]').count(), WAIT).toBe(2);
    const items = await page.locator('[data-test=strategy-version-item]').allInnerTexts();
    expect(items[0]).toMatch(/^v2[\s\S]*current/);
    expect(items[1]).toMatch(/^v1/);
    await page.click('[data-test=strategy-version-load-1]');
    await expect.poll(editorText, WAIT).not.toContain('const fixed = 1;');
    expect(await page.locator('[data-test=strategy-dirty]').count()).toBe(1);
    if (shots) await page.screenshot({ path: `${shots}/strategies-saved.png` });
  });

  it('duplicates, renames and deletes', async () => {
    await page.click('[data-test=strategy-duplicate]');
    await expect.poll(() => page.locator('[data-test=strategy-name]').innerText(), WAIT).toBe('My EMA (copy)');
    await page.click('[data-test=strategy-rename]');
    await page.fill('[data-test=strategy-rename-input]', 'Faster EMA');
    await page.click('[data-test=strategy-rename-save]');
    await expect.poll(() => page.locator('[data-test=strategy-name]').innerText(), WAIT).toBe('Faster EMA');
    await expect.poll(() => page.locator('[data-test=strategy-item]').allInnerTexts(), WAIT).toEqual([expect.stringMatching(/^Faster EMA/), expect.stringMatching(/^My EMA/)]);
    await page.click('[data-test=strategy-delete]');
    await page.click('[data-test=strategy-delete-confirm]');
    await expect.poll(() => page.locator('[data-test=strategy-item]').allInnerTexts(), WAIT).toEqual([expect.stringMatching(/^My EMA/)]);
  });
});
