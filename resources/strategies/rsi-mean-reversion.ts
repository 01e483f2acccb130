/**
 * @name RSI mean reversion
 * @description Buy when the RSI leaves the oversold zone, sell when it leaves the overbought zone, exit at the middle.
 */
import { Strategy, ta } from 'aristobot';

export default class RsiMeanReversion extends Strategy {
  static params = {
    period: { default: 14, min: 2, max: 50, step: 1, label: 'RSI period' },
    oversold: { default: 30, min: 5, max: 50, step: 1, label: 'Oversold below' },
    overbought: { default: 70, min: 50, max: 95, step: 1, label: 'Overbought above' },
  };

  static warmup = 20;

  rsi!: Float64Array;

  init() {
    this.rsi = ta.rsi(this.close, this.params.period);
  }

  /** The RSI climbs back above the oversold line. */
  shouldLong() {
    const prev = this.rsi[this.i - 1];
    const now = this.rsi[this.i];
    return prev < this.params.oversold && now >= this.params.oversold;
  }

  /** The RSI falls back below the overbought line. */
  shouldShort() {
    const prev = this.rsi[this.i - 1];
    const now = this.rsi[this.i];
    return prev > this.params.overbought && now <= this.params.overbought;
  }

  /** Back to the middle: take the reversion and stand aside. */
  shouldExit() {
    const now = this.rsi[this.i];
    if (this.position?.side === 'long') return now >= 50;
    if (this.position?.side === 'short') return now <= 50;
    return false;
  }

  calculatePositionSize() {
    return 0.5;
  }

  calculateStopLoss() {
    return 0.03;
  }

  calculateTakeProfit() {
    return 0.06;
  }
}
