/**
 * The two catalogues, assembled from one file per area. Adding an area: create
 * `en/<area>.ts` and `fr/<area>.ts` (typed `satisfies Shape<typeof en>`) and add one line to each
 * object below.
 */
import enCommon from './en/common';
import frCommon from './fr/common';
import enErrors from './en/errors';
import frErrors from './fr/errors';
import enCharts from './en/charts';
import frCharts from './fr/charts';
import enFirstrun from './en/firstrun';
import frFirstrun from './fr/firstrun';
import enStatscurrency from './en/statscurrency';
import frStatscurrency from './fr/statscurrency';
import enCore from './en/core';
import frCore from './fr/core';
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
import enShell from './en/shell';
import frShell from './fr/shell';
import enLoginPage from './en/loginPage';
import frLoginPage from './fr/loginPage';
import enAccountPage from './en/accountPage';
import frAccountPage from './fr/accountPage';
import enHeartbeatPage from './en/heartbeatPage';
import frHeartbeatPage from './fr/heartbeatPage';
import enTradingPage from './en/tradingPage';
import frTradingPage from './fr/tradingPage';
import enCoreWebhooks from './en/coreWebhooks';
import frCoreWebhooks from './fr/coreWebhooks';
import enCoreHeartbeat from './en/coreHeartbeat';
import frCoreHeartbeat from './fr/coreHeartbeat';
import enCoreRest from './en/coreRest';
import frCoreRest from './fr/coreRest';
import enCoreTrading from './en/coreTrading';
import frCoreTrading from './fr/coreTrading';
import enCoreBot from './en/coreBot';
import frCoreBot from './fr/coreBot';
import enCoreLast from './en/coreLast';
import frCoreLast from './fr/coreLast';

export const en = {
  common: enCommon,
  errors: enErrors,
  charts: enCharts,
  firstrun: enFirstrun,
  statscurrency: enStatscurrency,
  core: enCore,
  strategies: enStrategies,
  backtest: enBacktest,
  stats: enStats,
  webhooks: enWebhooks,
  bot: enBot,
  shell: enShell,
  loginPage: enLoginPage,
  accountPage: enAccountPage,
  heartbeatPage: enHeartbeatPage,
  tradingPage: enTradingPage,
  coreWebhooks: enCoreWebhooks,
  coreHeartbeat: enCoreHeartbeat,
  coreRest: enCoreRest,
  coreTrading: enCoreTrading,
  coreBot: enCoreBot,
  coreLast: enCoreLast,
};

export const fr = {
  common: frCommon,
  errors: frErrors,
  charts: frCharts,
  firstrun: frFirstrun,
  statscurrency: frStatscurrency,
  core: frCore,
  strategies: frStrategies,
  backtest: frBacktest,
  stats: frStats,
  webhooks: frWebhooks,
  bot: frBot,
  shell: frShell,
  loginPage: frLoginPage,
  accountPage: frAccountPage,
  heartbeatPage: frHeartbeatPage,
  tradingPage: frTradingPage,
  coreWebhooks: frCoreWebhooks,
  coreHeartbeat: frCoreHeartbeat,
  coreRest: frCoreRest,
  coreTrading: frCoreTrading,
  coreBot: frCoreBot,
  coreLast: frCoreLast,
} satisfies Record<keyof typeof en, unknown>;
