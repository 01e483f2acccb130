import { errors } from './errors';

/**
 * Binance IP request weight, per fixed one-minute window (the window resets on the minute, as the
 * X-MBX-USED-WEIGHT-1M counter does). Over the limit → 429 with Retry-After (seconds to the next
 * window) and -1003; a client that keeps sending after `banAfter` refusals in one window is banned
 * (418 with Retry-After) for `banMs`. `/api` and `/sapi` are counted separately, as on Binance.
 */

export type Bucket = 'api' | 'sapi';

const WINDOW = 60_000;
const HEADER: Record<Bucket, string> = { api: 'X-MBX-USED-WEIGHT-1M', sapi: 'X-SAPI-USED-IP-WEIGHT-1M' };

export interface WeightLimiterOptions {
  now: () => number;
  limit: number;
  sapiLimit?: number;
  banAfter?: number;
  banMs?: number;
}

export class WeightLimiter {
  private window = -1;
  private readonly used: Record<Bucket, number> = { api: 0, sapi: 0 };
  private refused = 0;
  private bannedUntil = 0;
  limit: number;
  private readonly sapiLimit: number;

  constructor(private readonly opts: WeightLimiterOptions) {
    this.limit = opts.limit;
    this.sapiLimit = opts.sapiLimit ?? 12_000;
  }

  private roll(now: number): void {
    const w = Math.floor(now / WINDOW);
    if (w !== this.window) {
      this.window = w;
      this.used.api = 0;
      this.used.sapi = 0;
      this.refused = 0;
    }
  }

  usedWeight(bucket: Bucket = 'api'): number {
    this.roll(this.opts.now());
    return this.used[bucket];
  }

  /** Counts a request; throws the 429/418 reply when it is over the limit. */
  consume(bucket: Bucket, weight: number): void {
    const now = this.opts.now();
    this.roll(now);
    if (now < this.bannedUntil) throw errors.banned(this.bannedUntil, Math.ceil((this.bannedUntil - now) / 1000));
    this.used[bucket] += weight;
    const limit = bucket === 'api' ? this.limit : this.sapiLimit;
    if (this.used[bucket] <= limit) return;
    this.refused++;
    const banAfter = this.opts.banAfter ?? 20;
    if (banAfter > 0 && this.refused > banAfter) {
      this.bannedUntil = now + (this.opts.banMs ?? 120_000);
      throw errors.banned(this.bannedUntil, Math.ceil((this.bannedUntil - now) / 1000));
    }
    const retryAfter = Math.max(1, Math.ceil(((this.window + 1) * WINDOW - now) / 1000));
    throw errors.tooMuchWeight(limit, retryAfter);
  }

  headers(bucket: Bucket): Record<string, string> {
    return { [HEADER[bucket]]: String(this.usedWeight(bucket)) };
  }
}
