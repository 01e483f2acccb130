import type { Shape } from '../index';
import type en from '../en/statscurrency';

/** Le choix de la devise de valorisation de la page Statistiques (StatsCurrency.vue). */
export default {
  label: 'Valorisé en',
  placeholder: 'ex. USDT, USDC, BTC, EUR',
  apply: 'Appliquer',
  saving: 'Enregistrement…',
  hint: 'Les chiffres et les relevés de valeur du portefeuille seront désormais exprimés dans cette devise.',
  changed: 'Chiffres désormais exprimés en {currency}.',
  empty: 'Saisissez un code de devise.',
  other: 'Autre…',
  typed: 'Code de la devise',
} satisfies Shape<typeof en>;
