import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchangeSim, type ExchangeSim } from '../sim/exchange/server';
import { launchBrowser, openApp, startApp, type RunningApp } from '../support/app';
import { WsClient } from '../support/host';

/**
 * Manual trading end to end in Chromium, against the Binance simulator: the quantity ↔ amount
 * calculator, validate (orange → green), execute, the order in open orders, cancel, history; a
 * connection dropped while placing; another profile logging in on the same page.
 */

const KEY = 'E2eTradingKey00000000000000000000000000000000000000000000000001';
const SECRET = 'E2eTradingSecret0000000000000000000000000000000000000000000001';
const OTHER_KEY = 'E2eTradingKey00000000000000000000000000000000000000000000000002';
const OTHER_SECRET = 'E2eTradingSecret0000000000000000000000000000000000000000000002';
const SHOTS = process.env.ARISTOBOT_SCREENSHOTS ?? '/tmp/aristobot-trading-shots';

let browser: Browser;
let sim: ExchangeSim;
let app: RunningApp;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sim = await startExchangeSim({
    accounts: [
      { apiKey: KEY, secret: SECRET, balances: { USDT: '10000', BTC: '0.5' } },
      { apiKey: OTHER_KEY, secret: OTHER_SECRET, balances: { USDT: '500' } },
    ],
  });
  sim.series.setPrice('BTC/USDT', '60000');
  app = await startApp({ env: { ARISTOBOT_EXCHANGE_URL_binance: sim.url, ARISTOBOT_SECRETS_BACKEND: 'vault', ARISTOBOT_VAULT_PASSPHRASE: 'e2e-vault-passphrase' }, timeoutMs: 110_000 });
  // The profile and its broker, set up over the API (the Account page has its own tests).
  const ws = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
  await ws.call('profiles.create', { name: 'Trader', password: 'pw-12345' });
  await ws.call('profiles.login', { name: 'Trader', password: 'pw-12345' });
  await ws.call('brokers.create', { name: 'Sim', exchange: 'binance', credentials: { apiKey: KEY, secret: SECRET } });
  await ws.call('profiles.logout');
  await ws.call('profiles.create', { name: 'Other', password: 'pw-67890' });
  await ws.call('profiles.login', { name: 'Other', password: 'pw-67890' });
  await ws.call('brokers.create', { name: 'Other sim', exchange: 'binance', credentials: { apiKey: OTHER_KEY, secret: OTHER_SECRET } });
  ws.close();
  browser = await launchBrowser();
  page = await openApp(browser, app);
  await page.selectOption('[data-test=login-profile]', 'Trader');
  await page.fill('[data-test=login-password]', 'pw-12345');
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sim?.close();
});

const text = (sel: string) => page.textContent(sel).then((t) => t?.trim() ?? '');
async function loginAs(name: string, password: string): Promise<void> {
  await page.waitForSelector('[data-test=login]');
  await page.selectOption('[data-test=login-profile]', name);
  await page.fill('[data-test=login-password]', password);
  await page.click('[data-test=login-submit]');
  await page.waitForSelector('[data-test=header]');
}
/** Fills the ticket with a market buy of `amount` BTC and validates it. */
async function validMarketBuy(amount: string, cost: string): Promise<void> {
  await poll(() => text('[data-test=ticket-last]')).toBe('60,000 USDT');
  await page.click('[data-test=type-market]');
  await page.fill('[data-test=ticket-amount]', amount);
  await poll(() => inputValue('[data-test=ticket-cost]')).toBe(cost);
  await page.click('[data-test=validate]');
  await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('valid');
}
const inputValue = (sel: string) => page.inputValue(sel);
/** Waits (up to 15 s: the core syncs with the exchange on each refresh) until the value matches. */
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 15_000 });

/** Records every state (and its colour) the validation status goes through from now on. */
async function recordStatus(): Promise<() => Promise<{ state: string; color: string }[]>> {
  await page.evaluate(`(() => {
    const el = document.querySelector('[data-test=validation-status]');
    const seen = (window.__states = []);
    new MutationObserver(() => seen.push({ state: el.getAttribute('data-state'), color: getComputedStyle(el).color })).observe(el, { attributes: true, attributeFilter: ['data-state'] });
  })()`);
  return () => page.evaluate<{ state: string; color: string }[]>('window.__states');
}

describe('manual trading in Chromium', () => {
  it('portfolio, calculator, validate → execute → open order → cancel → history', async () => {
    await page.click('.sidebar >> text=Manual trading');
    await page.waitForSelector('[data-test=trading]');
    // the default broker is preselected, with its exchange's capabilities
    await poll(() => page.locator('[data-test=broker-select] option:checked').textContent()).toContain('Sim (binance');
    await poll(() => text('[data-test=cap-editOrder]')).toBe('✓ Order editing');
    await poll(() => text('[data-test=portfolio-total]')).toBe('40,000.00 USDT');
    expect(await text('[data-test=asset-BTC]')).toContain('30,000.00');
    // markets: filter by quote and search
    await page.click('[data-test=quote-USDC]');
    await poll(() => page.locator('[data-test^=market-][data-test*="/"]').count()).toBe(1); // BTC/USDC only
    await page.click('[data-test=quote-USDT]');
    await page.fill('[data-test=market-search]', 'btc');
    await poll(() => page.locator('[data-test="market-BTC/USDT"]').count()).toBe(1);
    await page.click('[data-test="market-BTC/USDT"]');
    await poll(() => text('[data-test=ticket-last]')).toBe('60,000 USDT');
    await page.screenshot({ path: join(SHOTS, '1-trading-page.png'), fullPage: true });

    // quantity → amount at the limit price, rounded down to the step (0.00001)
    await page.click('[data-test=type-limit]');
    await poll(() => inputValue('[data-test=ticket-price]')).toBe('60000');
    await page.fill('[data-test=ticket-price]', '59000');
    await page.fill('[data-test=ticket-amount]', '0.0123456');
    await poll(() => inputValue('[data-test=ticket-cost]')).toBe('728.06');
    expect(await text('[data-test=ticket-rounding]')).toContain('0.01234 BTC');
    expect(await text('[data-test=ticket-summary]')).toContain('Buy 0.01234 BTC at 59,000 USDT');
    // amount → quantity
    await page.fill('[data-test=ticket-cost]', '1000');
    await poll(() => inputValue('[data-test=ticket-amount]')).toBe('0.01694');
    await poll(() => text('[data-test=ticket-summary-cost]')).toBe('999.46 USDT');
    // below the minimum cost: said as you type
    await page.fill('[data-test=ticket-amount]', '0.00005');
    await poll(() => text('[data-test=ticket-hints]')).toContain('Cost 2.95 USDT is below the minimum 5 USDT');
    await page.fill('[data-test=ticket-amount]', '0.01');
    await poll(() => inputValue('[data-test=ticket-cost]')).toBe('590.00');

    // Execute needs a fresh validation; Validate goes orange (pending) then green (valid), with a timer
    expect(await page.isDisabled('[data-test=execute]')).toBe(true);
    const states = await recordStatus();
    await page.click('[data-test=validate]');
    await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('valid');
    expect(await states()).toEqual([
      { state: 'pending', color: 'rgb(255, 165, 0)' },
      { state: 'valid', color: 'rgb(0, 255, 136)' },
    ]);
    expect(await text('[data-test=validation-status]')).toMatch(/10000 USDT available, 590 needed .* s left to execute/);
    await page.screenshot({ path: join(SHOTS, '2-validated.png'), fullPage: true });

    await page.click('[data-test=execute]');
    await poll(() => text('[data-test=ticket-result]')).toBe('Order placed: buy 0.01 BTC limit at 59,000 (open).');
    const placed = sim.orders(KEY);
    expect(placed).toHaveLength(1);
    expect(placed[0]).toMatchObject({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', price: '59000.00000000', origQty: '0.01000000', status: 'NEW' });
    const clientOrderId = placed[0]!.clientOrderId;
    const row = `[data-test=order-${clientOrderId}]`;
    await page.waitForSelector(`[data-test=open-orders] ${row}`);
    expect(await text(`${row} [data-test=order-status]`)).toBe('open');
    // the funds it locks show as used
    await poll(() => text('[data-test=asset-USDT]')).toContain('590');
    await page.screenshot({ path: join(SHOTS, '3-open-order.png'), fullPage: true });

    // Modify: the exchange's edit (Binance: cancel-replace, said in the dialog) gives a new order
    await page.click(`[data-test=modify-${clientOrderId}]`);
    expect(await text('[data-test=modify-note]')).toContain('cancel-replace');
    await page.fill('[data-test=modify-price]', '58500');
    await page.screenshot({ path: join(SHOTS, '3b-modify.png') });
    await page.click('[data-test=modify-submit]');
    await poll(() => text('[data-test=orders-message]')).toMatch(/^Order modified by the exchange \(new order \d+: 0\.01 at 58,500\)\.$/);
    const replacement = sim.orders(KEY).find((o) => o.clientOrderId !== clientOrderId)!;
    expect(replacement).toMatchObject({ price: '58500.00000000', status: 'NEW' });
    expect(sim.orders(KEY).find((o) => o.clientOrderId === clientOrderId)?.status).toBe('CANCELED');
    const newRow = `[data-test=order-${replacement.clientOrderId}]`;
    await page.waitForSelector(`[data-test=open-orders] ${newRow}`);
    await poll(() => page.locator(`[data-test=open-orders] ${row}`).count()).toBe(0);

    await page.click(`[data-test=cancel-${replacement.clientOrderId}]`);
    await poll(() => text('[data-test=orders-message]')).toBe('Order BTC/USDT buy 0.01 cancelled.');
    await poll(() => page.locator(`[data-test=open-orders] ${newRow}`).count()).toBe(0);
    expect(sim.orders(KEY).map((o) => o.status)).toEqual(['CANCELED', 'CANCELED']);

    // History: both, newest first
    await page.click('[data-test=tab-history]');
    await page.waitForSelector(`[data-test=history-orders] ${row}`);
    expect(await page.locator('[data-test=history-orders] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-test')))).toEqual([
      `order-${replacement.clientOrderId}`,
      `order-${clientOrderId}`,
    ]);
    expect(await text(`[data-test=history-orders] ${row} [data-test=order-status]`)).toBe('cancelled');
    await page.screenshot({ path: join(SHOTS, '4-history.png'), fullPage: true });
  });

  it('a market buy fills; portfolio and positions follow; a refusal is shown verbatim', async () => {
    await page.click('[data-test=type-market]');
    await page.fill('[data-test=ticket-amount]', '0.002');
    await poll(() => inputValue('[data-test=ticket-cost]')).toBe('120.00');
    await page.click('[data-test=validate]');
    await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('valid');
    await page.click('[data-test=execute]');
    await poll(() => text('[data-test=ticket-result]')).toBe('Order placed: buy 0.002 BTC market (filled) — filled 0.002 BTC at 60,000.');
    await poll(() => text('[data-test=asset-BTC]')).toContain('0.501998');
    await page.click('[data-test=tab-positions]');
    await poll(() => text('[data-test="position-BTC/USDT"]')).toContain('0.001998 BTC');

    // the exchange refuses (simulated): the message from the core, verbatim
    sim.failNext('/api/v3/order', { status: 400, code: -2010, msg: 'Account has insufficient balance for requested action.', method: 'POST' });
    await page.click('[data-test=validate]');
    await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('valid');
    await page.click('[data-test=execute]');
    await poll(() => text('[data-test=ticket-result]')).toBe('binance: insufficient funds (code -2010: Account has insufficient balance for requested action.)');
    await page.screenshot({ path: join(SHOTS, '5-market-and-refusal.png'), fullPage: true });
  });

  it('the connection drops while an order is being placed: executing it again answers that order, never a second one', async () => {
    // Route the page's API connections, to see what it sends and to drop the connection.
    const connections: WebSocketRoute[] = [];
    const placed: { clientOrderId?: string }[] = [];
    await page.routeWebSocket(/\/api$/, (ws) => {
      const server = ws.connectToServer();
      connections.push(ws);
      ws.onMessage((m) => {
        const msg = JSON.parse(String(m)) as { method?: string; params?: { clientOrderId?: string } };
        if (msg.method === 'orders.place') placed.push(msg.params ?? {});
        server.send(m);
      });
    });
    await page.reload();
    await loginAs('Trader', 'pw-12345');
    await page.waitForSelector('[data-test=trading]');
    await validMarketBuy('0.001', '60.00');

    const before = sim.orders(KEY).length;
    sim.hangNextOrder(5000); // the exchange takes the order at once and answers after 5 s
    await page.click('[data-test=execute]');
    await poll(async () => sim.orders(KEY).length).toBe(before + 1);
    await connections.at(-1)!.close(); // no answer reaches the page
    await page.waitForSelector('[data-test=login]'); // a new connection is a new session
    const first = sim.orders(KEY).at(-1)!;
    expect(first.status).toBe('FILLED');
    const clientOrderId = first.clientOrderId;

    // The core settles the order meanwhile.
    const api = await WsClient.connect(`${app.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api?token=${app.token}`);
    await api.call('profiles.login', { name: 'Trader', password: 'pw-12345' });
    await poll(async () => (await api.call<{ status: string }[]>('orders.journal', { filters: { clientOrderId } }))[0]?.status).toBe('filled');
    api.close();

    // The same ticket again: the same client order id, so the core answers the order already placed.
    await loginAs('Trader', 'pw-12345');
    await page.waitForSelector('[data-test=trading]');
    await validMarketBuy('0.001', '60.00');
    await page.click('[data-test=execute]');
    await poll(() => text('[data-test=ticket-result]')).toBe('Order placed: buy 0.001 BTC market (filled) — filled 0.001 BTC at 60,000.');
    expect(sim.orders(KEY).length).toBe(before + 1); // one order, not two
    expect(clientOrderId).toMatch(/^a3m[0-9a-f]{24}$/); // made by the ticket…
    expect(placed.map((p) => p.clientOrderId)).toEqual([clientOrderId, clientOrderId]); // …and sent both times

    // Another ticket is another order, with a new client order id.
    await validMarketBuy('0.002', '120.00');
    await page.click('[data-test=execute]');
    await poll(() => text('[data-test=ticket-result]')).toBe('Order placed: buy 0.002 BTC market (filled) — filled 0.002 BTC at 60,000.');
    expect(placed).toHaveLength(3);
    expect(placed[2]!.clientOrderId).toMatch(/^a3m[0-9a-f]{24}$/);
    expect(placed[2]!.clientOrderId).not.toBe(clientOrderId);
    expect(sim.orders(KEY).length).toBe(before + 2);
  });

  it('an order that paid its fees in BNB, then in USDT once the BNB ran out, shows both in the history', async () => {
    sim.series.setPrice('BNB/USDT', '600');
    sim.setBalance(KEY, 'BNB', '0.0007');
    sim.payFeesIn(KEY, 'BNB');
    sim.setMaxFillPerTick('0.005'); // two fills: 0.3 USDT of fee each, the first paid with 0.0005 BNB
    try {
      await page.click('[data-test=side-sell]');
      await page.click('[data-test=type-market]');
      await page.fill('[data-test=ticket-amount]', '0.01');
      await page.click('[data-test=validate]');
      await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('valid');
      await page.click('[data-test=execute]');
      await poll(() => text('[data-test=ticket-result]')).toContain('(filled)');
      const sold = sim.orders(KEY).at(-1)!;
      expect(sim.trades(KEY).filter((t) => t.orderId === sold.orderId).map((t) => t.commissionAsset)).toEqual(['BNB', 'USDT']);
      await page.click('[data-test=tab-history]');
      const fees = `[data-test="order-${sold.clientOrderId}"] [data-test=order-fees]`;
      await poll(() => text(`${fees} [data-test=fee-BNB]`)).toBe('0.0005 BNB');
      expect(await text(`${fees} [data-test=fee-USDT]`)).toBe('0.3 USDT');
      await page.screenshot({ path: join(SHOTS, '5b-fees-in-two-currencies.png'), fullPage: true });
    } finally {
      sim.payFeesIn(KEY, null);
      sim.setMaxFillPerTick(null);
    }
  });

  it('another profile logging in never sees the previous one’s portfolio or orders', async () => {
    await page.reload();
    await loginAs('Trader', 'pw-12345');
    await page.click('.sidebar >> text=Manual trading');
    await page.waitForSelector('[data-test=trading]');
    await poll(() => text('[data-test=portfolio-total]')).toMatch(/^[\d,]+\.\d\d USDT$/);
    expect(await page.locator('[data-test=asset-BTC]').count()).toBe(1);
    await page.click('[data-test=logout]');
    await page.waitForSelector('[data-test=login]');
    // From here on, every portfolio total, asset and order row the page shows is recorded.
    await page.evaluate(`(() => {
      const seen = (window.__seen = []);
      const look = () => {
        const total = document.querySelector('[data-test=portfolio-total]');
        if (total) seen.push('total ' + total.textContent.trim());
        for (const el of document.querySelectorAll('[data-test^="asset-"], [data-test^="order-"], [data-test^="position-"]')) seen.push(el.getAttribute('data-test'));
        for (const el of document.querySelectorAll('[data-test=broker-select] option')) seen.push('broker ' + el.textContent.trim());
        for (const el of document.querySelectorAll('[data-test=orders-error]')) seen.push('error ' + el.textContent.trim());
      };
      new MutationObserver(look).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    await loginAs('Other', 'pw-67890');
    await page.waitForSelector('[data-test=trading]');
    await poll(() => text('[data-test=portfolio-total]')).toBe('500.00 USDT');
    await poll(() => page.locator('[data-test=broker-select] option:checked').textContent()).toContain('Other sim (binance');
    const seen = [...new Set(await page.evaluate<string[]>('window.__seen'))];
    expect(seen.filter((s) => s.startsWith('total '))).toEqual(['total 500.00 USDT']);
    expect(seen.filter((s) => s.startsWith('broker '))).toEqual(['broker Other sim (binance) — default']);
    expect(seen.filter((s) => !s.startsWith('total ') && !s.startsWith('broker '))).toEqual(['asset-USDT']); // no BTC, no orders, no errors
    await page.screenshot({ path: join(SHOTS, '6-other-profile.png'), fullPage: true });
  });

  it('in French, the order check words every line in French: as you type, on Validate, and an order refused by the check at Execute', async () => {
    // (still the profile "Other", 500 USDT)
    await page.evaluate(`location.hash = '#/account'`);
    await page.click('[data-test=lang-fr]');
    await poll(() => page.getAttribute('html', 'lang')).toBe('fr');
    await page.evaluate(`location.hash = '#/trading'`);
    await page.waitForSelector('[data-test=trading]');
    await page.fill('[data-test=market-search]', 'btc');
    await page.click('[data-test="market-BTC/USDT"]');
    await poll(() => text('[data-test=ticket-last]')).toMatch(/^60\s?000 USDT$/);
    await page.click('[data-test=type-limit]');
    await page.fill('[data-test=ticket-price]', '59000.005');
    await page.fill('[data-test=ticket-amount]', '0.00001');
    // as you type: the quick check's lines, in French
    await poll(() => page.locator('[data-test=ticket-problem]').allTextContents()).toEqual([
      'Le prix 59\u202f000,005 n’est pas un multiple de l’échelon de prix 0,01 (prix valide le plus proche : 59\u202f000,01)',
      'Le montant 0,59000005 USDT est inférieur au minimum de 5 USDT',
    ]);
    // Validate: the same lines in the status
    await page.click('[data-test=validate]');
    await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('invalid');
    expect(await text('[data-test=validation-status]')).toBe(
      'Le prix 59\u202f000,005 n’est pas un multiple de l’échelon de prix 0,01 (prix valide le plus proche : 59\u202f000,01) ; Le montant 0,59000005 USDT est inférieur au minimum de 5 USDT',
    );
    // Validated, then the balance drops before Execute: the check refuses the order, in French
    await page.fill('[data-test=ticket-price]', '59000');
    await page.fill('[data-test=ticket-amount]', '0.008');
    await page.click('[data-test=validate]');
    await poll(() => page.getAttribute('[data-test=validation-status]', 'data-state')).toBe('valid');
    expect(await text('[data-test=validation-status]')).toContain('500 USDT disponible, 472 nécessaire');
    sim.setBalance(OTHER_KEY, 'USDT', '100');
    const posts = sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length;
    await page.click('[data-test=execute]');
    await poll(() => text('[data-test=ticket-result]')).toBe('Solde USDT insuffisant : l’ordre demande 472 USDT, 100 USDT disponible');
    expect(sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length).toBe(posts);
    await page.screenshot({ path: join(SHOTS, '7-refused-by-the-check-fr.png'), fullPage: true });
  });
});
