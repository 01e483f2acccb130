import { describe, expect, it } from 'vitest';
import { candleCloseTime, floorToTimeframe, fromBinanceId, isTimeframe, klineStreamName, SymbolIndex, TIMEFRAMES, timeframeMinutes, timeframeMs, toBinanceId } from './timeframes';

describe('timeframes', () => {
  it('lists the timeframes with their lengths', () => {
    expect(TIMEFRAMES).toEqual(['1m', '3m', '5m', '10m', '15m', '1h', '2h', '4h']);
    expect(TIMEFRAMES.map(timeframeMinutes)).toEqual([1, 3, 5, 10, 15, 60, 120, 240]);
    expect(timeframeMs('4h')).toBe(4 * 3600_000);
    expect(isTimeframe('15m')).toBe(true);
    expect(isTimeframe('30m')).toBe(false);
    expect(isTimeframe('toString')).toBe(false);
  });

  it('floors to UTC boundaries (4h candles open at 00:00, 04:00 … UTC)', () => {
    const t = Date.UTC(2024, 1, 29, 23, 59, 59, 999);
    expect(new Date(floorToTimeframe(t, '4h')).toISOString()).toBe('2024-02-29T20:00:00.000Z');
    expect(new Date(floorToTimeframe(t, '2h')).toISOString()).toBe('2024-02-29T22:00:00.000Z');
    expect(new Date(floorToTimeframe(t, '15m')).toISOString()).toBe('2024-02-29T23:45:00.000Z');
    expect(new Date(floorToTimeframe(t, '3m')).toISOString()).toBe('2024-02-29T23:57:00.000Z');
    expect(new Date(floorToTimeframe(t + 1, '4h')).toISOString()).toBe('2024-03-01T00:00:00.000Z');
    expect(floorToTimeframe(Date.UTC(2024, 0, 1, 4), '4h')).toBe(Date.UTC(2024, 0, 1, 4));
    // every 4h boundary of a day, for any day
    for (let h = 0; h < 24; h++) expect(new Date(floorToTimeframe(Date.UTC(2023, 6, 15, h, 30), '4h')).getUTCHours()).toBe(h - (h % 4));
    expect(candleCloseTime(Date.UTC(2024, 0, 1), '1h')).toBe(Date.UTC(2024, 0, 1, 1) - 1);
  });

  it('maps CCXT symbols and Binance ids through the market list, never by guessing a split', () => {
    const markets = [
      { symbol: 'BTC/USDT', id: 'BTCUSDT' },
      { symbol: 'ETH/BTC', id: 'ETHBTC' },
      { symbol: '1000SATS/USDT', id: '1000SATSUSDT' },
      { symbol: 'BNB/USDC', base: 'BNB', quote: 'USDC' },
    ];
    const ix = new SymbolIndex(markets);
    expect(ix.toExchangeId('ETH/BTC')).toBe('ETHBTC');
    expect(ix.toStreamSymbol('1000SATS/USDT')).toBe('1000satsusdt');
    expect(ix.fromExchangeId('ETHBTC')).toBe('ETH/BTC');
    expect(ix.fromExchangeId('ethbtc')).toBe('ETH/BTC');
    expect(ix.fromExchangeId('1000satsusdt')).toBe('1000SATS/USDT');
    expect(ix.fromExchangeId('BNBUSDC')).toBe('BNB/USDC');
    expect(ix.fromExchangeId('ETHUSDT')).toBeUndefined();
    expect(ix.toExchangeId('DOGE/USDT')).toBeUndefined();
    expect(ix.has('BTC/USDT')).toBe(true);
    expect(ix.size).toBe(4);
    expect(toBinanceId('BTC/USDT', markets)).toBe('BTCUSDT');
    expect(fromBinanceId('btcusdt', markets)).toBe('BTC/USDT');
    expect(klineStreamName('BTCUSDT')).toBe('btcusdt@kline_1m');
  });
});
