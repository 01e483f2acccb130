import ccxt, { type Exchange } from 'ccxt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pointExchangeAt } from '../../../electron/exchanges/urls';
import { startExchangeSim, type ExchangeSim } from './server';
import { generateCredentials, signedQuery } from './signing';

/**
 * Conditional orders in the simulator, driven by CCXT's real `binance` class: STOP_LOSS /
 * TAKE_PROFIT (and their *_LIMIT forms) rest untriggered with their funds locked, trigger when the
 * price crosses the stop price, and an OCO list (POST /api/v3/orderList/oco) expires its other leg
 * when one triggers. A symbol without the stop types refuses them.
 */

const SYMBOL = 'BTC/USDT';
let sim: ExchangeSim;

function client(balances: Record<string, string> = { USDT: '10000', BTC: '0.5' }): { ex: Exchange; apiKey: string; secret: string } {
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances });
  const ex = new ccxt.binance({ apiKey: creds.apiKey, secret: creds.secret, enableRateLimit: false, timeout: 5000 });
  pointExchangeAt(ex, sim.url);
  return { ex, ...creds };
}

const btc = (apiKey: string): { free: string; locked: string } => {
  const b = sim.balances(apiKey)['BTC']!;
  return { free: String(Number(b.free)), locked: String(Number(b.locked)) };
};

type OcoParams = Record<string, string | number>;
const oco = (ex: Exchange, params: OcoParams): Promise<Record<string, unknown>> => (ex as unknown as { privatePostOrderListOco(p: OcoParams): Promise<Record<string, unknown>> }).privatePostOrderListOco(params);

beforeAll(async () => {
  sim = await startExchangeSim({ markets: [{ symbol: 'BTC/USDT' }, { symbol: 'ETH/USDT', orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET'] }] });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.series.setPrice(SYMBOL, '60000');
  sim.series.setPrice('ETH/USDT', '3000');
});

describe('stop orders', () => {
  it('a STOP_LOSS sell placed through CCXT rests with its coins locked, then sells at market when the price falls to it', async () => {
    const { ex, apiKey } = client();
    await ex.loadMarkets();
    const o = await ex.createOrder(SYMBOL, 'market', 'sell', 0.1, undefined, { stopLossPrice: 55000, clientOrderId: 'sl-1' });
    expect(o.status).toBe('open');
    expect(o.clientOrderId).toBe('sl-1');
    expect(o.triggerPrice).toBe(55000);
    expect(sim.orders(apiKey)[0]?.type).toBe('STOP_LOSS');
    expect(btc(apiKey)).toEqual({ free: '0.4', locked: '0.1' });
    sim.series.setPrice(SYMBOL, '56000');
    sim.tick();
    expect((await ex.fetchOrder(o.id!, SYMBOL)).status).toBe('open');
    sim.series.setPrice(SYMBOL, '54900');
    sim.tick();
    const done = await ex.fetchOrder(o.id!, SYMBOL);
    expect(done.status).toBe('closed');
    expect(done.filled).toBe(0.1);
    expect(done.average).toBe(54900);
    expect(btc(apiKey)).toEqual({ free: '0.4', locked: '0' });
  });

  it('refuses a stop that would trigger at once, a missing stop price, and stop types the symbol does not list', async () => {
    const { ex, apiKey, secret } = client();
    await ex.loadMarkets();
    await expect(ex.createOrder(SYMBOL, 'market', 'sell', 0.1, undefined, { stopLossPrice: 61000 })).rejects.toThrow(/Stop price would trigger immediately/);
    await expect(ex.createOrder(SYMBOL, 'market', 'sell', 0.1, undefined, { takeProfitPrice: 59000 })).rejects.toThrow(/Stop price would trigger immediately/);
    // CCXT itself refuses a type the market's orderTypes do not list
    await expect(ex.createOrder('ETH/USDT', 'market', 'sell', 0.1, undefined, { stopLossPrice: 2500 })).rejects.toThrow(/not allowed/);
    // and the simulator on the wire
    const res = await fetch(`${sim.url}/api/v3/order`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': apiKey, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: signedQuery(secret, { symbol: 'ETHUSDT', side: 'SELL', type: 'STOP_LOSS', quantity: '0.1', stopPrice: '2500', timestamp: Date.now() }),
    });
    expect(await res.json()).toEqual({ code: -2010, msg: 'Stop loss orders are not supported for this symbol.' });
    expect(sim.orders(apiKey)).toHaveLength(0);
    expect(ex.markets!['ETH/USDT']!.info.ocoAllowed).toBe(false);
    expect(ex.markets![SYMBOL]!.info.ocoAllowed).toBe(true);
  });

  it('an OCO sell locks its coins once; the price crossing the take-profit fills it and expires the stop-loss', async () => {
    const { ex, apiKey } = client();
    await ex.loadMarkets();
    const list = await oco(ex, { symbol: 'BTCUSDT', side: 'SELL', quantity: '0.2', aboveType: 'TAKE_PROFIT', aboveStopPrice: '65000', aboveClientOrderId: 'p-tp', belowType: 'STOP_LOSS', belowStopPrice: '55000', belowClientOrderId: 'p-sl', listClientOrderId: 'p' });
    expect(list['contingencyType']).toBe('OCO');
    expect((list['orders'] as { clientOrderId: string }[]).map((o) => o.clientOrderId)).toEqual(['p-tp', 'p-sl']);
    expect(btc(apiKey)).toEqual({ free: '0.3', locked: '0.2' });
    const open = await ex.fetchOpenOrders(SYMBOL);
    expect(open.map((o) => o.clientOrderId).sort()).toEqual(['p-sl', 'p-tp']);
    sim.series.setPrice(SYMBOL, '65100');
    sim.tick();
    const tp = await ex.fetchOrder('', SYMBOL, { clientOrderId: 'p-tp' });
    const sl = await ex.fetchOrder('', SYMBOL, { clientOrderId: 'p-sl' });
    expect(tp.status).toBe('closed');
    expect(tp.filled).toBe(0.2);
    expect(sl.status).toBe('expired');
    expect(btc(apiKey)).toEqual({ free: '0.3', locked: '0' });
    expect(await ex.fetchOpenOrders(SYMBOL)).toHaveLength(0);
  });

  it('cancelling one leg cancels the list; prices on the wrong side and a bad signature are refused', async () => {
    const { ex, apiKey, secret } = client();
    await ex.loadMarkets();
    await expect(oco(ex, { symbol: 'BTCUSDT', side: 'SELL', quantity: '0.1', aboveType: 'TAKE_PROFIT', aboveStopPrice: '59000', belowType: 'STOP_LOSS', belowStopPrice: '55000' })).rejects.toThrow(/relationship of the prices/);
    await expect(oco(ex, { symbol: 'ETHUSDT', side: 'SELL', quantity: '0.1', aboveType: 'TAKE_PROFIT', aboveStopPrice: '3500', belowType: 'STOP_LOSS', belowStopPrice: '2500' })).rejects.toThrow(/OCO orders are not supported/);
    const forged = await fetch(`${sim.url}/api/v3/orderList/oco`, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': apiKey, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: signedQuery(`${secret}x`, { symbol: 'BTCUSDT', side: 'SELL', quantity: '0.1', aboveType: 'TAKE_PROFIT', aboveStopPrice: '65000', belowType: 'STOP_LOSS', belowStopPrice: '55000', timestamp: Date.now() }),
    });
    expect(await forged.json()).toEqual({ code: -1022, msg: 'Signature for this request is not valid.' });
    expect(sim.orders(apiKey)).toHaveLength(0);
    await oco(ex, { symbol: 'BTCUSDT', side: 'SELL', quantity: '0.1', aboveType: 'TAKE_PROFIT', aboveStopPrice: '65000', aboveClientOrderId: 'c-tp', belowType: 'STOP_LOSS', belowStopPrice: '55000', belowClientOrderId: 'c-sl' });
    const sl = await ex.fetchOrder('', SYMBOL, { clientOrderId: 'c-sl' });
    await ex.cancelOrder(sl.id!, SYMBOL);
    expect(sim.orders(apiKey).map((o) => o.status)).toEqual(['CANCELED', 'CANCELED']);
    expect(btc(apiKey)).toEqual({ free: '0.5', locked: '0' });
  });
});
