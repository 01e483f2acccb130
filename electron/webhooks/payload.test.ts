import Decimal from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { bookFromFills, unrealised } from './book';
import { AlertError, marketKey, parseAlert, scrubRaw, tickerKey, webhookClientOrderId } from './payload';

const d = (x: string) => new Decimal(x);
const fill = (side: 'buy' | 'sell', amount: string, price: string, fee?: [string, string]) => ({ side, amount: d(amount), price: d(price), fee: fee ? d(fee[0]) : null, feeCurrency: fee ? fee[1] : null });
const M = { base: 'BTC', quote: 'USDT' };

describe('the alert payload', () => {
  it('TradingView tickers resolve to one key', () => {
    expect(tickerKey('BINANCE:BTCUSDT')).toEqual({ key: 'BTCUSDT', perpetual: false });
    expect(tickerKey('BTCUSDT.P')).toEqual({ key: 'BTCUSDT', perpetual: true });
    expect(tickerKey('btc/usdt')).toEqual({ key: 'BTCUSDT', perpetual: false });
    expect(marketKey('BTC/USDT:USDT')).toEqual({ key: 'BTCUSDT', swap: true });
    expect(marketKey('BTC/USDT')).toEqual({ key: 'BTCUSDT', swap: false });
  });

  it('actions are case-insensitive; amounts come as strings or numbers', () => {
    const a = parseAlert({ action: 'buymarket', id: 'x', symbol: 'BTCUSDT', amount: 0.5, sl: '100', tp: '200' });
    expect([a.action, a.amount!.toFixed(), a.sl!.toFixed(), a.tp!.toFixed()]).toEqual(['BuyMarket', '0.5', '100', '200']);
    expect(parseAlert({ action: 'PING', expect: '5' }).expect).toBe(5);
    // empty optional fields (a template's "sl": "") are absent
    expect(parseAlert({ action: 'BuyMarket', id: 'x', symbol: 'BTCUSDT', amount: '1', sl: '', tp: '' }).sl).toBeNull();
  });

  it.each([
    [{ action: 'BuyMarket', id: 'x', symbol: 'S', amount: 'NaN' }, /must be a number/],
    [{ action: 'BuyMarket', id: 'x', symbol: 'S', amount: '0' }, /greater than 0/],
    [{ action: 'BuyMarket', id: 'x', symbol: 'S', amount: '1e400' }, /must be a number/],
    [{ action: 'BuyMarket', id: 'x', symbol: 'S', amount: {} }, /must be a number/],
    [{ action: 'BuyMarket', id: 'x', symbol: 'S', amount: '1', sl: '5', tp: '4' }, /below the take-profit/],
    [{ action: 'MAJ', id: 'x', symbol: 'S' }, /give "sl", "tp" or both/],
    [{ action: 'PING', expect: 0 }, /"expect"/],
    [{ action: 'PING', expect: 2.5 }, /"expect"/],
    [{ action: 42 }, /"action" is required/],
    [{ action: 'BuyMarket', id: 'x'.repeat(201), symbol: 'S', amount: '1' }, /longer than 200/],
  ])('refuses %j', (body, reason) => {
    let err: unknown;
    try {
      parseAlert(body as Record<string, unknown>);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AlertError);
    expect((err as AlertError).status).toBe(422);
    expect((err as Error).message).toMatch(reason);
  });

  it('secrets are scrubbed from raw bodies', () => {
    expect(scrubRaw('{"secret": "abc\\"def", "x": 1}')).toBe('{"secret": "•••", "x": 1}');
    expect(scrubRaw('{"SECRET":12345,"a":2')).toBe('{"SECRET":"•••","a":2');
  });

  it('client order ids are stable, per profile, and valid on Binance', () => {
    const a = webhookClientOrderId('p1', 'alert-1');
    expect(a).toMatch(/^a3w[0-9a-f]{30}$/);
    expect(webhookClientOrderId('p1', 'alert-1')).toBe(a);
    expect(webhookClientOrderId('p2', 'alert-1')).not.toBe(a);
  });
});

describe('the webhook book (FIFO)', () => {
  it('sells consume the oldest lots first; realised P&L from those lots', () => {
    const b = bookFromFills([fill('buy', '1', '100'), fill('buy', '1', '200'), fill('sell', '1.5', '300')], M);
    expect(b.quantity.toFixed()).toBe('0.5');
    expect(b.averageEntry!.toFixed()).toBe('200');
    // 1 × (300 − 100) + 0.5 × (300 − 200)
    expect(b.realisedPnl.toFixed()).toBe('250');
    expect(unrealised(b, d('260'))!.toFixed()).toBe('30');
  });

  it('fees: in the base currency reduce what is held; in the quote currency raise the cost and lower the proceeds', () => {
    const b = bookFromFills([fill('buy', '1', '100', ['0.001', 'BTC']), fill('sell', '0.5', '120', ['0.06', 'USDT'])], M);
    expect(b.quantity.toFixed()).toBe('0.499');
    // cost 100 for 0.999 BTC; 0.5 sold for 60 − 0.06: 59.94 − 0.5 × 100/0.999
    expect(b.realisedPnl.toFixed()).toBe('9.88994994994994995');
  });

  it('never goes below zero: a sale beyond the book counts only the part the book held', () => {
    const b = bookFromFills([fill('buy', '1', '100'), fill('sell', '2', '150')], M);
    expect(b.quantity.toFixed()).toBe('0');
    expect(b.averageEntry).toBeNull();
    expect(b.realisedPnl.toFixed()).toBe('50');
  });
});
