/** Scripted answers for the AI stub: strategies that pass the check, and one that does not. */

export const RSI_STRATEGY = `import { Strategy, ta } from 'aristobot';

/** RSI mean reversion: long when RSI is oversold, short when overbought. */
export default class RsiMeanReversion extends Strategy {
  static params = {
    period: { default: 14, min: 2, max: 50, step: 1, label: 'RSI period' },
    oversold: { default: 30, min: 5, max: 50, step: 1, label: 'Oversold' },
    overbought: { default: 70, min: 50, max: 95, step: 1, label: 'Overbought' },
  };

  rsi: Float64Array = new Float64Array(0);

  init(): void {
    this.rsi = ta.rsi(this.close, this.params.period);
  }

  shouldLong(): boolean {
    return this.rsi[this.i] < this.params.oversold;
  }

  shouldShort(): boolean {
    return this.rsi[this.i] > this.params.overbought;
  }

  calculateStopLoss(): number | null {
    return 0.03;
  }
}
`;

/** The same with a typo (`this.rsii`): fails the type check at line 19. */
export const RSI_STRATEGY_TYPO = RSI_STRATEGY.replace('return this.rsi[this.i] < this.params.oversold', 'return this.rsii[this.i] < this.params.oversold');

export const answerWith = (code: string, words = 'This strategy buys when the RSI is oversold and sells when it is overbought.') => `Here is the strategy:\n\n\`\`\`ts\n${code}\`\`\`\n\n${words}`;

export const EXPLANATION = 'This strategy computes a 14-period RSI once in init(). It goes long when the RSI falls below 30 (oversold) and short above 70 (overbought), with a 3% stop-loss.';
