/**
 * `decideKept` (the live bot's decision on a context kept between calls) answers exactly as
 * `decide` (a fresh context per call) on every window, and recovers after a failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Kernel } from './index';
import { BASE_CONFIG, SMA_CROSS, compile, synthetic } from './fixtures/strategies';
import type { Columns } from './types';

const kernel = new Kernel({ callTimeoutMs: 300 });
afterAll(() => kernel.dispose());

const cut = (c: Columns, k: number): Columns => ({ time: c.time.slice(0, k), open: c.open.slice(0, k), high: c.high.slice(0, k), low: c.low.slice(0, k), close: c.close.slice(0, k), volume: c.volume.slice(0, k) });

describe('decideKept', () => {
  it('answers as decide() (and the backtest) on every window, with or without a position', async () => {
    const cols = synthetic(400);
    const r = await kernel.backtest(compile(SMA_CROSS), { fast: 5, slow: 12 }, cols, { ...BASE_CONFIG, initialBalance: 10_000, allowShort: true });
    expect(r.decisions.length).toBeGreaterThan(3);
    const sb = await kernel.load(compile(SMA_CROSS));
    try {
      let positions = 0;
      for (let k = 13; k <= 400; k += 7) {
        const open = r.trades.find((t) => t.entryIndex < k && t.exitIndex >= k);
        if (open) positions++;
        const state = { position: open ? { side: open.side, amount: open.amount, entryPrice: open.entryPrice } : null, balance: 10_000 };
        const kept = await sb.decideKept({ fast: 5, slow: 12 }, cut(cols, k), state, { allowShort: true });
        const fresh = await sb.decide({ fast: 5, slow: 12 }, cut(cols, k), state, { allowShort: true });
        expect(kept).toEqual(fresh);
      }
      expect(positions).toBeGreaterThan(0);
    } finally {
      sb.dispose();
    }
  });

  it('a throwing or runaway decision fails with the strategy error; the next decision works on a fresh context', async () => {
    const src = `import { Strategy } from 'aristobot';
let calls = 0;
export default class Flaky extends Strategy {
  static warmup = 1;
  static params = { mode: { default: 0, min: 0, max: 2 } };
  shouldLong(): boolean {
    calls++;
    if (this.params.mode === 1) throw new Error('boom ' + calls);
    if (this.params.mode === 2) { for (;;) {} }
    return true;
  }
  shouldShort() { return false; }
}
`;
    const sb = await kernel.load(compile(src));
    try {
      const w = cut(synthetic(50), 50);
      const st = { position: null, balance: 100 };
      expect(await sb.decideKept({ mode: 0 }, w, st, { allowShort: false })).toMatchObject({ action: 'open_long' });
      await expect(sb.decideKept({ mode: 1 }, w, st, { allowShort: false })).rejects.toMatchObject({ code: 'strategy_error', message: expect.stringMatching(/^Error: boom 2 \(line 8, column \d+\) in shouldLong\(\)/) });
      // a fresh context: the module's counter starts again
      await expect(sb.decideKept({ mode: 1 }, w, st, { allowShort: false })).rejects.toMatchObject({ message: expect.stringMatching(/boom 1/) });
      await expect(sb.decideKept({ mode: 2 }, w, st, { allowShort: false })).rejects.toMatchObject({ code: 'strategy_timeout' });
      expect(await sb.decideKept({ mode: 0 }, w, st, { allowShort: false })).toMatchObject({ action: 'open_long' });
    } finally {
      sb.dispose();
    }
  });
});
