import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RSI_STRATEGY, RSI_STRATEGY_TYPO, answerWith } from '../sim/ai/answers';
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

  it('Strategies: ask the assistant for an RSI strategy; the first answer is repaired, the code checks, applies and saves', async () => {
    await page.click('text=Strategies');
    await page.fill('[data-test=strategy-new-name]', 'Assisted RSI');
    await page.click('[data-test=strategy-create]');
    await page.waitForSelector('[data-test=ai-panel]');
    ollama.queue({ text: answerWith(RSI_STRATEGY_TYPO), chunkSize: 6, chunkDelayMs: 5 }, { text: answerWith(RSI_STRATEGY, 'Fixed: the field is rsi.'), chunkSize: 6, chunkDelayMs: 5 });
    await page.click('[data-test=ai-mode-generate]');
    await page.fill('[data-test=ai-prompt]', 'An RSI mean-reversion strategy: long when RSI(14) < 30, short when > 70, 3% stop-loss');
    await page.click('[data-test=ai-ask]');
    await page.waitForSelector('[data-test=ai-result]', { timeout: 30_000 });
    expect(await page.textContent('[data-test=ai-check]')).toMatch(/Passes the check \(after one repair\)/);
    expect(await page.textContent('[data-test=ai-repair]')).toMatch(/did not pass the check \(1 problem\)/);
    expect(await page.textContent('[data-test=ai-code]')).toContain('export default class RsiMeanReversion extends Strategy');
    // the system prompt carried the API and the stub got the user's words
    expect(ollama.requests.at(-2)!.messages[1]!.content).toContain('RSI(14) < 30');
    await page.screenshot({ path: `${app.dataDir}/ai-page.png` });
    await page.locator('[data-test=ai-panel]').screenshot({ path: `${app.dataDir}/ai-panel.png` });

    await page.click('[data-test=ai-apply]');
    await page.click('[data-test=strategy-check]');
    await page.waitForSelector('[data-test=check-ok]');
    await page.click('[data-test=strategy-save]');
    await expect.poll(() => page.textContent('[data-test=strategy-version]')).toBe('v2');
    // the saved strategy is the assistant's: its declared parameters are the form's fields
    await page.waitForSelector('[data-test=param-oversold]');
    await page.waitForSelector('[data-test=param-overbought]');
  });

  it('errors show plainly in the panel: unknown model; assistant off says how to turn it on', async () => {
    ollama.queue({ status: 404, errorMessage: 'model "qwen2.5-coder:7b" not found, try pulling it first' });
    await page.click('[data-test=ai-mode-explain]');
    await page.click('[data-test=ai-ask]');
    await expect.poll(() => page.textContent('[data-test=ai-error]')).toMatch(/Ollama does not know the model "qwen2.5-coder:7b" \(HTTP 404/);

    await page.click('text=Account');
    await page.click('[data-test=ai-ollama-switch]');
    await expect.poll(() => page.textContent('[data-test=ai-status]')).toMatch(/The assistant is off/);
    await page.click('text=Strategies');
    await page.waitForSelector('[data-test=ai-off]');
    expect(await page.textContent('[data-test=ai-off]')).toMatch(/Turn it on in Account → AI assistant/);
  });
});
