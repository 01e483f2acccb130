/**
 * The two catalogues, assembled from one file per area. Adding an area: create
 * `en/<area>.ts` and `fr/<area>.ts` (typed `satisfies Shape<typeof en>`) and add one line to each
 * object below.
 */
import enCommon from './en/common';
import frCommon from './fr/common';
import enErrors from './en/errors';
import frErrors from './fr/errors';
import enStrategies from './en/strategies';
import frStrategies from './fr/strategies';
import enBacktest from './en/backtest';
import frBacktest from './fr/backtest';
import enStats from './en/stats';
import frStats from './fr/stats';
import enWebhooks from './en/webhooks';
import frWebhooks from './fr/webhooks';
import enBot from './en/bot';
import frBot from './fr/bot';

export const en = {
  common: enCommon,
  errors: enErrors,
  strategies: enStrategies,
  backtest: enBacktest,
  stats: enStats,
  webhooks: enWebhooks,
  bot: enBot,
};

export const fr = {
  common: frCommon,
  errors: frErrors,
  strategies: frStrategies,
  backtest: frBacktest,
  stats: frStats,
  webhooks: frWebhooks,
  bot: frBot,
} satisfies Record<keyof typeof en, unknown>;
