/**
 * @name EMA cross
 * @description Long when the fast EMA crosses above the slow one, short (or out) when it crosses below.
 */
import { Strategy, ta } from 'aristobot';

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

  calculatePositionSize() {
    return 0.95;
  }

  calculateStopLoss() {
    return this.params.stopLoss;
  }

  calculateTakeProfit() {
    return null;
  }
}
