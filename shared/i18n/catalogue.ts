/**
 * The two catalogues, assembled from one file per area. Adding an area: create
 * `en/<area>.ts` and `fr/<area>.ts` (typed `satisfies Shape<typeof en>`) and add one line to each
 * object below.
 */
import enCommon from './en/common';
import frCommon from './fr/common';
import enErrors from './en/errors';
import frErrors from './fr/errors';
import enCore from './en/core';
import frCore from './fr/core';

export const en = {
  common: enCommon,
  errors: enErrors,
  core: enCore,
};

export const fr = {
  common: frCommon,
  errors: frErrors,
  core: frCore,
} satisfies Record<keyof typeof en, unknown>;
