import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAiStub, type AiStub } from '../sim/ai/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';

/**
 * The AI assistant end to end in Chromium: Account → AI assistant against local stubs of the
 * OpenAI chat-completions protocol (one as OpenRouter, with a key; one as Ollama), then the panel.
 */

const KEY = 'sk-or-v1-E2eStubKey000000000000000000000000000000000000000000canary7f3e';

let browser: Browser;
let ollama: AiStub;
let openrouter: AiStub;
let app: RunningApp;
let page: Page;

beforeAll(async () => {
  ollama = await startAiStub({ shape: 'ollama', models: ['llama3.1:8b', 'qwen2.5-coder:7b'] });
  openrouter = await startAiStub({ shape: 'openrouter', models: ['openai/gpt-4o-mini'], apiKey: KEY });
  app = await startApp({ env: { ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e ai vault', ARISTOBOT_AI_OPENROUTER_URL: `${openrouter.url}/api/v1` } });
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.click('[data-test=new-profile]');
  await page.fill('[data-test=create-name]', 'Assisted');
  await page.fill('[data-test=create-password]', 'pw-12345');
  await page.fill('[data-test=create-password2]', 'pw-12345');
  await page.click('[data-test=create-submit]');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=ai-settings]');
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await ollama?.close();
  await openrouter?.close();
});

describe('AI assistant, end to end in Chromium', () => {
  it('Account: the OpenRouter key is stored masked; Ollama at the stub is switched on and a model picked', async () => {
    await expect.poll(() => page.textContent('[data-test=ai-status]')).toMatch(/The assistant is off/);
    // OpenRouter needs a key first: a clear refusal
    await page.click('[data-test=ai-openrouter-switch]');
    await expect.poll(() => page.textContent('[data-test=ai-settings-error]')).toMatch(/Enter an OpenRouter API key/);
    await page.fill('[data-test=ai-key]', KEY);
    await page.click('[data-test=ai-key-save]');
    await expect.poll(() => page.textContent('[data-test=ai-key-hint]')).toBe('••••7f3e');
    expect(await page.inputValue('[data-test=ai-key]')).toBe('');
    await page.waitForSelector('[data-test=ai-openrouter-model] option[value="openai/gpt-4o-mini"]', { state: 'attached' });
    const state = await page.evaluate('document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)');
    expect(state).not.toContain(KEY);
    expect(state).not.toContain('canary');

    // Ollama at the stub
    await page.fill('[data-test=ai-ollama-url]', ollama.url);
    await page.click('[data-test=ai-ollama-url-save]');
    await page.click('[data-test=ai-ollama-switch]');
    await page.waitForSelector('[data-test=ai-ollama-model] option[value="qwen2.5-coder:7b"]', { state: 'attached' });
    await page.selectOption('[data-test=ai-ollama-model]', 'qwen2.5-coder:7b');
    await expect.poll(() => page.textContent('[data-test=ai-status]')).toMatch(/uses Ollama · qwen2.5-coder:7b/);
    expect(await page.isChecked('[data-test=ai-ollama-toggle]')).toBe(true);
    expect(await page.isChecked('[data-test=ai-openrouter-toggle]')).toBe(false);
    await page.locator('[data-test=ai-settings]').screenshot({ path: `${app.dataDir}/ai-settings.png` });
    // stored per profile: a reload is a new connection, logged in again, the settings are kept
    await page.reload();
    await page.waitForSelector('[data-test=login]');
    await page.selectOption('[data-test=login-profile]', 'Assisted');
    await page.fill('[data-test=login-password]', 'pw-12345');
    await page.click('[data-test=login-submit]');
    await page.waitForSelector('[data-test=ai-settings]');
    await expect.poll(() => page.textContent('[data-test=ai-status]')).toMatch(/uses Ollama · qwen2.5-coder:7b/);
  });
});
