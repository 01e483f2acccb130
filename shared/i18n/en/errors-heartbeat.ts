/** The core's heartbeat errors (keys `errors.heartbeat.*`, raised with AppError; the French side is fr/errors-heartbeat.ts). */
export default {
  heartbeatAlreadyRunning: 'The heartbeat is already running.',
  candlesCouldNotStored: 'The candles could not be stored in time.',
  listBinanceMarketsCould: 'The list of Binance markets could not be loaded ({reason}); try again once it is.',
  notMarketBinancePick: '{symbol} is not a market on Binance; pick a listed symbol such as BTC/USDT.',
  notWatchedHeartbeat: '{symbol} is not watched by the heartbeat.',
};
