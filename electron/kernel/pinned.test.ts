/**
 * The kernel's full result, pinned: 100 k synthetic candles through every template and the fixture
 * strategies, in both fill modes, with and without shorts, fees, slippage, amount steps, stops and
 * take-profits. Each case's result (every trade field, the equity curve and exposure byte for byte,
 * every decision, the refusals, and the metrics of electron/backtest/metrics.ts) is reduced to a SHA-256 digest.
 *
 * The digests were computed by the kernel as it stood BEFORE the speed work of issue 11 (commit
 * 63b7721, the loop that called every should*() per candle): any change of the loop's design must
 * give the same results bit for bit. If a digest changes, the simulation changed — find out why
 * before touching a digest (the exactness tests say what the right figures are).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeMetrics } from '../backtest/metrics';
import { Kernel } from './index';
import { EMA_CROSS, SMA_CROSS, compile, synthetic } from './fixtures/strategies';
import type { SimConfig, SimResult } from './types';

const kernel = new Kernel({ memoryMb: 512 });
const N = 100_000;
const candles = synthetic(N, 7);
const template = (name: string): string => readFileSync(resolve(import.meta.dirname, '../../resources/strategies', `${name}.ts`), 'utf8');

const OPEN_SHORT: SimConfig = { initialBalance: 10_000, fees: { maker: 0.0002, taker: 0.0004 }, slippageBps: 1, fillAt: 'open', allowShort: true, amountStep: 0.00001, minAmount: 0 };
const CLOSE_LONG: SimConfig = { initialBalance: 5_000, fees: { maker: 0.001, taker: 0.001 }, slippageBps: 0, fillAt: 'close', allowShort: false, amountStep: 0.001, minAmount: 0.002 };
const ENTRY_PRICE: SimConfig = { initialBalance: 10_000, fees: { maker: 0.002, taker: 0.002 }, slippageBps: 0, fillAt: 'open', allowShort: true, amountStep: 1e-6, minAmount: 0, feeModel: 'entry_price', closeAtEnd: false };

function digest(r: SimResult, cfg: SimConfig): string {
  const h = createHash('sha256');
  const f = new Float64Array(14);
  for (const t of r.trades) {
    f.set([t.side === 'long' ? 1 : -1, t.entryIndex, t.exitIndex, t.entryTime, t.exitTime, t.entryPrice, t.exitPrice, t.amount, t.fees, t.pnl, t.pnlPct, t.balanceAfter, t.stopLoss ?? NaN, t.takeProfit ?? NaN]);
    h.update(new Uint8Array(f.buffer));
    h.update(t.exitReason);
  }
  h.update(new Uint8Array(r.equity.buffer, r.equity.byteOffset, r.equity.byteLength));
  h.update(new Uint8Array(r.exposure.buffer, r.exposure.byteOffset, r.exposure.byteLength));
  h.update(JSON.stringify(r.decisions));
  h.update(JSON.stringify([r.finalEquity, r.firstDecisionIndex, r.refused]));
  h.update(JSON.stringify(computeMetrics(r, candles, cfg)));
  return h.digest('hex');
}

const CASES: { name: string; src: string; params?: Record<string, number>; cfg: SimConfig; digest: string }[] = [
  { name: 'EMA cross fixture, fills at the open, shorts, fees + slippage + step', src: EMA_CROSS, params: { fast: 12, slow: 26, size: 1 }, cfg: OPEN_SHORT, digest: '9cca438bff15e463bc029ceb72a4381392c02f630431855acefc578a1458679c' },
  { name: 'SMA cross fixture, fills at the close, long only, minimum amount', src: SMA_CROSS, params: { fast: 5, slow: 40, size: 0.7 }, cfg: CLOSE_LONG, digest: '869642b0f63f3a37555c153f97744bd098c65a139d61a089feeab5778af33a03' },
  { name: 'SMA cross fixture, fee folded into the entry price, open at the end', src: SMA_CROSS, cfg: ENTRY_PRICE, digest: 'b56b9c5f0db06c0b98832a966b7b9fd9f3efdb20c52f1c528ba1f2c7cd41c29f' },
  { name: 'EMA cross template (stop-loss), open + shorts', src: template('ema-cross'), cfg: OPEN_SHORT, digest: 'f00b8132176d0aad503d41416786201e6e5ee2c2129e1c2d89486c4427c53698' },
  { name: 'EMA cross template (stop-loss), close, long only', src: template('ema-cross'), cfg: CLOSE_LONG, digest: 'ec01357e086e62006999918262fba8f9477e0706c4822cd31fd7e644f1a41f94' },
  { name: 'RSI mean reversion template (stop + take-profit + exit), open + shorts', src: template('rsi-mean-reversion'), params: { period: 6 }, cfg: OPEN_SHORT, digest: 'c773f54200932680cb7734d4e77fc904081748548a009ea6d0213de3cc8f404f' },
  { name: 'RSI mean reversion template, close, long only', src: template('rsi-mean-reversion'), params: { period: 6 }, cfg: CLOSE_LONG, digest: '43622f4d79688db2797b3c9d246b35a75ebe4a9a8a23d391559ae69694471ac9' },
  { name: 'Bollinger breakout template (stop + exit), open + shorts', src: template('bollinger-breakout'), params: { width: 1.5 }, cfg: OPEN_SHORT, digest: 'd917ca9e212dccd554acfecfd08541cc1c44726e44de859d424448c927b0b3f5' },
  { name: 'Bollinger breakout template, close, long only', src: template('bollinger-breakout'), params: { width: 1.5 }, cfg: CLOSE_LONG, digest: 'e474f6a6069c68aa7401a86723ea954cbb3619d0b81912484f723e8c746d8102' },
  { name: 'base template, open + shorts', src: template('base'), cfg: OPEN_SHORT, digest: 'ddbee0995fb22eae82964d95cd0e1cf8343b7fe5160c50684ee1f00079f9a97d' },
];

describe('the kernel result on 100 k candles is pinned bit for bit', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const r = await kernel.backtest(compile(c.src), c.params, candles, c.cfg);
      expect(r.trades.length).toBeGreaterThan(0);
      expect(digest(r, c.cfg)).toBe(c.digest);
    });
  }
});
