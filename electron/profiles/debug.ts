import { AppError } from '../../shared/errors';
import type { Database } from '../db/database';
import type { Logger } from '../log';
import type { ProfileService } from './service';

export const DEV_PROFILE = { name: 'dev', password: 'dev' };

/**
 * Development mode. Offered only when ARISTOBOT_DEBUG=1; otherwise forced off at startup. Switched
 * on, the login screen logs in the ordinary profile `dev` (password `dev`) without typing; the state
 * persists in the `debug_mode` singleton.
 */
export class DebugService {
  constructor(
    private readonly db: Database,
    private readonly profiles: ProfileService,
    private readonly available: boolean,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (!this.available) await this.db.query('UPDATE debug_mode SET enabled = false, updated_at = now() WHERE enabled');
  }

  async get(): Promise<{ available: boolean; enabled: boolean }> {
    if (!this.available) return { available: false, enabled: false };
    const { rows } = await this.db.query<{ enabled: boolean }>('SELECT enabled FROM debug_mode');
    return { available: true, enabled: rows[0]?.enabled ?? false };
  }

  async set(enabled: boolean): Promise<{ available: boolean; enabled: boolean }> {
    if (!this.available) throw new AppError('unavailable', 'errors.profiles.developmentModeNotAvailable');
    await this.db.query('UPDATE debug_mode SET enabled = $1, updated_at = now()', [enabled]);
    if (enabled) await this.profiles.ensure(DEV_PROFILE.name, DEV_PROFILE.password);
    this.log.info({ enabled }, 'development mode switched');
    return { available: true, enabled };
  }
}
