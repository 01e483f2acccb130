/**
 * The two catalogues, assembled from one file per area. Adding an area: create
 * `en/<area>.ts` and `fr/<area>.ts` (typed `satisfies Shape<typeof en>`) and add one line to each
 * object below.
 */
import enCommon from './en/common';
import frCommon from './fr/common';
import enErrors from './en/errors';
import frErrors from './fr/errors';
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

export const en = {
  common: enCommon,
  errors: enErrors,
  shell: enShell,
  loginPage: enLoginPage,
  accountPage: enAccountPage,
  heartbeatPage: enHeartbeatPage,
  tradingPage: enTradingPage,
};

export const fr = {
  common: frCommon,
  errors: frErrors,
  shell: frShell,
  loginPage: frLoginPage,
  accountPage: frAccountPage,
  heartbeatPage: frHeartbeatPage,
  tradingPage: frTradingPage,
} satisfies Record<keyof typeof en, unknown>;
