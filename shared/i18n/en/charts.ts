/** The Heartbeat and Manual trading charts. */
export default {
  title: 'Chart',
  symbol: 'Symbol',
  timeframe: 'Timeframe',
  loading: 'Loading candles…',
  heartbeat: {
    noSymbol: 'No symbol watched: add a pair such as ETH/USDT in “Watched symbols” above to see its chart here.',
    noCandles: 'No stored candle of {symbol} {timeframe} yet: they appear as the heartbeat closes them.',
    live: 'Live: the last candle moves with the stream.',
  },
  market: {
    pick: 'Pick a market to see its chart.',
    noCandles: 'No candle of {symbol} {timeframe} yet.',
    fromHeartbeat: 'Heartbeat candles, live.',
    fromExchange: 'Closed candles from {exchange}, refreshed every {seconds} s.',
    orders: '{count} open order|{count} open orders',
    fills: '{count} fill|{count} fills',
  },
  line: { buy: 'Buy {amount}', sell: 'Sell {amount}' },
  fill: { buy: 'B {amount}', sell: 'S {amount}' },
};
