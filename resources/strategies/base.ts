/**
 * @name Base template
 * @description The skeleton of a strategy: every method the engine calls, with what it means.
 */
import { Strategy, ta } from 'aristobot';

export default class MyStrategy extends Strategy {
  /** Declared parameters: form fields in backtests and bots, and the optimiser's search space. */
  static params = {
    period: { default: 20, min: 2, max: 200, step: 1, label: 'SMA period' },
  };

  /** Candles needed before the first decision. */
  static warmup = 20;

  sma!: Float64Array;

  /** Compute indicators once, over whole columns. */
  init() {
    this.sma = ta.sma(this.close, this.params.period);
  }

  /** Flat: open a long. Short: close it and reverse to long. */
  shouldLong() {
    return this.crossover(this.close, this.sma);
  }

  /** Flat: open a short (where shorting is allowed). Long: close it (and reverse where allowed). */
  shouldShort() {
    return this.crossunder(this.close, this.sma);
  }

  /** Close the open position without reversing. */
  shouldExit() {
    return false;
  }

  /** Fraction of the balance (0–1) a new position uses. */
  calculatePositionSize() {
    return 1;
  }

  /** Stop-loss as a fraction of the entry price (0.02 = 2%), or null for none. */
  calculateStopLoss() {
    return null;
  }

  /** Take-profit as a fraction of the entry price, or null for none. */
  calculateTakeProfit() {
    return null;
  }
}
