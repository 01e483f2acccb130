import Decimal from 'decimal.js';
import pg from 'pg';
import { AppError } from '../../shared/errors';
import type { Logger } from '../log';
import { loadMigrations, migrate } from './migrate';

export const APP_ROLE = 'aristobot_app';
const NUMERIC_OID = 1700;
const INT8_OID = 20;

/** Every NUMERIC comes back as a Decimal, never a float; counts (int8) as numbers. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === NUMERIC_OID) return (v: string) => new Decimal(v);
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  }) as typeof pg.types.getTypeParser,
};

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** The URL with its password hidden, for messages and logs. */
const SECRET_PARAMS = ['password', 'sslpassword', 'sslkey'];

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    for (const p of SECRET_PARAMS) if (u.searchParams.has(p)) u.searchParams.set(p, '****');
    return u.toString().replace(/%2A%2A%2A%2A/g, '****');
  } catch {
    return '(an unparseable URL)';
  }
}

export interface DatabaseOptions {
  /** A connection URL of a role that owns the schema (the bundled superuser, or the external URL). */
  ownerUrl: string;
  migrationsDir: string;
  log: Logger;
  /** The app role's password; random per start when absent (it is never stored anywhere). */
  appPassword?: string;
  poolMax?: number;
  connectTimeoutMs?: number;
  /**
   * Hold a lock on the database for the life of this Database: a second app on the same database
   * is refused (before it touches the app role's password) instead of disturbing the first.
   */
  exclusive?: boolean;
}

const INSTANCE_LOCK_KEY = 727_271_004;

function connectionError(url: string, e: unknown): AppError {
  const err = e as NodeJS.ErrnoException & { code?: string };
  const reason =
    err.code === 'ECONNREFUSED' ? 'connection refused (is the server running and listening there?)'
    : err.code === 'ENOTFOUND' ? 'host not found'
    : err.code === '28P01' ? 'password authentication failed'
    : err.code === '3D000' ? 'the database does not exist'
    : /timeout/i.test(err.message ?? '') ? 'timed out'
    : (err.message ?? String(e));
  return new AppError('unavailable', 'errors.db.couldNotConnectPostgresql', { redactUrl: redactUrl(url), reason }, { url: redactUrl(url) });
}

/**
 * The one pool the app queries through. It logs in as `aristobot_app`: not a superuser, no
 * BYPASSRLS, owns no table (checked at open). Migrations run once, as the owner, before that.
 * Profile-owned rows are reachable only inside `withProfile`, which sets `aristobot.profile_id`
 * transaction-locally; a query outside it sees no profile rows at all.
 */
/** A profile id as the database makes them (the only shape written into a statement's text). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class Database {
  private constructor(
    readonly pool: pg.Pool,
    private readonly log: Logger,
    private readonly holder: pg.Client | null,
  ) {}

  static async open(opts: DatabaseOptions): Promise<Database> {
    const timeout = opts.connectTimeoutMs ?? 10_000;
    const owner = new pg.Client({ connectionString: opts.ownerUrl, connectionTimeoutMillis: timeout, types });
    owner.on('error', () => undefined);
    try {
      await owner.connect();
    } catch (e) {
      throw connectionError(opts.ownerUrl, e);
    }
    const password = opts.appPassword ?? (await import('node:crypto')).randomBytes(24).toString('base64url');
    let database: string;
    try {
      if (opts.exclusive) {
        const { rows } = await owner.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [INSTANCE_LOCK_KEY]);
        if (!rows[0]?.ok) throw new AppError('already_running', 'errors.db.anotherAristobot3AlreadyUsing', { ownerUrl: redactUrl(opts.ownerUrl) });
      }
      database = (await owner.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
      await ensureAppRole(owner, password, database);
      await migrate(owner, await loadMigrations(opts.migrationsDir), opts.log);
    } catch (e) {
      await owner.end().catch(() => undefined);
      throw e;
    }
    // The owner connection is kept only while it holds the instance lock.
    const holder = opts.exclusive ? owner : null;
    if (!holder) await owner.end().catch(() => undefined);
    const appUrl = new URL(opts.ownerUrl);
    appUrl.username = APP_ROLE;
    appUrl.password = encodeURIComponent(password);
    for (const p of SECRET_PARAMS) appUrl.searchParams.delete(p); // the owner's, not the app role's
    const pool = new pg.Pool({
      connectionString: appUrl.toString(),
      max: opts.poolMax ?? 10,
      connectionTimeoutMillis: timeout,
      idleTimeoutMillis: 30_000,
      statement_timeout: 60_000,
      application_name: 'aristobot3',
      types,
    });
    pool.on('error', (e) => opts.log.error({ err: e.message }, 'idle database connection failed'));
    const db = new Database(pool, opts.log, holder);
    try {
      await db.verifyAppRole();
    } catch (e) {
      await pool.end();
      await holder?.end().catch(() => undefined);
      if (e instanceof AppError) throw e;
      throw connectionError(redactUrl(appUrl.toString()), e);
    }
    return db;
  }

  /** Startup check: the role we query as cannot bypass Row-Level Security. */
  async verifyAppRole(): Promise<void> {
    const { rows } = await this.pool.query<{ rolsuper: boolean; rolbypassrls: boolean; owned: number; user: string }>(
      `SELECT r.rolsuper, r.rolbypassrls, current_user AS user,
              (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relowner = r.oid AND n.nspname NOT IN ('pg_catalog', 'information_schema')) AS owned
         FROM pg_roles r WHERE r.rolname = current_user`,
    );
    const r = rows[0];
    if (!r || r.user !== APP_ROLE) throw new AppError('internal', 'errors.db.appConnectedAsNot', { user: r?.user ?? 'an unknown role', APP_ROLE });
    if (r.rolsuper || r.rolbypassrls || r.owned > 0)
      throw new AppError('internal', 'errors.db.refusingStartDatabaseRole', { APP_ROLE, rolsuper: r.rolsuper, rolbypassrls: r.rolbypassrls, owned: r.owned });
  }

  /** A query outside any profile: shared tables only (profile rows are invisible here). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(sql, params);
  }

  /** A transaction with no profile set. */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.inTransaction('BEGIN', fn);
  }

  /**
   * A transaction in which exactly one profile's rows are visible (transaction-local setting). Its
   * start is ONE round trip: `BEGIN` and the profile's setting go in one simple-protocol message (the
   * id, a UUID checked as such, as a literal); an id of another shape is passed as a parameter, in
   * a round trip of its own (and then finds no rows).
   */
  async withProfile<T>(profileId: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (!profileId) throw new AppError('unauthenticated', 'errors.db.logProfileFirst');
    if (UUID.test(profileId)) return this.inTransaction(`BEGIN; SELECT set_config('aristobot.profile_id', '${profileId}', true)`, fn);
    return this.inTransaction('BEGIN', async (c) => {
      await c.query("SELECT set_config('aristobot.profile_id', $1, true)", [profileId]);
      return fn(c);
    });
  }

  /** `fn` on a pooled connection between `begin` (the text that opens the transaction) and COMMIT; ROLLBACK on a failure. */
  private async inTransaction<T>(begin: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
    await this.holder?.end().catch(() => undefined);
  }
}

async function ensureAppRole(owner: pg.Client, password: string, database: string): Promise<void> {
  const lit = (s: string) => owner.escapeLiteral(s);
  try {
    await owner.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
        CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
      END IF;
    END $$`);
  } catch (e) {
    // Two processes creating the role at the same instant: the loser sees a duplicate; fine.
    if ((e as { code?: string }).code !== '23505' && (e as { code?: string }).code !== '42710') {
      throw new AppError('unavailable', 'errors.db.databaseUserCannotCreate', { APP_ROLE, reason: (e as Error).message });
    }
  }
  await owner.query(`ALTER ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD ${lit(password)}`);
  await owner.query(`GRANT CONNECT ON DATABASE ${owner.escapeIdentifier(database)} TO ${APP_ROLE}`);
}
