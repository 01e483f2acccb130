import type { Shape } from '../index';
import type en from '../en/errors-stats';

export default {
  unknownCurrencyNoExchange: 'Devise inconnue « {currency} » : aucun marché d\'exchange ne la cote (par exemple USDT, USDC, BTC, EUR).',
  endCustomPeriodMust: 'La fin d\'une période personnalisée doit être postérieure à son début.',
  unknownBrokerNoBroker: 'Broker inconnu : aucun broker de ce profil n\'a cet identifiant.',
} satisfies Shape<typeof en>;
