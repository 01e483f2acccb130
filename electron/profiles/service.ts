import { AppError, invalidField } from '../../shared/errors';
import type { Database } from '../db/database';
import type { Logger } from '../log';
import { hashPassword, verifyPassword } from './password';

export interface ProfileRow {
  id: string;
  name: string;
  password_hash: string;
  failed_attempts: number;
  last_failed_at: Date | null;
  created_at: Date;
  last_login_at: Date | null;
}
export interface ProfileSummary {
  name: string;
  createdAt: string;
  lastLoginAt: string | null;
}
export interface Settings {
  theme: 'dark' | 'light';
  timezone: 'UTC' | 'local';
  defaultBrokerId: string | null;
  /** null: the system's language */
  language: 'en' | 'fr' | null;
}

/**
 * Login slowdown. Per caller (one connection) and profile: after this many wrong passwords in a row,
 * each further attempt from that caller must wait (doubling, capped at a minute) — the guesser is
 * slowed, not the owner on another connection. Per profile, from every caller together: at most
 * GLOBAL_CAP wrong passwords per GLOBAL_WINDOW_MS (a guesser opening connection after connection);
 * one wrong guess a minute never comes near it, so it never refuses the owner's right password.
 */
export const FREE_ATTEMPTS = 5;
const MAX_DELAY_MS = 60_000;
export const GLOBAL_CAP = 100;
export const GLOBAL_WINDOW_MS = 10 * 60_000;

export function attemptDelayMs(failedAttempts: number): number {
  if (failedAttempts < FREE_ATTEMPTS) return 0;
  return Math.min(MAX_DELAY_MS, 1000 * 2 ** (failedAttempts - FREE_ATTEMPTS));
}

const summary = (r: Pick<ProfileRow, 'name' | 'created_at' | 'last_login_at'>): ProfileSummary => ({
  name: r.name,
  createdAt: r.created_at.toISOString(),
  lastLoginAt: r.last_login_at ? r.last_login_at.toISOString() : null,
});

export class ProfileService {
  private readonly callers = new Map<string, { failed: number; lastFailedAt: number }>();
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly limits: { globalCap: number; globalWindowMs: number } = { globalCap: GLOBAL_CAP, globalWindowMs: GLOBAL_WINDOW_MS },
  ) {}

  async list(): Promise<ProfileSummary[]> {
    const { rows } = await this.db.query<ProfileRow>('SELECT name, created_at, last_login_at FROM profiles ORDER BY lower(name)');
    return rows.map(summary);
  }

  async create(name: string, password: string): Promise<ProfileSummary> {
    const hash = await hashPassword(password);
    try {
      return await this.db.tx(async (c) => {
        const { rows } = await c.query<ProfileRow>('INSERT INTO profiles (name, password_hash) VALUES ($1, $2) RETURNING *', [name, hash]);
        const row = rows[0]!;
        await c.query("SELECT set_config('aristobot.profile_id', $1, true)", [row.id]);
        await c.query('INSERT INTO profile_settings DEFAULT VALUES');
        this.log.info({ profile: name }, 'profile created');
        return summary(row);
      });
    } catch (e) {
      if ((e as { code?: string }).code === '23505') throw new AppError('conflict', 'errors.profiles.profileNamedAlreadyExists', { name }, { field: 'name' });
      throw e;
    }
  }

  private async find(name: string): Promise<ProfileRow> {
    const { rows } = await this.db.query<ProfileRow>('SELECT * FROM profiles WHERE lower(name) = lower($1)', [name]);
    if (!rows[0]) throw new AppError('not_found', 'errors.profiles.noProfileNamed', { name }, { field: 'name' });
    return rows[0];
  }

  /**
   * Check a profile's password for a caller (a connection id; one local caller by default). Wrong →
   * counted for this caller; from its fifth wrong attempt in a row, its further attempts are refused
   * until a delay has passed (doubling up to a minute). Right → this caller's count reset. Another
   * caller (the owner in their own window) is not slowed by it, unless the profile's global cap of
   * wrong passwords per window is reached.
   */
  async verify(name: string, password: string, caller = 'local'): Promise<ProfileRow> {
    const row = await this.find(name);
    const now = this.now();
    const key = `${caller}\u0000${row.id}`;
    const mine = this.callers.get(key) ?? { failed: 0, lastFailedAt: 0 };
    const wait = attemptDelayMs(mine.failed) - (now - mine.lastFailedAt);
    if (wait > 0) throw new AppError('too_many_attempts', 'errors.profiles.tooManyWrongPasswords', { name: row.name, wait: Math.ceil(wait / 1000) }, { retryAfterMs: wait });
    const recent = (this.recent.get(row.id) ?? []).filter((t) => t > now - this.limits.globalWindowMs);
    this.recent.set(row.id, recent);
    if (recent.length >= this.limits.globalCap) {
      const globalWait = Math.max(1, recent[0]! + this.limits.globalWindowMs - now);
      this.log.warn({ profile: row.name }, 'login: too many wrong passwords from all connections; refusing for a while');
      throw new AppError('too_many_attempts', 'errors.profiles.tooManyWrongPasswords2', { name: row.name, globalWait: Math.ceil(globalWait / 1000) }, { retryAfterMs: globalWait });
    }
    // Reserve the attempt (synchronously: parallel guesses on one connection cannot slip through),
    // counted as failed until proven right.
    mine.failed++;
    mine.lastFailedAt = now;
    this.callers.delete(key);
    this.callers.set(key, mine);
    if (this.callers.size > 10_000) this.callers.delete(this.callers.keys().next().value!);
    recent.push(now);
    const ok = await verifyPassword(password, row.password_hash);
    if (!ok) {
      const { rows } = await this.db.query<{ failed_attempts: number }>('UPDATE profiles SET failed_attempts = failed_attempts + 1, last_failed_at = $2 WHERE id = $1 RETURNING failed_attempts', [row.id, new Date(now)]);
      this.log.warn({ profile: row.name, failedAttempts: rows[0]?.failed_attempts, callerFailures: mine.failed }, 'wrong password');
      throw new AppError('wrong_password', 'errors.profiles.wrongPassword');
    }
    this.callers.delete(key);
    const i = recent.lastIndexOf(now);
    if (i >= 0) recent.splice(i, 1);
    await this.db.query('UPDATE profiles SET failed_attempts = 0, last_failed_at = NULL WHERE id = $1', [row.id]);
    return row;
  }

  async login(name: string, password: string, caller?: string): Promise<{ id: string; name: string }> {
    const row = await this.verify(name, password, caller);
    await this.db.query('UPDATE profiles SET last_login_at = $2 WHERE id = $1', [row.id, new Date(this.now())]);
    this.log.info({ profile: row.name }, 'logged in');
    return { id: row.id, name: row.name };
  }

  async changePassword(profileId: string, currentPassword: string, newPassword: string, caller?: string): Promise<void> {
    const { rows } = await this.db.query<ProfileRow>('SELECT name FROM profiles WHERE id = $1', [profileId]);
    if (!rows[0]) throw new AppError('not_found', 'errors.profiles.profileNoLongerExists');
    await this.verify(rows[0].name, currentPassword, caller);
    await this.db.query('UPDATE profiles SET password_hash = $2 WHERE id = $1', [profileId, await hashPassword(newPassword)]);
    this.log.info({ profile: rows[0].name }, 'password changed');
  }

  /** Delete a profile and, by cascade, every row it owns. Returns the deleted id. */
  async delete(name: string, password: string): Promise<string> {
    return this.deleteVerified(await this.verify(name, password));
  }

  /** Delete a profile whose password was just checked with `verify`. */
  async deleteVerified(row: Pick<ProfileRow, 'id' | 'name'>): Promise<string> {
    await this.db.query('DELETE FROM profiles WHERE id = $1', [row.id]);
    this.log.info({ profile: row.name }, 'profile deleted');
    return row.id;
  }

  /** Ensure a profile exists (used for the development profile `dev`). */
  async ensure(name: string, password: string): Promise<void> {
    const { rows } = await this.db.query('SELECT 1 FROM profiles WHERE lower(name) = lower($1)', [name]);
    if (!rows[0]) await this.create(name, password).catch((e) => (e instanceof AppError && e.code === 'conflict' ? undefined : Promise.reject(e)));
  }

  async idOf(name: string): Promise<{ id: string; name: string }> {
    const r = await this.find(name);
    return { id: r.id, name: r.name };
  }

  async getSettings(profileId: string): Promise<Settings> {
    return this.db.withProfile(profileId, async (c) => {
      const { rows } = await c.query<{ theme: Settings['theme']; timezone: Settings['timezone']; default_broker_id: string | null; language: Settings['language'] }>(
        'SELECT theme, timezone, default_broker_id, language FROM profile_settings',
      );
      const r = rows[0];
      if (!r) throw new AppError('not_found', 'errors.profiles.profileHasNoSettings');
      return { theme: r.theme, timezone: r.timezone, defaultBrokerId: r.default_broker_id, language: r.language };
    });
  }

  async updateSettings(profileId: string, patch: Partial<Settings>): Promise<Settings> {
    await this.db.withProfile(profileId, async (c) => {
      // Only one of this profile's brokers (RLS hides the others; the foreign key of 0006 backs this up).
      if (patch.defaultBrokerId && !(await c.query('SELECT 1 FROM brokers WHERE id = $1', [patch.defaultBrokerId])).rowCount) {
        throw invalidField('defaultBrokerId', 'errors.profiles.defaultBrokerMustOne');
      }
      await c.query(
        `UPDATE profile_settings SET theme = coalesce($1, theme), timezone = coalesce($2, timezone),
           default_broker_id = CASE WHEN $3::boolean THEN $4::uuid ELSE default_broker_id END,
           language = CASE WHEN $5::boolean THEN $6::text ELSE language END, updated_at = now()`,
        [patch.theme ?? null, patch.timezone ?? null, patch.defaultBrokerId !== undefined, patch.defaultBrokerId ?? null, patch.language !== undefined, patch.language ?? null],
      );
    });
    return this.getSettings(profileId);
  }
}
