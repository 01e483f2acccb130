/** The core's stats errors (keys `errors.stats.*`, raised with AppError; the French side is fr/errors-stats.ts). */
export default {
  unknownCurrencyNoExchange: 'Unknown currency "{currency}": no exchange market lists it (e.g. USDT, USDC, BTC, EUR).',
  endCustomPeriodMust: 'The end of a custom period must be after its start.',
  unknownBrokerNoBroker: 'Unknown broker: no broker of this profile has that id.',
};
