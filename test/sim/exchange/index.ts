/** The Binance-compatible spot REST simulator (test fixture). See README.md beside this file. */
export { startExchangeSim } from './server';
export type { ExchangeSim, ExchangeSimOptions, FailSpec, RequestLogEntry, SimBalance, SimOrderView } from './server';
export type { AccountSpec, OrderJson, TradeJson, OrderStatus } from './engine';
export type { MarketSpec } from './markets';
export { generateCredentials, hmacHex, signedQuery } from './signing';
