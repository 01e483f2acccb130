import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { AppError } from '../../shared/errors';
import type { Database } from '../db/database';
import type { EventBus } from '../events';
import type { ParamSpec } from '../kernel/types';
import type { Logger } from '../log';
import { transpileStrategy } from './transpile';
import { StrategyChecker } from './checker';
import type { CheckResult, Diagnostic } from './validate';

/** A strategy as listed. */
export interface StrategySummary {
  id: string;
  name: string;
  description: string;
  timeframe: string | null;
  version: number;
  params: Record<string, ParamSpec>;
  warmup: number;
  createdAt: string;
  updatedAt: string;
}
export interface StrategyDetail extends StrategySummary {
  code: string;
}
export interface StrategyVersionInfo {
  version: number;
  params: Record<string, ParamSpec>;
  warmup: number;
  size: number;
  createdAt: string;
}
export interface StrategyTemplate {
  id: string;
  name: string;
  description: string;
  code: string;
  params: Record<string, ParamSpec>;
}

/** What the backtester and the bot run: one saved version, transpiled once when it was saved. */
export interface RunnableVersion {
  strategyId: string;
  name: string;
  /** strategy_versions.id: what a backtest or a bot run records. */
  versionId: string;
  version: number;
  code: string;
  /** CommonJS from transpileStrategy (electron/strategies/transpile.ts); the kernel's CompiledStrategy.js. */
  js: string;
  params: Record<string, ParamSpec>;
  warmup: number;
}

export interface CreateInput {
  name: string;
  template?: string;
  code?: string;
  description?: string;
  timeframe?: string | null;
}
export interface UpdateInput {
  id: string;
  name?: string;
  code?: string;
  description?: string;
  timeframe?: string | null;
}

export const DEFAULT_TEMPLATE = 'base';

interface Row {
  id: string;
  name: string;
  description: string;
  timeframe: string | null;
  current_version: number;
  created_at: Date;
  updated_at: Date;
  code: string;
  params: Record<string, ParamSpec>;
  warmup: number;
}

const SELECT_CURRENT = `SELECT s.id, s.name, s.description, s.timeframe, s.current_version, s.created_at, s.updated_at, v.code, v.params, v.warmup
  FROM strategies s JOIN strategy_versions v ON v.strategy_id = s.id AND v.version = s.current_version`;

function summary(r: Row): StrategySummary {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    timeframe: r.timeframe,
    version: r.current_version,
    params: r.params,
    warmup: r.warmup,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
const detail = (r: Row): StrategyDetail => ({ ...summary(r), code: r.code });

/** "3:14 Cannot find name 'x'." and how many more. */
function describe(diagnostics: Diagnostic[]): AppError {
  const first = diagnostics[0];
  const details = { diagnostics };
  if (!first) return new AppError('invalid_input', 'errors.strategies.doesNotCompile', {}, details);
  // our own rule's message nests by key (worded in the reader's language); TypeScript's passes as it is
  const at = { line: first.line, column: first.column, reason: first.key ? { key: first.key, params: first.params ?? {} } : first.message };
  if (diagnostics.length === 1) return new AppError('invalid_input', 'errors.strategies.doesNotCompileAt', at, details);
  return new AppError('invalid_input', 'errors.strategies.doesNotCompileAtMore', { ...at, count: diagnostics.length - 1 }, details);
}

const notFound = (id: string) => new AppError('not_found', 'errors.strategies.noStrategyProfile', { id }, { id });
const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

/**
 * A profile's strategies and their versions. Every change of code is checked (validate.ts) and
 * transpiled once (transpile.ts) before anything is written; code that does not compile is never
 * saved. Versions are immutable rows; `getVersion` is what backtests and bots run.
 */
export class StrategyService {
  private templateCache: Promise<StrategyTemplate[]> | null = null;
  /** The compiler runs in a worker thread (checker.ts), never on the core's event loop. */
  readonly checker: StrategyChecker;

  constructor(
    private readonly d: {
      db: Database;
      /** resources/strategies: one `.ts` file per template, `@name` and `@description` in its first comment. */
      templatesDir: string;
      bus?: EventBus;
      log?: Logger;
      /** A check taking longer is stopped (`strategy_timeout`) and its worker replaced (ARISTOBOT_STRATEGY_CHECK_TIMEOUT_MS). */
      checkTimeoutMs?: number;
      checker?: StrategyChecker;
    },
  ) {
    this.checker = d.checker ?? new StrategyChecker({ timeoutMs: d.checkTimeoutMs, log: d.log });
  }

  /** Terminates the checker's worker. */
  async stop(): Promise<void> {
    await this.checker.stop();
  }

  /** Type-check without saving (in the checker's worker thread). */
  check(code: string): Promise<CheckResult> {
    return this.checker.check(code);
  }

  /** Check and transpile, or refuse with the diagnostics (nothing is saved). */
  private async compile(code: string): Promise<{ js: string; check: CheckResult }> {
    const check = await this.checker.check(code);
    if (!check.ok) throw describe(check.diagnostics);
    return { js: transpileStrategy(code), check };
  }

  /** The templates in resources/strategies, each checked once (the first call; kept after). */
  templates(): Promise<StrategyTemplate[]> {
    this.templateCache ??= this.loadTemplates().catch((e: unknown) => {
      this.templateCache = null; // a failure (the checker stopped, files unreadable) is not kept
      throw e;
    });
    return this.templateCache;
  }

  private async loadTemplates(): Promise<StrategyTemplate[]> {
    const out: StrategyTemplate[] = [];
    let files: string[];
    try {
      files = readdirSync(this.d.templatesDir).filter((f) => f.endsWith('.ts')).sort();
    } catch (e) {
      throw new AppError('unavailable', 'errors.strategies.strategyTemplatesCannotRead', { templatesDir: this.d.templatesDir, reason: (e as Error).message });
    }
    for (const f of files) {
      const code = readFileSync(join(this.d.templatesDir, f), 'utf8');
      const id = f.replace(/\.ts$/, '');
      const name = /@name\s+(.+)/.exec(code)?.[1]?.trim() ?? id;
      const description = /@description\s+(.+)/.exec(code)?.[1]?.trim() ?? '';
      const check = await this.checker.check(code);
      if (!check.ok) {
        this.d.log?.error({ template: id, diagnostics: check.diagnostics }, 'a strategy template does not compile; left out');
        continue;
      }
      out.push({ id, name, description, code, params: check.params });
    }
    // The base template first, then by name.
    out.sort((a, b) => (a.id === DEFAULT_TEMPLATE ? -1 : b.id === DEFAULT_TEMPLATE ? 1 : a.name.localeCompare(b.name)));
    return out;
  }

  async list(profileId: string): Promise<StrategySummary[]> {
    return this.d.db.withProfile(profileId, async (c) => {
      const r = await c.query<Row>(`${SELECT_CURRENT} ORDER BY lower(s.name)`);
      return r.rows.map(summary);
    });
  }

  async get(profileId: string, id: string, version?: number): Promise<StrategyDetail> {
    return this.d.db.withProfile(profileId, async (c) => {
      if (version === undefined) return detail(await this.current(c, id));
      const r = await c.query<Row>(
        `SELECT s.id, s.name, s.description, s.timeframe, v.version AS current_version, s.created_at, s.updated_at, v.code, v.params, v.warmup
           FROM strategies s JOIN strategy_versions v ON v.strategy_id = s.id AND v.version = $2 WHERE s.id = $1`,
        [id, version],
      );
      const row = r.rows[0];
      if (!row) {
        await this.current(c, id); // not_found for the strategy itself first
        throw new AppError('not_found', 'errors.strategies.strategyHasNoVersion', { version }, { id, version });
      }
      return detail(row);
    });
  }

  private async current(c: pg.PoolClient, id: string, lock = false): Promise<Row> {
    const r = await c.query<Row>(`${SELECT_CURRENT} WHERE s.id = $1${lock ? ' FOR UPDATE OF s' : ''}`, [id]);
    const row = r.rows[0];
    if (!row) throw notFound(id);
    return row;
  }

  async create(profileId: string, input: CreateInput): Promise<StrategyDetail> {
    let code = input.code;
    if (code === undefined) {
      const id = input.template ?? DEFAULT_TEMPLATE;
      const templates = await this.templates();
      const t = templates.find((x) => x.id === id);
      if (!t) throw new AppError('invalid_input', 'errors.strategies.noTemplateTemplates', { id, id2: templates.map((x) => x.id).join(', ') }, { field: 'template' });
      code = t.code;
    }
    const { js, check } = await this.compile(code);
    const name = input.name.trim();
    const out = await this.d.db.withProfile(profileId, async (c) => {
      try {
        const s = await c.query<{ id: string }>('INSERT INTO strategies (name, description, timeframe) VALUES ($1, $2, $3) RETURNING id', [name, input.description ?? '', input.timeframe ?? null]);
        const id = s.rows[0]!.id;
        await c.query('INSERT INTO strategy_versions (strategy_id, version, code, js, params, warmup) VALUES ($1, 1, $2, $3, $4, $5)', [id, code, js, JSON.stringify(check.params), check.warmup]);
        return detail(await this.current(c, id));
      } catch (e) {
        if (isUniqueViolation(e)) throw new AppError('conflict', 'errors.strategies.strategyNamedAlreadyExists', { name }, { field: 'name' });
        throw e;
      }
    });
    this.d.bus?.emit('strategies.changed', { id: out.id, action: 'created' }, { profileId });
    return out;
  }

  async update(profileId: string, input: UpdateInput): Promise<StrategyDetail> {
    // Compile before touching the database: code that does not compile changes nothing.
    const compiled = input.code !== undefined ? await this.compile(input.code) : null;
    const out = await this.d.db.withProfile(profileId, async (c) => {
      const cur = await this.current(c, input.id, true);
      let version = cur.current_version;
      if (compiled && input.code !== cur.code) {
        version += 1;
        await c.query('INSERT INTO strategy_versions (strategy_id, version, code, js, params, warmup) VALUES ($1, $2, $3, $4, $5, $6)', [
          input.id,
          version,
          input.code,
          compiled.js,
          JSON.stringify(compiled.check.params),
          compiled.check.warmup,
        ]);
      }
      const name = input.name?.trim() ?? cur.name;
      try {
        await c.query(
          `UPDATE strategies SET name = $2, description = $3, timeframe = $4, current_version = $5, updated_at = now() WHERE id = $1`,
          [input.id, name, input.description ?? cur.description, input.timeframe === undefined ? cur.timeframe : input.timeframe, version],
        );
      } catch (e) {
        if (isUniqueViolation(e)) throw new AppError('conflict', 'errors.strategies.strategyNamedAlreadyExists', { name }, { field: 'name' });
        throw e;
      }
      return detail(await this.current(c, input.id));
    });
    this.d.bus?.emit('strategies.changed', { id: out.id, action: 'updated' }, { profileId });
    return out;
  }

  /** A copy of the current version as a new strategy: "<name> (copy)", "(copy 2)", … unless named. */
  async duplicate(profileId: string, id: string, name?: string): Promise<StrategyDetail> {
    const src = await this.d.db.withProfile(profileId, async (c) => {
      const cur = await this.current(c, id);
      const v = await c.query<{ js: string }>('SELECT js FROM strategy_versions WHERE strategy_id = $1 AND version = $2', [id, cur.current_version]);
      return { cur, js: v.rows[0]!.js };
    });
    const names = name ? [name.trim()] : Array.from({ length: 20 }, (_, k) => `${src.cur.name.slice(0, 70)} (copy${k ? ` ${k + 1}` : ''})`);
    for (const candidate of names) {
      try {
        const out = await this.d.db.withProfile(profileId, async (c) => {
          const s = await c.query<{ id: string }>('INSERT INTO strategies (name, description, timeframe) VALUES ($1, $2, $3) RETURNING id', [candidate, src.cur.description, src.cur.timeframe]);
          const newId = s.rows[0]!.id;
          await c.query('INSERT INTO strategy_versions (strategy_id, version, code, js, params, warmup) VALUES ($1, 1, $2, $3, $4, $5)', [
            newId,
            src.cur.code,
            src.js,
            JSON.stringify(src.cur.params),
            src.cur.warmup,
          ]);
          return detail(await this.current(c, newId));
        });
        this.d.bus?.emit('strategies.changed', { id: out.id, action: 'created' }, { profileId });
        return out;
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        if (name) throw new AppError('conflict', 'errors.strategies.strategyNamedAlreadyExists2', { candidate }, { field: 'name' });
      }
    }
    throw new AppError('conflict', 'errors.strategies.tooManyCopiesGive', { name: src.cur.name }, { field: 'name' });
  }

  async delete(profileId: string, id: string): Promise<void> {
    await this.d.db.withProfile(profileId, async (c) => {
      const r = await c.query('DELETE FROM strategies WHERE id = $1', [id]);
      if (r.rowCount === 0) throw notFound(id);
    });
    this.d.bus?.emit('strategies.changed', { id, action: 'deleted' }, { profileId });
  }

  async versions(profileId: string, id: string): Promise<StrategyVersionInfo[]> {
    return this.d.db.withProfile(profileId, async (c) => {
      await this.current(c, id);
      const r = await c.query<{ version: number; params: Record<string, ParamSpec>; warmup: number; size: number; created_at: Date }>(
        'SELECT version, params, warmup, length(code) AS size, created_at FROM strategy_versions WHERE strategy_id = $1 ORDER BY version DESC',
        [id],
      );
      return r.rows.map((v) => ({ version: v.version, params: v.params, warmup: v.warmup, size: Number(v.size), createdAt: v.created_at.toISOString() }));
    });
  }

  /**
   * One saved version (the current one unless `version` is given), as the backtester and the bot
   * run it: the code, its JavaScript (transpiled when saved), the declared params and warm-up.
   */
  async getVersion(profileId: string, strategyId: string, version?: number): Promise<RunnableVersion> {
    return this.d.db.withProfile(profileId, async (c) => {
      const r = await c.query<{ id: string; name: string; version: number; code: string; js: string; params: Record<string, ParamSpec>; warmup: number }>(
        `SELECT v.id, s.name, v.version, v.code, v.js, v.params, v.warmup
           FROM strategies s JOIN strategy_versions v ON v.strategy_id = s.id AND v.version = COALESCE($2::int, s.current_version)
          WHERE s.id = $1`,
        [strategyId, version ?? null],
      );
      const row = r.rows[0];
      if (!row) {
        if (version !== undefined) await this.current(c, strategyId);
        throw version !== undefined ? new AppError('not_found', 'errors.strategies.strategyHasNoVersion', { version }, { id: strategyId, version }) : notFound(strategyId);
      }
      return { strategyId, name: row.name, versionId: row.id, version: row.version, code: row.code, js: row.js, params: row.params, warmup: row.warmup };
    });
  }
}
