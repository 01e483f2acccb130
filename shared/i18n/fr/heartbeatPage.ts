import type { Shape } from '../index';
import type en from '../en/heartbeatPage';

export default {
  stream: 'Flux Binance',
  state: 'État',
  live: 'en direct',
  liveIncoherent: 'en direct, incohérent',
  disconnected: 'déconnecté',
  streams: 'Flux',
  streamsOn: '{streams} sur {count} connexion|{streams} sur {count} connexions',
  lastMessage: 'Dernier message',
  reconnects: 'Reconnexions',
  backfill: 'Rattrapage',
  backfilling: 'comblement d’un trou via l’API REST…',
  missing: '{symbol} manquant {from} → {to}',
  lastError: 'Dernière erreur : {error}',
  watched: 'Symboles surveillés',
  stopWatching: 'Ne plus surveiller {symbol}',
  noSymbol: 'Aucun symbole surveillé : saisissez une paire comme ETH/USDT ci-dessous et cliquez sur Surveiller.',
  watch: 'Surveiller',
  liveStream: 'Flux en direct',
  waiting: 'En attente de messages…',
  waitingNoSymbol: 'Rien à recevoir pour l’instant : surveillez d’abord un symbole.',
  noCandle: 'Aucune bougie clôturée pour l’instant.',
  noCandleNoSymbol: 'Surveillez un symbole : ses bougies {timeframe} clôturées s’affichent ici.',
} satisfies Shape<typeof en>;
