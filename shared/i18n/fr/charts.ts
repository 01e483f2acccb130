import type { Shape } from '../index';
import type en from '../en/charts';

export default {
  title: 'Graphique',
  symbol: 'Symbole',
  timeframe: 'Unité de temps',
  loading: 'Chargement des bougies…',
  heartbeat: {
    noSymbol: 'Aucun symbole suivi : ajoutez plus haut une paire comme ETH/USDT aux symboles suivis pour voir son graphique ici.',
    noCandles: 'Aucune bougie de {symbol} {timeframe} enregistrée pour l’instant : elles apparaissent à mesure que le heartbeat les clôture.',
    live: 'En direct : la dernière bougie suit le flux.',
  },
  market: {
    pick: 'Choisissez un marché pour voir son graphique.',
    noCandles: 'Aucune bougie de {symbol} {timeframe} pour l’instant.',
    fromHeartbeat: 'Bougies du heartbeat, en direct.',
    fromExchange: 'Bougies clôturées de {exchange}, actualisées toutes les {seconds} s.',
    orders: '{count} ordre ouvert|{count} ordres ouverts',
    fills: '{count} exécution|{count} exécutions',
  },
  line: { buy: 'Achat {amount}', sell: 'Vente {amount}' },
  fill: { buy: 'A {amount}', sell: 'V {amount}' },
} satisfies Shape<typeof en>;
