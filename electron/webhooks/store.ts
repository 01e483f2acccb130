import type Decimal from 'decimal.js';
import type { Params } from '../../shared/i18n';
import type { Queryable } from '../db/database';
import { inlineParams, type InlineValue } from '../db/one-trip';
import { storable, storableValue } from './payload';

/** SQL of the webhook tables (migration 0008). Every function runs inside `Database.withProfile`. */

export type RequestStatus = 'received' | 'processing' | 'processed' | 'rejected' | 'error' | 'duplicate';

export interface RequestRow {
  id: string;
  profile_id: string;
  received_at: Date;
  sender_ip: string | null;
  content_type: string | null;
  alert_id: string | null;
  dedupe_key: string | null;
  action: string | null;
  symbol: string | null;
  market: string | null;
  broker_id: string | null;
  broker_name: string | null;
  sender: string | null;
  payload: Record<string, unknown> | null;
  raw: string | null;
  http_status: number;
  status: RequestStatus;
  reason: string | null;
  /** The reason's catalogue key and parameters (migration 0020); NULL on older rows (their English `reason` is shown). */
  reason_key?: string | null;
  reason_params?: Params | null;
  order_id: string | null;
  processed_at: Date | null;
  /** How the alert's stop-loss / take-profit are enforced (migration 0013): native orders, or watched by the app. */
  protection?: 'native' | 'watched' | null;
}

export interface NewRequest {
  senderIp: string | null;
  contentType: string | null;
  alertId: string | null;
  dedupeKey: string | null;
  action: string | null;
  symbol: string | null;
  market: string | null;
  brokerId: string | null;
  brokerName: string | null;
  sender: string | null;
  payload: Record<string, unknown> | null;
  raw: string | null;
  httpStatus: number;
  status: RequestStatus;
  reason: string | null;
  reasonKey?: string | null;
  reasonParams?: Params | null;
}

const COLS = 'sender_ip, content_type, alert_id, dedupe_key, action, symbol, market, broker_id, broker_name, sender, payload, raw, http_status, status, reason, processed_at, reason_key, reason_params';
const t = (s: string | null): string | null => (s === null ? null : storable(s));
/**
 * A reason's parameters as PostgreSQL can keep them in jsonb: a sender's NUL characters and lone UTF-16
 * surrogates (a cut-off quote of the body) replaced by U+FFFD, as they are in the English text column.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const storableParams = (p: Params): Params => JSON.parse(JSON.stringify(storableValue(p), (_k, v: unknown) => (typeof v === 'string' ? v.replace(LONE_SURROGATE, '\uFFFD') : v))) as Params;
const jp = (p: Params | null | undefined): string | null => (p ? JSON.stringify(storableParams(p)) : null);
const values = (r: NewRequest) => [r.senderIp, t(r.contentType), t(r.alertId), t(r.dedupeKey), t(r.action), t(r.symbol), r.market, r.brokerId, t(r.brokerName), t(r.sender), r.payload, r.raw, r.httpStatus, r.status, t(r.reason)];

/** Journals a request; null when its dedupe key was journaled before (the caller then records a duplicate). */
export async function insertRequest(c: Queryable, r: NewRequest & { id?: string }): Promise<RequestRow | null> {
  const done = r.status === 'received' || r.status === 'processing' ? null : new Date();
  const { rows } = await c.query<RequestRow>(
    `INSERT INTO webhook_requests (id, ${COLS}) VALUES (COALESCE($17::uuid, gen_random_uuid()), $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$18,$19)
     ON CONFLICT (profile_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING *`,
    [...values(r), done, r.id ?? null, r.reasonKey ?? null, jp(r.reasonParams)],
  );
  return rows[0] ?? null;
}

/** A request to journal with its id chosen beforehand (so a multi-row INSERT can hand each caller its own row). */
export interface NewRow extends NewRequest {
  id: string;
}

export interface Inserted {
  received_at: Date;
  profile_id: string;
  processed_at: Date | null;
}

/** The journal row of a request just inserted: built from what was sent and what PostgreSQL set (id, time, profile). */
export function rowOf(r: NewRow, set: Inserted): RequestRow {
  return {
    id: r.id, profile_id: set.profile_id, received_at: set.received_at, sender_ip: r.senderIp, content_type: t(r.contentType), alert_id: t(r.alertId), dedupe_key: t(r.dedupeKey),
    action: t(r.action), symbol: t(r.symbol), market: r.market, broker_id: r.brokerId, broker_name: t(r.brokerName), sender: t(r.sender), payload: r.payload, raw: r.raw,
    http_status: r.httpStatus, status: r.status, reason: t(r.reason), reason_key: r.reasonKey ?? null, reason_params: r.reasonParams ? storableParams(r.reasonParams) : null, order_id: null, processed_at: set.processed_at, protection: null,
  };
}

/**
 * Journals many requests in ONE statement (the group commit's batch), in the given order. Returns, per
 * id, what PostgreSQL set; an id missing from the result is a request whose dedupe key was journaled
 * before (or earlier in the same batch: ON CONFLICT DO NOTHING skips the later row of the statement).
 */
const INSERT_MANY = `INSERT INTO webhook_requests (id, ${COLS})
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::uuid[], $10::text[], $11::text[], $12::jsonb[], $13::text[], $14::int[], $15::text[], $16::text[], $17::timestamptz[], $18::text[], $19::jsonb[])
     ON CONFLICT (profile_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id, received_at, profile_id, processed_at`;

/** The 19 columns of INSERT_MANY, one array each (jsonb as JSON text, times as ISO text). */
function insertColumns(rs: NewRow[]): InlineValue[] {
  const cols: (string | number | null)[][] = Array.from({ length: 19 }, () => []);
  for (const r of rs) {
    const done = r.status === 'received' || r.status === 'processing' ? null : new Date().toISOString();
    [r.id, ...values(r), done, r.reasonKey ?? null, jp(r.reasonParams)].forEach((v, i) => cols[i]!.push(i === 11 && v !== null ? JSON.stringify(v) : (v as string | number | null)));
  }
  return cols;
}

/** What PostgreSQL set per inserted id (RETURNING of INSERT_MANY). */
export function insertedOf(rows: (Inserted & { id: string })[]): Map<string, Inserted> {
  return new Map(rows.map((r) => [r.id, { received_at: r.received_at, profile_id: r.profile_id, processed_at: r.processed_at }]));
}

/**
 * Journals many requests in ONE statement (the group commit's batch), in the given order. Returns, per
 * id, what PostgreSQL set; an id missing from the result is a request whose dedupe key was journaled
 * before (or earlier in the same batch: ON CONFLICT DO NOTHING skips the later row of the statement).
 */
export async function insertRequests(c: Queryable, rs: NewRow[]): Promise<Map<string, Inserted>> {
  const { rows } = await c.query<Inserted & { id: string }>(INSERT_MANY, insertColumns(rs) as unknown[]);
  return insertedOf(rows);
}

/** The same statement as text with its values inlined as literals (db/one-trip.ts), for a one-round-trip transaction. */
export function insertRequestsText(rs: NewRow[]): string {
  return inlineParams(INSERT_MANY, insertColumns(rs));
}

export interface StatusChange {
  id: string;
  status: RequestStatus;
  reason?: string | null;
  reasonKey?: string | null;
  reasonParams?: Params | null;
  orderId?: string | null;
  market?: string | null;
}

// A new reason brings its own key (or none); without a new reason the row keeps its reason and key.
const UPDATE_MANY = `UPDATE webhook_requests r SET status = v.status, reason = COALESCE(v.reason, r.reason), order_id = COALESCE(v.order_id, r.order_id), market = COALESCE(v.market, r.market), processed_at = v.done,
            reason_key = CASE WHEN v.reason IS NULL THEN r.reason_key ELSE v.reason_key END, reason_params = CASE WHEN v.reason IS NULL THEN r.reason_params ELSE v.reason_params END
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[], $7::text[], $8::jsonb[]) AS v(id, status, reason, order_id, market, done, reason_key, reason_params)
      WHERE r.id = v.id`;

function updateColumns(us: StatusChange[]): InlineValue[] {
  const cols: (string | null)[][] = [[], [], [], [], [], [], [], []];
  for (const u of us) {
    const done = u.status === 'received' || u.status === 'processing' ? null : new Date().toISOString();
    const key = u.reason ? (u.reasonKey ?? null) : null;
    [u.id, u.status, t(u.reason ?? null), u.orderId ?? null, u.market ?? null, done, key, key ? jp(u.reasonParams) : null].forEach((v, i) => cols[i]!.push(v));
  }
  return cols;
}

/** Many status changes in ONE statement (ids must be distinct). */
export async function setRequestStatuses(c: Queryable, us: StatusChange[]): Promise<void> {
  await c.query(UPDATE_MANY, updateColumns(us) as unknown[]);
}

/** The same statement as text with its values inlined (db/one-trip.ts). */
export function setRequestStatusesText(us: StatusChange[]): string {
  return inlineParams(UPDATE_MANY, updateColumns(us));
}

export async function requestByDedupe(c: Queryable, key: string): Promise<RequestRow | null> {
  const { rows } = await c.query<RequestRow>('SELECT * FROM webhook_requests WHERE dedupe_key = $1', [storable(key)]);
  return rows[0] ?? null;
}

export interface RequestFilters {
  status?: RequestStatus[];
  action?: string;
  symbol?: string;
  brokerId?: string;
  limit: number;
}

export interface RequestWithOrder extends RequestRow {
  order_status: string | null;
  order_client_id: string | null;
  order_side: string | null;
  order_type: string | null;
  order_amount: Decimal | null;
  order_filled: Decimal | null;
  order_average: Decimal | null;
  order_error: string | null;
}

export async function listRequests(c: Queryable, f: RequestFilters): Promise<RequestWithOrder[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.status?.length) add('r.status = ANY(?)', f.status);
  if (f.action) add('lower(r.action) = lower(?)', f.action);
  if (f.symbol) {
    params.push(f.symbol);
    where.push(`(upper(r.symbol) = upper($${params.length}) OR upper(r.market) = upper($${params.length}))`);
  }
  if (f.brokerId) add('r.broker_id = ?', f.brokerId);
  params.push(f.limit);
  const { rows } = await c.query<RequestWithOrder>(
    `SELECT r.*, o.status AS order_status, o.client_order_id AS order_client_id, o.side AS order_side, o.type AS order_type, o.amount AS order_amount,
            o.filled AS order_filled, o.average_price AS order_average, o.error_message AS order_error
       FROM webhook_requests r LEFT JOIN orders o ON o.id = r.order_id
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY r.received_at DESC, r.id LIMIT $${params.length}`,
    params,
  );
  return rows;
}

export async function stats(c: Queryable, since: Date): Promise<{ received: number; processed: number; refused: number; errors: number; duplicates: number; pending: number }> {
  const { rows } = await c.query<{ received: number; processed: number; refused: number; errors: number; duplicates: number; pending: number }>(
    `SELECT count(*)::int AS received,
            count(*) FILTER (WHERE status = 'processed')::int AS processed,
            count(*) FILTER (WHERE status = 'rejected')::int AS refused,
            count(*) FILTER (WHERE status = 'error')::int AS errors,
            count(*) FILTER (WHERE status = 'duplicate')::int AS duplicates,
            count(*) FILTER (WHERE status IN ('received', 'processing'))::int AS pending
       FROM webhook_requests WHERE received_at >= $1`,
    [since],
  );
  return rows[0]!;
}

export interface SenderRow {
  name: string;
  last_ping_at: Date;
  last_ip: string | null;
  expect_minutes: number | null;
  pings: number;
}

export async function recordPing(c: Queryable, name: string, at: Date, ip: string | null, expect: number | null): Promise<void> {
  await c.query(
    `INSERT INTO webhook_senders (name, last_ping_at, last_ip, expect_minutes) VALUES ($1, $2, $3, $4)
     ON CONFLICT (profile_id, name) DO UPDATE SET last_ping_at = GREATEST(webhook_senders.last_ping_at, EXCLUDED.last_ping_at), last_ip = EXCLUDED.last_ip,
       expect_minutes = COALESCE(EXCLUDED.expect_minutes, webhook_senders.expect_minutes), pings = webhook_senders.pings + 1`,
    [name, at, ip, expect],
  );
}

export async function senders(c: Queryable): Promise<SenderRow[]> {
  return (await c.query<SenderRow>('SELECT name, last_ping_at, last_ip, expect_minutes, pings FROM webhook_senders ORDER BY name')).rows;
}

export interface PositionRow {
  id: string;
  broker_id: string;
  sandbox: boolean;
  exchange: string;
  symbol: string;
  base: string;
  quote: string;
  quantity: Decimal;
  average_entry: Decimal | null;
  realised_pnl: Decimal;
  stop_loss: Decimal | null;
  take_profit: Decimal | null;
  protection: 'native' | 'watched';
  exit_order_id: string | null;
  exit_reason: string | null;
  /** The exit reason's catalogue key and parameters (migration 0020); NULL on older rows. */
  exit_reason_key?: string | null;
  exit_reason_params?: Params | null;
  generation: number;
  fills: number;
  updated_at: Date;
}

export async function positionOf(c: Queryable, brokerId: string, sandbox: boolean, symbol: string): Promise<PositionRow | null> {
  const { rows } = await c.query<PositionRow>('SELECT * FROM webhook_positions WHERE broker_id = $1 AND sandbox = $2 AND symbol = $3', [brokerId, sandbox, symbol]);
  return rows[0] ?? null;
}

export async function listPositions(c: Queryable): Promise<PositionRow[]> {
  return (await c.query<PositionRow>('SELECT * FROM webhook_positions ORDER BY updated_at DESC')).rows;
}

/** The fills of the webhook's own orders on one broker, mode and symbol, in execution order. */
export async function webhookFills(c: Queryable, brokerId: string, sandbox: boolean, symbol: string): Promise<{ side: 'buy' | 'sell'; amount: Decimal; price: Decimal; fee: Decimal | null; fee_currency: string | null }[]> {
  const { rows } = await c.query<{ side: 'buy' | 'sell'; amount: Decimal; price: Decimal; fee: Decimal | null; fee_currency: string | null }>(
    `SELECT f.side, f.amount, f.price, f.fee, f.fee_currency FROM order_fills f JOIN orders o ON o.id = f.order_id
      WHERE o.source = 'webhook' AND o.broker_id = $1 AND o.sandbox = $2 AND o.symbol = $3
      ORDER BY f.executed_at, f.created_at, length(f.trade_id), f.trade_id`,
    [brokerId, sandbox, symbol],
  );
  return rows;
}
