import type { MarketCandlesResult } from '../../shared/contract/charts';
import { invalidField } from '../../shared/errors';
import { floorToTimeframe, timeframeMs, type Timeframe } from '../../shared/timeframes';
import { BrokerCandles } from '../bot/candles';
import type { BrokerService } from '../exchanges/brokers';
import type { ExchangeGateway } from '../exchanges/gateway';
import type { HeartbeatService } from '../heartbeat/service';
import { EXCHANGE as HEARTBEAT_EXCHANGE } from '../heartbeat/service';

export interface MarketCandlesDeps {
  brokers: Pick<BrokerService, 'exchangeFor'>;
  gateway: Pick<ExchangeGateway, 'run' | 'loadMarkets'>;
  heartbeat: Pick<HeartbeatService, 'listSymbols' | 'recentCandles'>;
  clock?: { now(): number };
  /** candles kept per broker, market and timeframe between two reads (the chart's refreshes) */
  keep?: number;
}

/**
 * The candles of the Manual trading chart (issue 15, item 3). A broker on the heartbeat's exchange
 * (live or paper: live prices) whose market the heartbeat watches gets the heartbeat's candles, the
 * ones the page then follows live; any other market (another exchange, a testnet account, a symbol
 * not watched) is read from the broker's exchange through the bot's CCXT candle reader
 * (`BrokerCandles`: fetchOHLCV, closed candles, cached and read incrementally), errors mapped to the
 * exchange codes.
 */
export class MarketCandlesService {
  private readonly clock: { now(): number };
  private readonly reader: BrokerCandles;

  constructor(private readonly d: MarketCandlesDeps) {
    this.clock = d.clock ?? { now: Date.now };
    this.reader = new BrokerCandles(d.brokers, this.clock, { keep: d.keep ?? 1000 });
  }

  async candles(profileId: string, q: { brokerId: string; symbol: string; timeframe: Timeframe; limit: number }): Promise<MarketCandlesResult> {
    const { ex, broker } = await this.d.brokers.exchangeFor(profileId, q.brokerId, { markets: false });
    const base = { exchange: broker.exchange, symbol: q.symbol, timeframe: q.timeframe };
    if (broker.exchange === HEARTBEAT_EXCHANGE && !ex.isSandboxModeEnabled) {
      const watched = (await this.d.heartbeat.listSymbols()).some((s) => s.symbol === q.symbol);
      if (watched) return { ...base, source: 'heartbeat', candles: await this.d.heartbeat.recentCandles(q.symbol, q.timeframe, q.limit) };
    }
    const markets = await this.d.gateway.loadMarkets(ex);
    if (!markets[q.symbol]) {
      throw invalidField('symbol', 'errors.exchanges.notMarketOf', { symbol: q.symbol, exchange: broker.exchange });
    }
    if (!ex.has.fetchOHLCV) {
      throw invalidField('brokerId', 'errors.exchanges.noFetchOhlcv', { exchange: broker.exchange });
    }
    const tfs = ex.timeframes as Record<string, unknown> | undefined;
    if (tfs && Object.keys(tfs).length > 0 && !(q.timeframe in tfs)) {
      throw invalidField('timeframe', 'errors.exchanges.noTimeframe', { exchange: broker.exchange, timeframe: q.timeframe, timeframes: Object.keys(tfs).join(', ') });
    }
    // the last closed candle: the one before the candle forming now
    const until = floorToTimeframe(this.clock.now(), q.timeframe) - timeframeMs(q.timeframe);
    const candles = await this.d.gateway.run(ex.id, 'fetch candles', () => this.reader.window(profileId, q.brokerId, q.symbol, q.timeframe, q.limit, until));
    return { ...base, source: 'exchange', candles };
  }
}
