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

export const en = {
  common: enCommon,
  errors: enErrors,
  charts: enCharts,
  firstrun: enFirstrun,
  statscurrency: enStatscurrency,
  core: enCore,
};

export const fr = {
  common: frCommon,
  errors: frErrors,
  charts: frCharts,
  firstrun: frFirstrun,
  statscurrency: frStatscurrency,
  core: frCore,
} satisfies Record<keyof typeof en, unknown>;
