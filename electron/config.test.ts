import { describe, expect, it } from 'vitest';
import { loadConfig, MIN_TOKEN_LENGTH, securityWarnings } from './config';

describe('securityWarnings (npm run serve)', () => {
  it('warns about a weak ARISTOBOT_TOKEN and a non-loopback ARISTOBOT_HOST over plain HTTP, and only then', () => {
    const w = (env: Record<string, string>) => securityWarnings(loadConfig({ ARISTOBOT_DATA_DIR: '/tmp/x', ...env }));
    expect(w({})).toEqual([]); // random token, 127.0.0.1
    expect(w({ ARISTOBOT_TOKEN: 'x'.repeat(MIN_TOKEN_LENGTH) })).toEqual([]);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(w({ ARISTOBOT_HOST: host })).toEqual([]);
    expect(w({ ARISTOBOT_TOKEN: 'secret' })).toEqual([expect.stringMatching(/ARISTOBOT_TOKEN is weak \(6 characters\)/)]);
    for (const host of ['0.0.0.0', '192.168.1.20', '::', 'my-box.lan']) expect(w({ ARISTOBOT_HOST: host })).toEqual([expect.stringMatching(/plain HTTP/)]);
    expect(w({ ARISTOBOT_HOST: '0.0.0.0', ARISTOBOT_TOKEN: 'short' })).toHaveLength(2);
  });
});

describe('ARISTOBOT_BACKTEST_RESERVE_CANDLES', () => {
  it('defaults to 1 M candles, takes a whole number, and refuses anything else by name', () => {
    const c = (v?: string) => loadConfig({ ARISTOBOT_DATA_DIR: '/tmp/x', ...(v === undefined ? {} : { ARISTOBOT_BACKTEST_RESERVE_CANDLES: v }) }).backtestReserveCandles;
    expect(c()).toBe(1_000_000);
    expect(c('0')).toBe(0);
    expect(c('10000000')).toBe(10_000_000);
    for (const bad of ['-1', '1.5', 'lots', '60000000']) expect(() => c(bad)).toThrow(/ARISTOBOT_BACKTEST_RESERVE_CANDLES must be a whole number of candles/);
  });
});
