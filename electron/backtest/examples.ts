import { AppError } from '../../shared/errors';
import { transpileStrategy } from '../strategies/transpile';
import type { StrategySource, StrategyVersion } from './service';

/**
 * Example strategies always available to backtests (ids `example:…`), so the page works before a
 * strategy is written and tests have real strategies to run. The strategies service's saved versions
 * come first; these answer only for their own ids.
 */
const SOURCES: Record<string, { name: string; code: string }> = {
  'example:sma-cross': {
    name: 'SMA cross (example)',
    code: `import { Strategy, ta } from 'aristobot';

/** Long when the fast SMA crosses above the slow one; out (or short) when it crosses below. */
export default class SmaCross extends Strategy {
  static params = {
    fast: { default: 10, min: 2, max: 200, step: 1, label: 'Fast SMA' },
    slow: { default: 20, min: 3, max: 400, step: 1, label: 'Slow SMA' },
  };
  static warmup = 20;

  fastSma!: Float64Array;
  slowSma!: Float64Array;

  init() {
    this.fastSma = ta.sma(this.close, this.params.fast);
    this.slowSma = ta.sma(this.close, this.params.slow);
  }
  shouldLong() {
    return this.crossover(this.fastSma, this.slowSma);
  }
  shouldShort() {
    return this.crossunder(this.fastSma, this.slowSma);
  }
}
`,
  },
  'example:ema-cross': {
    name: 'EMA cross with a stop (example)',
    code: `import { Strategy, ta } from 'aristobot';

/** Long when the fast EMA crosses above the slow one, out when it crosses below; 5% stop-loss. */
export default class EmaCross extends Strategy {
  static params = {
    fast: { default: 12, min: 2, max: 100, step: 1, label: 'Fast EMA' },
    slow: { default: 26, min: 5, max: 300, step: 1, label: 'Slow EMA' },
    stopLoss: { default: 0.05, min: 0.005, max: 0.5, step: 0.005, label: 'Stop-loss (fraction)' },
  };
  static warmup = 30;

  fastEma!: Float64Array;
  slowEma!: Float64Array;

  init() {
    this.fastEma = ta.ema(this.close, this.params.fast);
    this.slowEma = ta.ema(this.close, this.params.slow);
  }
  shouldLong() {
    return this.crossover(this.fastEma, this.slowEma);
  }
  shouldShort() {
    return this.crossunder(this.fastEma, this.slowEma);
  }
  calculateStopLoss() {
    return this.params.stopLoss;
  }
}
`,
  },
};

export const EXAMPLE_PREFIX = 'example:';

export function exampleStrategies(): { strategyId: string; name: string; version: number }[] {
  return Object.entries(SOURCES).map(([id, s]) => ({ strategyId: id, name: s.name, version: 1 }));
}

export function exampleVersion(id: string): StrategyVersion {
  const s = SOURCES[id];
  if (!s) throw new AppError('not_found', 'errors.backtest.noStrategy', { id });
  // params and warmup are read by the kernel from the code itself (kernel.info)
  return { strategyId: id, name: s.name, version: 1, code: s.code, js: transpileStrategy(s.code), params: {}, warmup: 0 };
}

/** The examples in front of another source (the strategies service), or alone. */
export function withExamples(source?: StrategySource): StrategySource {
  return {
    list: async (profileId) => [...exampleStrategies(), ...((await source?.list?.(profileId)) ?? [])],
    getVersion: async (profileId, strategyId, version) => {
      if (strategyId.startsWith(EXAMPLE_PREFIX)) {
        if (version !== undefined && version !== 1) throw new AppError('not_found', 'errors.backtest.exampleHasOnlyVersion', { strategyId });
        return exampleVersion(strategyId);
      }
      if (!source) throw new AppError('not_found', 'errors.backtest.noStrategySavedStrategies', { strategyId });
      return source.getVersion(profileId, strategyId, version);
    },
  };
}
