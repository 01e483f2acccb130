import type { Database } from '../electron/db/database';

/**
 * `n` synthetic 1m candles of 'bench' BTC/USDT from `start` (epoch ms), with realistic decimals
 * (2 places for prices, 8 for volumes), generated inside PostgreSQL; then VACUUM ANALYZE. Shared by
 * the benches that time a load from the store.
 */
export async function seedBenchCandles(db: Database, start: number, n: number): Promise<void> {
  await db.query(
    `INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume)
     SELECT 'bench', 'BTC/USDT', '1m', 'epoch'::timestamptz + ($1::bigint + g::bigint * 60000) * interval '1 millisecond',
            round((30000 + 1000 * sin(g / 5000.0))::numeric, 2), round((30010 + 1000 * sin(g / 5000.0))::numeric, 2),
            round((29990 + 1000 * sin(g / 5000.0))::numeric, 2), round((30002 + 1000 * sin(g / 5000.0))::numeric, 2),
            round((1 + (g % 97) / 7.0)::numeric, 8)
       FROM generate_series(0, $2::int - 1) g`,
    [start, n],
  );
  await db.query('VACUUM ANALYZE candles');
}
