import { AppError, invalidField, isAppError } from '../../shared/errors';
import type { MessageKey, Params, Text } from '../../shared/i18n';
import type { BacktestRunParams } from '../../shared/contract/backtest';
import type { Database } from '../db/database';
import type { Broker } from '../exchanges/brokers';
import type { ExchangeGateway } from '../exchanges/gateway';
import type { Logger } from '../log';
import { currentSandbox } from '../trading/mode';
import { nested, saidOf, say } from './text';

/**
 * The road to live: before an activation trades real money, four steps, each with its evidence.
 *
 * ① code — the strategy version loads in the kernel (compiles, declares its params);
 * ② backtest — a finished backtest run of THIS version on this symbol and timeframe exists;
 * ③ lookahead — the lookahead check of that run passed (run by the gate once per run, recorded);
 * ④ paper — a paper activation of this version made decisions over at least `paperHours` without an
 *    error (no decision in error, the activation not in error).
 *
 * Everything is keyed by the strategy version: a new version starts the road again. A live
 * activation (a broker that is neither paper nor on its exchange's testnet) starts only with the four
 * green, or with an explicit override that is recorded with the activation (the red steps, when).
 */

export type StepKey = 'code' | 'backtest' | 'lookahead' | 'paper';
export const STEP_ORDER: StepKey[] = ['code', 'backtest', 'lookahead', 'paper'];
const STEP_TITLE = (k: StepKey) => say(`coreBot.gate.steps.${k}`);

/** The red steps' titles as one message (each worded in the sentence's language). */
function redList(red: StepKey[]): Text {
  const names = ['a', 'b', 'c', 'd'] as const;
  const size = (['one', 'two', 'three', 'four'] as const)[Math.min(red.length, 4) - 1] ?? 'one';
  return { key: `coreBot.gate.list.${size}`, params: Object.fromEntries(red.slice(0, 4).map((k, i) => [names[i], nested(STEP_TITLE(k))])) };
}

/** A step with its title and detail in English and by key (the renderer words them in the profile's language). */
function step(key: StepKey, ok: boolean, detailKey: MessageKey, params: Record<string, unknown>, evidence: GateStep['evidence']): GateStep {
  const title = STEP_TITLE(key);
  const detail = say(detailKey, params);
  return { key, title: title.text, ok, detail: detail.text, titleKey: title.key, titleParams: title.params, detailKey: detail.key, detailParams: detail.params, evidence };
}

export interface GateStep {
  key: StepKey;
  title: string;
  ok: boolean;
  detail: string;
  titleKey: string;
  titleParams: Params;
  detailKey: string;
  detailParams: Params;
  evidence: { runId?: string; activationId?: string; from?: string; to?: string; hours?: number; at?: string; versionId?: string } | null;
}
export interface GateResult {
  activationId: string | null;
  strategyId: string | null;
  version: number;
  /** The broker trades real money (not paper, not testnet): the gate applies. */
  live: boolean;
  mode: 'live' | 'testnet' | 'paper';
  open: boolean;
  red: StepKey[];
  steps: GateStep[];
  requiredPaperHours: number;
  override: { at: string; redSteps: string[] } | null;
}

export interface GateTarget {
  strategyId: string;
  version?: number;
  symbol: string;
  timeframe: string;
  brokerId: string;
}

export interface GateDeps {
  db: Database;
  log: Logger;
  brokers: { get(profileId: string, id: string): Promise<Broker> };
  gateway: Pick<ExchangeGateway, 'info'>;
  strategies: { getVersion(profileId: string, strategyId: string, version?: number): Promise<{ strategyId: string; versionId: string; version: number; js: string; name: string }> };
  kernel: { info(c: { js: string }): Promise<unknown> };
  backtests: { lookahead(profileId: string, input: BacktestRunParams): Promise<{ ok: boolean; checked: number; differences: { index: number; time: number; full: string; truncated: string }[] }> };
  /** ④'s minimum duration (hours); default ARISTOBOT_GATE_PAPER_HOURS or 24. */
  paperHours?: number;
}

/** ARISTOBOT_GATE_PAPER_HOURS: a positive number of hours (fractions allowed). */
export function paperHoursFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ARISTOBOT_GATE_PAPER_HOURS;
  if (raw === undefined || raw === '') return 24;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`ARISTOBOT_GATE_PAPER_HOURS must be a number of hours ≥ 0, got "${raw}"`);
  return n;
}

interface RunRow {
  id: string;
  broker_id: string | null;
  exchange: string;
  symbol: string;
  timeframe: string;
  range_from: Date;
  range_to: Date;
  initial_balance: { toFixed(): string };
  params: Record<string, number>;
  inputs: Record<string, unknown>;
  finished_at: Date | null;
}

export class RoadToLive {
  readonly paperHours: number;
  constructor(private readonly d: GateDeps) {
    this.paperHours = d.paperHours ?? paperHoursFromEnv();
  }

  /** The gate of an existing activation. */
  async gate(profileId: string, activationId: string): Promise<GateResult> {
    const a = await this.activation(profileId, activationId);
    if (!a.broker_id) throw new AppError('conflict', 'errors.bot.brokerActivationWasDeleted');
    if (!a.strategy_id) throw new AppError('conflict', 'errors.bot.strategyActivationWasDeleted2');
    const g = await this.evaluate(profileId, { strategyId: a.strategy_id, version: a.version, symbol: a.symbol, timeframe: a.timeframe, brokerId: a.broker_id });
    const { rows } = await this.d.db.withProfile(profileId, (c) =>
      c.query<{ at: Date; red_steps: string[] }>('SELECT at, red_steps FROM bot_gate_overrides WHERE activation_id = $1 AND version = $2 ORDER BY at DESC LIMIT 1', [activationId, a.version]),
    );
    return { ...g, activationId, override: rows[0] ? { at: rows[0].at.toISOString(), redSteps: rows[0].red_steps } : null };
  }

  /**
   * Refuses (gate_closed, naming the red steps) to start a live activation whose road is not green,
   * unless `override`; an override with red steps is recorded with the activation.
   */
  async assertOpen(profileId: string, target: GateTarget, override: boolean): Promise<GateResult | null> {
    // paper and testnet activations move no real money: no gate (and no lookahead run on each start)
    const broker = await this.d.brokers.get(profileId, target.brokerId).catch(() => null);
    if (broker && (broker.paper || (await currentSandbox(this.d.db, this.d.gateway, profileId, broker)))) return null;
    const g = await this.evaluate(profileId, target);
    if (!g.live || g.open) return g;
    if (!override) {
      throw new AppError('gate_closed', 'errors.bot.activationTradesRealMoney', { red: redList(g.red), count: g.red.length }, { red: g.red, steps: g.steps }
      );
    }
    return g;
  }

  /** Whether the user already confirmed the override for this activation at this version (a Resume does not ask again). */
  async overridden(profileId: string, activationId: string, version: number): Promise<boolean> {
    const { rows } = await this.d.db.withProfile(profileId, (c) => c.query('SELECT 1 FROM bot_gate_overrides WHERE activation_id = $1 AND version = $2 LIMIT 1', [activationId, version]));
    return rows.length > 0;
  }

  /** Records the user's explicit override (the red steps at that moment) with the activation. */
  async recordOverride(profileId: string, activationId: string, g: GateResult | null): Promise<void> {
    if (!g || !g.live || g.open) return;
    await this.d.db.withProfile(profileId, (c) =>
      c.query('INSERT INTO bot_gate_overrides (activation_id, strategy_id, version, red_steps) VALUES ($1, $2, $3, $4)', [activationId, g.strategyId, g.version, g.red]),
    );
    this.d.log.warn({ activation: activationId, red: g.red }, 'bot: live activation started with the road to live incomplete (override confirmed)');
  }

  private async activation(profileId: string, id: string) {
    const { rows } = await this.d.db.withProfile(profileId, (c) =>
      c.query<{ id: string; strategy_id: string | null; version: number; symbol: string; timeframe: string; broker_id: string | null }>('SELECT id, strategy_id, version, symbol, timeframe, broker_id FROM bot_activations WHERE id = $1', [id]),
    );
    if (!rows[0]) throw new AppError('not_found', 'errors.bot.noSuchActivation', {}, { id });
    return rows[0];
  }

  /** The four steps for a strategy version on a broker, symbol and timeframe. */
  async evaluate(profileId: string, t: GateTarget): Promise<GateResult> {
    let broker: Broker;
    try {
      broker = await this.d.brokers.get(profileId, t.brokerId);
    } catch (e) {
      if (isAppError(e) && e.code === 'not_found') throw invalidField('brokerId', e.key, e.params);
      throw e;
    }
    let v;
    try {
      v = await this.d.strategies.getVersion(profileId, t.strategyId, t.version);
    } catch (e) {
      if (isAppError(e) && e.code === 'not_found') throw invalidField('strategyId', e.key, e.params);
      throw e;
    }
    const sandbox = await currentSandbox(this.d.db, this.d.gateway, profileId, broker);
    const mode = broker.paper ? 'paper' : sandbox ? 'testnet' : 'live';
    const steps: GateStep[] = [];

    // ① the code
    try {
      await this.d.kernel.info({ js: v.js });
      steps.push(step('code', true, 'coreBot.gate.codeOk', { version: v.version, name: v.name }, { versionId: v.versionId }));
    } catch (e) {
      steps.push(step('code', false, 'coreBot.gate.codeFailed', { version: v.version, reason: nested(saidOf(e)) }, { versionId: v.versionId }));
    }

    // ② a backtest of this version on this symbol and timeframe
    const { rows: runs } = await this.d.db.withProfile(profileId, (c) =>
      c.query<RunRow>(
        "SELECT id, broker_id, exchange, symbol, timeframe, range_from, range_to, initial_balance, params, inputs, finished_at FROM backtest_runs WHERE kind = 'run' AND status = 'done' AND strategy_id = $1 AND strategy_version = $2 AND symbol = $3 AND timeframe = $4 ORDER BY finished_at DESC NULLS LAST LIMIT 1",
        [v.strategyId, v.version, t.symbol, t.timeframe],
      ),
    );
    const run = runs[0];
    steps.push(
      run
        ? step(
            'backtest',
            true,
            'coreBot.gate.backtestOk',
            { version: v.version, symbol: t.symbol, timeframe: t.timeframe, from: run.range_from.toISOString().slice(0, 10), to: run.range_to.toISOString().slice(0, 10) },
            { runId: run.id, from: run.range_from.toISOString(), to: run.range_to.toISOString(), at: run.finished_at?.toISOString() },
          )
        : step('backtest', false, 'coreBot.gate.backtestMissing', { version: v.version, symbol: t.symbol, timeframe: t.timeframe }, null),
    );

    // ③ the lookahead check of that run (once per run)
    if (!run) steps.push(step('lookahead', false, 'coreBot.gate.lookaheadNeedsBacktest', {}, null));
    else steps.push(await this.lookaheadStep(profileId, run, v));

    // ④ a paper run of this version
    steps.push(await this.paperStep(profileId, v));

    const red = steps.filter((s) => !s.ok).map((s) => s.key);
    return { activationId: null, strategyId: v.strategyId, version: v.version, live: mode === 'live', mode, open: red.length === 0, red, steps, requiredPaperHours: this.paperHours, override: null };
  }

  private async lookaheadStep(profileId: string, run: RunRow, v: { strategyId: string; version: number }): Promise<GateStep> {
    const read = async () =>
      (await this.d.db.withProfile(profileId, (c) => c.query<{ ok: boolean; checked: number; differences: number; detail: Record<string, unknown> | null; checked_at: Date }>('SELECT * FROM bot_gate_lookahead WHERE run_id = $1', [run.id]))).rows[0];
    let rec = await read();
    if (!rec) {
      const inputs = run.inputs;
      const params: BacktestRunParams = {
        strategyId: v.strategyId,
        version: v.version,
        params: run.params,
        ...(run.broker_id ? { brokerId: run.broker_id } : { exchange: run.exchange }),
        symbol: run.symbol,
        timeframe: run.timeframe as BacktestRunParams['timeframe'],
        from: run.range_from.getTime(),
        to: run.range_to.getTime(),
        initialBalance: run.initial_balance.toFixed(),
        ...(inputs.fees ? { fees: inputs.fees as { maker: number; taker: number } } : {}),
        ...(typeof inputs.slippageBps === 'number' ? { slippageBps: inputs.slippageBps } : {}),
        ...(inputs.fillAt === 'open' || inputs.fillAt === 'close' ? { fillAt: inputs.fillAt } : {}),
        ...(typeof inputs.amountStep === 'number' ? { amountStep: inputs.amountStep } : {}),
      } as BacktestRunParams;
      try {
        const r = await this.d.backtests.lookahead(profileId, params);
        const first = r.differences[0];
        await this.d.db.withProfile(profileId, (c) =>
          c.query('INSERT INTO bot_gate_lookahead (run_id, ok, checked, differences, detail) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (run_id) DO NOTHING', [run.id, r.ok, r.checked, r.differences.length, first ? JSON.stringify(first) : null]),
        );
      } catch (e) {
        // not recorded: the next look tries again (e.g. the exchange was unreachable)
        return step('lookahead', false, 'coreBot.gate.lookaheadCouldNotRun', { reason: nested(saidOf(e)) }, { runId: run.id });
      }
      rec = await read();
    }
    if (!rec) return step('lookahead', false, 'coreBot.gate.lookaheadNotRecorded', {}, { runId: run.id });
    const first = rec.detail as { time?: number; full?: string; truncated?: string } | null;
    const evidence = { runId: run.id, at: rec.checked_at.toISOString() };
    if (rec.ok) return step('lookahead', true, 'coreBot.gate.lookaheadOk', { checked: rec.checked }, evidence);
    return first?.time
      ? step('lookahead', false, 'coreBot.gate.lookaheadFailedAt', { count: rec.differences, at: new Date(first.time).toISOString(), full: first.full, truncated: first.truncated }, evidence)
      : step('lookahead', false, 'coreBot.gate.lookaheadFailed', { count: rec.differences }, evidence);
  }

  private async paperStep(profileId: string, v: { strategyId: string; version: number }): Promise<GateStep> {
    const { rows } = await this.d.db.withProfile(profileId, (c) =>
      c.query<{ id: string; symbol: string; state: string; first: Date; last: Date; errors: number; decisions: number }>(
        `SELECT a.id, a.symbol, a.state, min(d.created_at) AS first, max(d.created_at) AS last,
                count(*) FILTER (WHERE d.status = 'error')::int AS errors, count(*)::int AS decisions
           FROM bot_activations a
           JOIN brokers b ON b.id = a.broker_id AND b.paper
           JOIN bot_decisions d ON d.activation_id = a.id AND d.kind <> 'skipped'
          WHERE a.strategy_id = $1 AND a.version = $2
          GROUP BY a.id, a.symbol, a.state`,
        [v.strategyId, v.version],
      ),
    );
    const hoursOf = (r: { first: Date; last: Date }) => (r.last.getTime() - r.first.getTime()) / 3_600_000;
    const clean = rows.filter((r) => r.errors === 0 && r.state !== 'error').sort((a, b) => hoursOf(b) - hoursOf(a));
    const best = clean[0];
    const need = this.paperHours;
    if (best && hoursOf(best) >= need) {
      return step('paper', true, 'coreBot.gate.paperOk', { symbol: best.symbol, hours: hoursOf(best).toFixed(1), decisions: best.decisions }, { activationId: best.id, from: best.first.toISOString(), to: best.last.toISOString(), hours: hoursOf(best) });
    }
    if (best) {
      return step('paper', false, 'coreBot.gate.paperShort', { symbol: best.symbol, hours: hoursOf(best).toFixed(1), need }, { activationId: best.id, from: best.first.toISOString(), to: best.last.toISOString(), hours: hoursOf(best) });
    }
    const failed = rows.find((r) => r.errors > 0 || r.state === 'error');
    if (failed) return step('paper', false, 'coreBot.gate.paperFailed', { symbol: failed.symbol }, { activationId: failed.id });
    return step('paper', false, 'coreBot.gate.paperMissing', { version: v.version, need }, null);
  }
}
