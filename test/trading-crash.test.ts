import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import Decimal from 'decimal.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../shared/errors';
import { getOrder, type OrderRow } from '../electron/trading/journal';
import type { OrderHooks, PlaceRequest } from '../electron/trading/orders';
import { directTrading, type DirectTrading } from '../electron/trading/fixtures/direct';
import { generateCredentials } from './sim/exchange/signing';
import { startExchangeSim, type ExchangeSim } from './sim/exchange/server';
import { createTestDb, TEST_APP_PASSWORD, type TestDb } from './support/db';

/**
 * The process is killed (SIGKILL, no cleanup) at each point of placing an order; a restarted order
 * service reconciles the journal with the exchange by client order id, and never sends again.
 */

const ROOT = resolve(import.meta.dirname, '..');
const BTC = 'BTC/USDT';

let sim: ExchangeSim;
let tdb: TestDb;
let tr: DirectTrading;

beforeAll(async () => {
  sim = await startExchangeSim();
  tdb = await createTestDb();
}, 60_000);
afterAll(async () => {
  await tdb?.close();
  await sim?.close();
});
beforeEach(async () => {
  // a fresh account and profile per case: the simulator's books start empty
  const creds = generateCredentials();
  sim.addAccount({ ...creds, balances: { USDT: '10000', BTC: '1' } });
  sim.series.setPrice(BTC, '60000');
  tr = await directTrading(tdb.db, sim.url, creds);
});

/** Runs the order in a child process that SIGKILLs itself at `crashAt`; resolves with its output. */
function placeAndCrash(order: Omit<PlaceRequest, 'brokerId'>, crashAt: keyof OrderHooks): Promise<string> {
  const cfg = { dbUrl: tdb.ownerUrl, appPassword: TEST_APP_PASSWORD, simUrl: sim.url, secretRef: tr.secretRef, credentials: tr.credentials, profileId: tr.profileId, order: { ...order, brokerId: tr.brokerId }, crashAt };
  const child = spawn(process.execPath, ['--import', 'tsx', 'electron/trading/fixtures/crash-child.ts', JSON.stringify(cfg)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((res, rej) => {
    child.on('error', rej);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? res(out) : rej(new Error(`the child exited with ${code ?? signal} instead of being killed:\n${out}`))));
  });
}

const rows = (): Promise<OrderRow[]> => tr.db.withProfile(tr.profileId, async (c) => (await c.query<OrderRow>('SELECT * FROM orders ORDER BY created_at')).rows);
const posts = () => sim.requestLog.filter((r) => r.method === 'POST' && r.path === '/api/v3/order' && r.params.newClientOrderId?.startsWith('a3m'));
const simOrders = () => sim.orders(tr.credentials.apiKey);

describe('a crash while placing an order, then a restart', () => {
  it('killed after the intent was committed, before sending: reconciled as never reached the exchange', async () => {
    const before = posts().length;
    expect(await placeAndCrash({ symbol: BTC, side: 'buy', type: 'limit', amount: '0.01', price: '55000', source: 'manual' }, 'afterIntent')).toContain('CRASHING intent');
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'intent', exchange_order_id: null, source: 'manual' });
    expect(simOrders()).toEqual([]);

    const restarted = tr.service();
    expect(await restarted.reconcile(tr.profileId)).toEqual({ checked: 1, resolved: 1 });
    const after = await tr.db.withProfile(tr.profileId, (c) => getOrder(c, row!.id));
    expect(after).toMatchObject({ status: 'rejected', error_code: 'not_sent' });
    expect(after!.error_message).toMatch(/^Never reached the exchange/);
    expect(posts().length).toBe(before); // nothing was (re)sent
    expect(simOrders()).toEqual([]);
    // the lookup went by client order id
    expect(sim.requestLog.some((r) => r.method === 'GET' && r.path === '/api/v3/order' && r.params.origClientOrderId === row!.client_order_id)).toBe(true);
  });

  it('killed after the exchange accepted the order, before the answer was stored: found by client order id, no duplicate', async () => {
    const before = posts().length;
    expect(await placeAndCrash({ symbol: BTC, side: 'buy', type: 'market', amount: '0.01', source: 'manual' }, 'afterAnswer')).toContain('CRASHING sent');
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'sent', exchange_order_id: null });
    expect(simOrders()).toHaveLength(1);
    expect(simOrders()[0]).toMatchObject({ clientOrderId: row!.client_order_id, status: 'FILLED' });

    const restarted = tr.service();
    expect(await restarted.reconcile(tr.profileId)).toEqual({ checked: 1, resolved: 1 });
    const after = (await tr.db.withProfile(tr.profileId, (c) => getOrder(c, row!.id)))!;
    expect(after).toMatchObject({ status: 'filled', exchange_order_id: String(simOrders()[0]!.orderId) });
    expect(after.filled.toFixed()).toBe('0.01');
    expect(posts().length).toBe(before + 1);
    expect(simOrders()).toHaveLength(1);
    // fills and the position are caught up too, consistent with the simulator's books
    const pos = await tr.db.withProfile(tr.profileId, async (c) => (await c.query<{ quantity: Decimal }>('SELECT quantity FROM positions WHERE symbol = $1', [BTC])).rows[0]);
    const btc = sim.balances(tr.credentials.apiKey).BTC!;
    expect(pos!.quantity.toFixed()).toBe(new Decimal(btc.free).plus(btc.locked).minus(1).toFixed());
    // a second reconcile has nothing left to do
    expect(await tr.service().reconcile(tr.profileId)).toEqual({ checked: 0, resolved: 0 });
  });

  it('killed after marking it sent, before the request left: unknown at first, then provably never arrived', async () => {
    expect(await placeAndCrash({ symbol: BTC, side: 'sell', type: 'limit', amount: '0.01', price: '65000', source: 'webhook', clientOrderId: 'hook-42' }, 'beforeSend')).toContain('CRASHING sent');
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'sent', client_order_id: 'hook-42', source: 'webhook' });
    expect(simOrders()).toEqual([]);

    // Within the exchange's recvWindow a late request could still arrive: the outcome stays unknown.
    await tr.service().reconcile(tr.profileId);
    expect(await tr.db.withProfile(tr.profileId, (c) => getOrder(c, row!.id))).toMatchObject({ status: 'unknown' });
    // Once that window has passed (here: configured as already passed), not found means never arrived.
    await tr.service({ neverArrivedAfterMs: 0 }).reconcile(tr.profileId);
    const after = await tr.db.withProfile(tr.profileId, (c) => getOrder(c, row!.id));
    expect(after).toMatchObject({ status: 'rejected', error_code: 'not_sent' });
    expect(after!.error_message).toMatch(/longer than the exchange accepts a request \(its recvWindow\)/);
    expect(simOrders()).toEqual([]);

    // The same client order id (a webhook retry) answers the journaled attempt — refused, so as an
    // error carrying that row, never as a success; nothing is sent.
    const before = sim.requestLog.length;
    const again = await tr
      .service()
      .place(tr.profileId, { brokerId: tr.brokerId, symbol: BTC, side: 'sell', type: 'limit', amount: '0.01', price: '65000', source: 'webhook', clientOrderId: 'hook-42' })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isAppError(again) && again.code).toBe('conflict'); // `not_sent` is the journal's code, not an API code
    expect((again as Error).message).toMatch(/^The order with client order id hook-42 was refused, and is not sent again: Never reached the exchange/);
    expect((again as { details: { order: { id: string; status: string; errorCode: string } } }).details.order).toMatchObject({ id: row!.id, status: 'rejected', errorCode: 'not_sent' });
    expect(sim.requestLog.length).toBe(before);
  });
});
