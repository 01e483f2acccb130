import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '../electron/db/database';
import type { OrderRow } from '../electron/trading/journal';
import type { PlaceRequest } from '../electron/trading/orders';
import { asOwner } from './support/db';
import { waitFor } from './sim/stream/wait';
import { HOLD_STRATEGY, startLiveBot, type LiveBot } from './support/live-bot';

/**
 * The engine requests a decision's order as soon as the strategy has decided: it does not wait for
 * the decision's journal write. The order service prepares the order meanwhile and journals its
 * intent (then sends it) only once the decision is committed. Real parts: the engine on the stream
 * simulator, the order service through CCXT on the Binance REST simulator, the bundled PostgreSQL,
 * whose lock on the decisions table holds the journal write here.
 */
const BTC = 'BTC/USDT';
const MIN = 60_000;
const T0 = Date.UTC(2024, 2, 11, 8, 0, 30);

let live: LiveBot;
beforeAll(async () => {
  live = await startLiveBot({ startTime: T0, balances: { USDT: '10000' } });
}, 60_000);
afterAll(async () => {
  await live?.close();
});

const orderRows = () => live.tdb.db.withProfile(live.tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);
const posts = () => live.ex.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order');

describe('the order of a decision', () => {
  it('is requested while the decision is being journaled; its intent is journaled and sent only once the decision is committed', async () => {
    // every request the engine makes of the order service
    const requests: { req: PlaceRequest }[] = [];
    const place = live.orders.place.bind(live.orders);
    const decisions = () => asOwner(live.tdb.ownerUrl, async (c) => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM bot_decisions WHERE kind = 'signal'")).rows[0]!.n);
    live.orders.place = (profileId: string, req: PlaceRequest) => {
      requests.push({ req });
      return place(profileId, req);
    };
    try {
      const s = await live.strategies.create(live.tr.profileId, { name: 'Hold', code: HOLD_STRATEGY });
      const id = (await live.bot.create(live.tr.profileId, { strategyId: s.id, brokerId: live.tr.brokerId, symbol: BTC, timeframe: '1m', budget: '1000' })).id;
      await live.run(1); // the warm-up minute: no decision to open yet
      const committed = await decisions();
      expect(requests).toEqual([]);

      await asOwner(live.tdb.ownerUrl, async (c) => {
        // the journal's write waits on this lock
        await c.query('BEGIN');
        await c.query('LOCK TABLE bot_decisions IN EXCLUSIVE MODE');
        live.stream.advance(MIN);
        const blocked = async () => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'", [APP_ROLE])).rows[0]!.n;
        await waitFor(async () => (await blocked()) >= 1, 'the decision being journaled (waiting on the lock)');
        // the order is requested already, with the decision's client order id and a record to wait for
        await waitFor(() => requests.length === 1, 'the order requested');
        // (its decision not committed yet)
        expect((await c.query<{ n: number }>("SELECT count(*)::int AS n FROM bot_decisions WHERE kind = 'signal'")).rows[0]!.n).toBe(committed);
        expect(requests[0]!.req).toMatchObject({ side: 'buy', type: 'market', source: 'strategy', sourceRef: id, clientOrderId: expect.stringMatching(/^a3s[0-9a-f]{24}$/) });
        expect(requests[0]!.req.after).toBeInstanceOf(Promise);
        // ...and waits: nothing journaled, nothing at the exchange
        await new Promise((r) => setTimeout(r, 300));
        expect(await orderRows()).toEqual([]);
        expect(posts()).toEqual([]);
        await c.query('COMMIT');
      });
      await live.bot.idle();
      const signals = (await live.bot.decisions(live.tr.profileId, id, 10)).filter((d) => d.kind === 'signal' && d.action === 'open_long');
      expect(signals).toHaveLength(1);
      const rows = await orderRows();
      expect(rows.map((r) => [r.client_order_id, r.status, r.source_ref])).toEqual([[requests[0]!.req.clientOrderId, 'filled', id]]);
      expect(signals[0]).toMatchObject({ status: 'done', orderIds: [rows[0]!.id] });
      expect(posts()).toHaveLength(1);
      const a = await live.bot.get(live.tr.profileId, id);
      expect(a.position?.side).toBe('long');
    } finally {
      live.orders.place = place;
    }
  }, 60_000);
});
