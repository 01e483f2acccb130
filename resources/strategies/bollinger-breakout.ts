/**
 * @name Bollinger breakout
 * @description Long when the close breaks above the upper band, short when it breaks below the lower band, out at the middle band.
 */
import { Strategy, ta } from 'aristobot';

export default class BollingerBreakout extends Strategy {
  static params = {
    period: { default: 20, min: 5, max: 100, step: 1, label: 'Bands period' },
    width: { default: 2, min: 0.5, max: 4, step: 0.1, label: 'Width (standard deviations)' },
  };

  static warmup = 25;

  upper!: Float64Array;
  middle!: Float64Array;
  lower!: Float64Array;

  init() {
    const bands = ta.bbands(this.close, this.params.period, this.params.width);
    this.upper = bands.upper;
    this.middle = bands.middle;
    this.lower = bands.lower;
  }

  shouldLong() {
    return this.crossover(this.close, this.upper);
  }

  shouldShort() {
    return this.crossunder(this.close, this.lower);
  }

  /** Momentum gone: the close is back across the middle band. */
  shouldExit() {
    if (this.position?.side === 'long') return this.crossunder(this.close, this.middle);
    if (this.position?.side === 'short') return this.crossover(this.close, this.middle);
    return false;
  }

  calculatePositionSize() {
    return 1;
  }

  calculateStopLoss() {
    return 0.04;
  }

  calculateTakeProfit() {
    return null;
  }
}
