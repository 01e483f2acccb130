import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '../electron/db/database';
import { asOwner } from './support/db';
import { waitFor } from './sim/stream/wait';
import { HOLD_STRATEGY, startLiveBot, type LiveBot } from './support/live-bot';

/**
 * The decisions journal keeps its own connections (taken from the pool once and held: a burst of
 * closings once a minute would otherwise open one each time). A held connection that the server
 * drops is let go and replaced; the app neither crashes nor loses a decision.
 */
const BTC = 'BTC/USDT';
const T0 = Date.UTC(2024, 2, 11, 4, 0, 30);

let live: LiveBot;
beforeAll(async () => {
  live = await startLiveBot({ startTime: T0, balances: { USDT: '10000' } });
}, 60_000);
afterAll(async () => {
  await live?.close();
});

const appBackends = () => asOwner(live.tdb.ownerUrl, async (c) => (await c.query<{ pid: number; state: string }>('SELECT pid, state FROM pg_stat_activity WHERE usename = $1', [APP_ROLE])).rows);

describe('the decisions journal on held connections', () => {
  it('journals every minute on the same connections; after the server drops them all, the next decisions are journaled on new ones', async () => {
    const s = await live.strategies.create(live.tr.profileId, { name: 'Hold', code: HOLD_STRATEGY });
    const id = (await live.bot.create(live.tr.profileId, { strategyId: s.id, brokerId: live.tr.brokerId, symbol: BTC, timeframe: '1m', budget: '500' })).id;
    await live.run(3);
    const signals = async () => (await live.bot.decisions(live.tr.profileId, id, 100)).filter((d) => d.kind === 'signal');
    const before = await signals();
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect((await live.bot.get(live.tr.profileId, id)).position).not.toBeNull();
    const stored = async () => (await live.tdb.db.query<{ n: number }>("SELECT count(*)::int AS n FROM candles WHERE symbol = $1 AND timeframe = '1m'", [BTC])).rows[0]!.n;
    await waitFor(async () => (await stored()) >= 3, 'the first minutes stored');
    const storedBefore = await stored();
    const pids = (await appBackends()).map((b) => b.pid);
    expect(pids.length).toBeGreaterThanOrEqual(2); // the journal's two held, at least
    // the server drops every connection of the app (a restart of PostgreSQL's backends, an admin's kill)
    const killed = await asOwner(live.tdb.ownerUrl, async (c) => (await c.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE usename = $1', [APP_ROLE])).rows);
    expect(killed.length).toBe(pids.length);
    await live.run(3);
    const after = await signals();
    // one decision per minute, none lost, none doubled, none in error
    expect(after.length).toBe(before.length + 3);
    expect(new Set(after.map((d) => d.candleTime)).size).toBe(after.length);
    expect(after.filter((d) => d.status === 'error')).toEqual([]);
    // the heartbeat's candle writer (a held connection too) opened a new one: the minutes keep being stored
    await waitFor(async () => (await stored()) >= storedBefore + 3, 'the later minutes stored');
    const now = (await appBackends()).map((b) => b.pid);
    expect(now.some((p) => pids.includes(p))).toBe(false);
    expect((await live.bot.get(live.tr.profileId, id)).state).toBe('running');
  }, 90_000);

  it('a write whose connection the server drops while it is in flight goes through on another', async () => {
    const journal = (live.bot as unknown as { decisionJournal: { insert(e: Record<string, unknown>): Promise<{ id: string } | null> } }).decisionJournal;
    const id = (await live.bot.list(live.tr.profileId))[0]!.id;
    const entry = (candleTime: number) => ({ profileId: live.tr.profileId, activationId: id, kind: 'skipped', candleTime, action: 'none', reason: 'test', status: 'done', error: null, plan: [], reasonKey: null, reasonParams: null, errorKey: null, errorParams: null });
    await Promise.all([journal.insert(entry(T0 - 10 * 60_000)), journal.insert(entry(T0 - 9 * 60_000))]); // both held connections used once
    for (let round = 0; round < 2; round++) {
      const rows = await asOwner(live.tdb.ownerUrl, async (c) => {
        // the journal's writes wait on a lock; the server drops their connections mid-write; then the lock goes
        await c.query('BEGIN');
        await c.query('LOCK TABLE bot_decisions IN EXCLUSIVE MODE');
        // one decision alone (a batch of one: no row-by-row retry behind it)
        const writes = Promise.all([journal.insert(entry(T0 - (8 - round) * 60_000))]);
        const blocked = async () => (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND wait_event_type = 'Lock'", [APP_ROLE])).rows[0]!.n;
        await waitFor(async () => (await blocked()) >= 1, 'a journal write waiting on the lock');
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [APP_ROLE]);
        await c.query('COMMIT');
        return writes;
      });
      expect(rows.every((r) => r !== null && typeof r.id === 'string')).toBe(true);
    }
    const skipped = (await live.bot.decisions(live.tr.profileId, id, 100)).filter((d) => d.kind === 'skipped');
    expect(skipped).toHaveLength(4);
  }, 60_000);
});
