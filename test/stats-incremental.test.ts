import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../electron/exchanges/brokers';
import { silentLogger } from '../electron/log';
import { StatsService } from '../electron/stats/service';
import { createTestDb, type TestDb } from './support/db';

/**
 * The ledger rebuilt after a fill for the filled market's base asset only gives exactly what a whole
 * rebuild of the account gives: a generated history on five markets sharing base assets (BTC/USDT
 * and BTC/EUR, the BTC opening holding; ETH/BTC spends BTC but its books are ETH's), manual, webhook
 * and bot books, partial sells, sells drawing from the opening holding and beyond it; then new fills
 * on one market, rebuilt incrementally, compared row by row with a whole rebuild. The other assets'
 * rows are not even rewritten.
 */

let tdb: TestDb;
let profileId: string;
let broker: Broker;
let stats: StatsService;
const MARKETS = ['BTC/USDT', 'BTC/EUR', 'ETH/USDT', 'ETH/BTC', 'SOL/USDT'];

beforeAll(async () => {
  tdb = await createTestDb();
  const db = tdb.db;
  profileId = (await db.query<{ id: string }>("INSERT INTO profiles (name, password_hash) VALUES ('inc', 'x') RETURNING id")).rows[0]!.id;
  const id = await db.withProfile(profileId, async (c) => (await c.query<{ id: string }>("INSERT INTO brokers (name, exchange, secret_ref) VALUES ('Main', 'binance', 'sec_x') RETURNING id")).rows[0]!.id);
  broker = { id, name: 'Main', exchange: 'binance', testnet: false, paper: false, paperSlippage: '0', isDefault: true, active: true, credentials: {}, createdAt: new Date().toISOString() } as Broker;
  const brokers = { list: async () => [broker], get: async () => broker, exchangeFor: async () => { throw new Error('no exchange here'); } };
  stats = new StatsService({ db, brokers: brokers as never, gateway: { info: () => ({ hasSandbox: false }) } as never, log: silentLogger(), snapshotIntervalMs: 0, snapshotAtStart: false });
  await db.withProfile(profileId, async (c) => {
    await c.query(`INSERT INTO webhook_requests (id, http_status, status, sender) SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 200, 'processed', 'tv-' || (g % 2) FROM generate_series(1, 3) g`);
    // held before the app: BTC valued in USDT, ETH in USDT
    await c.query("INSERT INTO stats_openings (broker_id, sandbox, asset, quantity, price, currency, seen_at) VALUES ($1, false, 'BTC', 0.05, 30000, 'USDT', now() - interval '400 days'), ($1, false, 'ETH', 0.4, 2000, 'USDT', now() - interval '400 days')", [id]);
    // a valuation of EUR and BTC for the trades quoted in them
    await c.query(
      `INSERT INTO equity_snapshots (broker_id, sandbox, taken_at, reason, currency, value, balances, flow_value)
       VALUES ($1, false, now() - interval '399 days', 'hourly', 'USDT', 1000, '{"EUR": {"total": "100", "price": "1.1", "value": "110"}, "BTC": {"total": "0.05", "price": "30000", "value": "1500"}}', 0)`,
      [id],
    );
  });
  await addFills(0, 600);
}, 120_000);
afterAll(async () => {
  await stats?.stop();
  await tdb?.close();
});

/** Orders i in [from, to): a buy then a sell of another size (books rotating), on the five markets in turn. */
async function addFills(from: number, to: number, only?: string): Promise<void> {
  await tdb.db.withProfile(profileId, (c) =>
    c.query(
      `WITH g AS (SELECT i, CASE i % 3 WHEN 0 THEN 'manual' WHEN 1 THEN 'webhook' ELSE 'strategy' END AS source,
                         COALESCE($5::text, ($4::text[])[1 + i % 5]) AS symbol,
                         (100 * (1 + 0.2 * sin(i / 30.0)))::numeric(20, 4) AS price
                    FROM generate_series($2::int, $3::int - 1) i),
            s AS (SELECT g.*, side, now() - interval '300 days' + make_interval(hours => i) + CASE side WHEN 'buy' THEN interval '0' ELSE interval '30 minutes' END AS at,
                         CASE side WHEN 'buy' THEN 0.01 + (i % 7) * 0.001 ELSE 0.008 + (i % 7) * 0.003 END AS qty,
                         CASE side WHEN 'buy' THEN price ELSE (price * (1 + 0.01 * sin(i)))::numeric(20, 4) END AS px
                    FROM g CROSS JOIN (VALUES ('buy'), ('sell')) v(side)),
            o AS (INSERT INTO orders (broker_id, exchange, source, source_ref, symbol, side, type, amount, client_order_id, status, filled, created_at)
                  SELECT $1, 'binance', source, CASE source WHEN 'webhook' THEN '00000000-0000-4000-8000-' || lpad((1 + i % 3)::text, 12, '0') WHEN 'strategy' THEN 'act-' || (i % 2) END,
                         symbol, side, 'market', qty, 'c' || i || side || symbol, 'filled', qty, at FROM s
                  RETURNING id, symbol, side, created_at)
       INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, fee, fee_currency, executed_at)
       SELECT o.id, $1, 'binance', o.symbol, o.side, o.id::text, s.px, s.qty, s.px * s.qty,
              CASE WHEN s.i % 4 = 0 THEN s.qty * 0.001 ELSE s.px * s.qty * 0.001 END, CASE WHEN s.i % 4 = 0 THEN split_part(o.symbol, '/', 1) ELSE split_part(o.symbol, '/', 2) END, o.created_at
         FROM o JOIN s ON s.symbol = o.symbol AND s.side = o.side AND s.at = o.created_at`,
      [broker.id, from, to, MARKETS, only ?? null],
    ),
  );
}

type Row = Record<string, unknown>;
const TRADE_COLS = 'key, closing_order_id, symbol, base, quote, source, ref, book, book_label, opened_at, closed_at, amount::text, entry_price::text, exit_price::text, cost::text, proceeds::text, fees::text, pnl::text, pnl_pct::text, from_opening::text, unmatched::text, currency, pnl_value::text, fees_value::text';
const LOT_COLS = 'symbol, base, quote, source, ref, book, book_label, quantity::text, unit_cost::text, opened_at';
async function snapshot(): Promise<{ trades: Row[]; lots: Row[]; ids: Map<string, string> }> {
  return tdb.db.withProfile(profileId, async (c) => {
    const trades = (await c.query<Row>(`SELECT ${TRADE_COLS} FROM stats_trades ORDER BY key`)).rows;
    const lots = (await c.query<Row>(`SELECT ${LOT_COLS} FROM stats_lots ORDER BY symbol, book, opened_at, quantity, unit_cost`)).rows;
    const ids = new Map((await c.query<{ key: string; id: string; base: string }>('SELECT key, id::text, base FROM stats_trades')).rows.map((r) => [r.key, `${r.base}:${r.id}`]));
    return { trades, lots, ids };
  });
}

describe('the ledger rebuilt for the filled market only', () => {
  it('gives exactly the rows of a whole rebuild, and leaves the other assets untouched', async () => {
    const full0 = await stats.rebuild(profileId, broker.id);
    expect(full0.scope).toBe('account');
    const before = await snapshot();
    expect(new Set(before.trades.map((t) => t.symbol))).toEqual(new Set(MARKETS));
    expect(before.trades.some((t) => t.from_opening !== '0' && t.base === 'BTC' && t.quote === 'USDT')).toBe(true);
    expect(before.trades.some((t) => t.unmatched !== '0')).toBe(true);
    expect(before.lots.length).toBeGreaterThan(0);

    // new fills on BTC/USDT only (its sells drawing from the opening holding): every BTC book is rebuilt, nothing else
    await addFills(600, 660, 'BTC/USDT');
    const inc = await stats.rebuild(profileId, broker.id, ['BTC/USDT']);
    expect(inc.scope).toEqual(['BTC']);
    expect(inc.mode).toBe('incremental');
    expect(inc.fills).toBe(120);
    const incremental = await snapshot();
    for (const [key, id] of before.ids) if (!id.startsWith('BTC:')) expect(incremental.ids.get(key)).toBe(id); // not rewritten
    expect(incremental.trades.length).toBeGreaterThan(before.trades.length);

    stats.forgetLedgers();
    const full = await stats.rebuild(profileId, broker.id);
    expect(full.scope).toBe('account');
    const whole = await snapshot();
    expect(incremental.trades).toEqual(whole.trades);
    expect(incremental.lots).toEqual(whole.lots);
  });

  it('fill after fill (new orders, a later partial fill of an order already closing lots, nothing new), each step equals a rebuild from the first fill', async () => {
    await stats.rebuild(profileId, broker.id);
    let i = 700;
    for (let step = 0; step < 8; step++) {
      let r;
      if (step === 3) {
        // nothing new: nothing is written
        r = await stats.rebuild(profileId, broker.id);
        expect(r).toMatchObject({ mode: 'incremental', scope: [], fills: 0, trades: 0 });
      } else if (step === 5) {
        // a second (later) fill of the latest ETH/USDT sell order: the trade it closes grows
        const key = await tdb.db.withProfile(profileId, async (c) => {
          const o = (await c.query<{ id: string; executed_at: Date; price: string }>("SELECT order_id AS id, executed_at, price::text FROM order_fills WHERE symbol = 'ETH/USDT' AND side = 'sell' ORDER BY executed_at DESC LIMIT 1")).rows[0]!;
          await c.query(
            "INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, fee, fee_currency, executed_at) VALUES ($1, $2, 'binance', 'ETH/USDT', 'sell', $3, $4, 0.004, $4::numeric * 0.004, 0.0001, 'BNB', $5::timestamptz + interval '1 minute')",
            [o.id, broker.id, `partial-${o.id}`, o.price, o.executed_at],
          );
          return (await c.query<{ key: string; amount: string }>('SELECT key, amount::text FROM stats_trades WHERE closing_order_id = $1', [o.id])).rows;
        });
        r = await stats.rebuild(profileId, broker.id);
        expect(r).toMatchObject({ mode: 'incremental', scope: ['ETH'], fills: 1 });
        const after = await tdb.db.withProfile(profileId, (c) => c.query<{ key: string; amount: string }>('SELECT key, amount::text FROM stats_trades WHERE key = ANY($1::text[])', [key.map((k) => k.key)]));
        expect(after.rows.reduce((s, x) => s + Number(x.amount), 0)).toBeGreaterThan(key.reduce((s, x) => s + Number(x.amount), 0));
      } else {
        const market = MARKETS[step % MARKETS.length]!;
        await addFills(i, i + 3, market);
        i += 3;
        r = await stats.rebuild(profileId, broker.id, [market]);
        expect(r).toMatchObject({ mode: 'incremental', scope: [market.split('/')[0]], fills: 6 });
      }
      const incremental = await snapshot();
      stats.forgetLedgers();
      expect((await stats.rebuild(profileId, broker.id)).mode).toBe('rebuilt');
      const whole = await snapshot();
      expect(incremental.trades).toEqual(whole.trades);
      expect(incremental.lots).toEqual(whole.lots);
    }
  });

  it('a fill older than the last one applied rebuilds its base asset from the first fill, and gives the rows of a whole rebuild', async () => {
    await stats.rebuild(profileId, broker.id);
    const before = await snapshot();
    // a SOL/USDT manual buy 299 days ago, recorded only now
    await tdb.db.withProfile(profileId, async (c) => {
      const o = (await c.query<{ id: string }>("INSERT INTO orders (broker_id, exchange, source, symbol, side, type, amount, client_order_id, status, filled, created_at) VALUES ($1, 'binance', 'manual', 'SOL/USDT', 'buy', 'market', 0.5, 'late-sol', 'filled', 0.5, now() - interval '299 days') RETURNING id", [broker.id])).rows[0]!;
      await c.query("INSERT INTO order_fills (order_id, broker_id, exchange, symbol, side, trade_id, price, amount, cost, executed_at) VALUES ($1, $2, 'binance', 'SOL/USDT', 'buy', 'late-sol', 50, 0.5, 25, now() - interval '299 days')", [o.id, broker.id]);
    });
    const r = await stats.rebuild(profileId, broker.id, ['SOL/USDT']);
    expect(r).toMatchObject({ mode: 'rebuilt-base', scope: ['SOL'] });
    const after = await snapshot();
    for (const [key, id] of before.ids) if (!id.startsWith('SOL:')) expect(after.ids.get(key)).toBe(id); // the other assets not rewritten
    // the late manual buy now covers manual SOL sells that were unmatched (or stays open)
    expect(after.trades).not.toEqual(before.trades.length === after.trades.length ? before.trades : []);
    stats.forgetLedgers();
    await stats.rebuild(profileId, broker.id);
    const whole = await snapshot();
    expect(after.trades).toEqual(whole.trades);
    expect(after.lots).toEqual(whole.lots);
    // and the next new fill is incremental again
    await addFills(800, 802, 'SOL/USDT');
    expect((await stats.rebuild(profileId, broker.id, ['SOL/USDT'])).mode).toBe('incremental');
  });

  it('falls back to the whole account when other trades were valued in another currency', async () => {
    await tdb.db.withProfile(profileId, (c) => c.query("UPDATE stats_trades SET currency = 'EUR' WHERE base = 'SOL'"));
    await addFills(660, 670, 'ETH/USDT');
    const r = await stats.rebuild(profileId, broker.id, ['ETH/USDT']);
    expect(r.scope).toBe('account');
    const after = await snapshot();
    expect(after.trades.filter((t) => t.currency !== 'USDT')).toEqual([]);
  });
});
