import type { Shape } from '../index';
import type en from '../en/errors-heartbeat';

export default {
  heartbeatAlreadyRunning: 'Le heartbeat est déjà en marche.',
  candlesCouldNotStored: 'Les bougies n\'ont pas pu être enregistrées à temps.',
  listBinanceMarketsCould: 'La liste des marchés Binance n\'a pas pu être chargée ({reason}) ; réessayez une fois qu\'elle le sera.',
  notMarketBinancePick: '{symbol} n\'est pas un marché de Binance ; choisissez un symbole listé, par exemple BTC/USDT.',
  notWatchedHeartbeat: '{symbol} n\'est pas surveillé par le heartbeat.',
} satisfies Shape<typeof en>;
