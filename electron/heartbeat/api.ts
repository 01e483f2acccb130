import type { Handlers } from '../api/dispatch';
import type { HeartbeatService } from './service';

type HeartbeatMethod = 'heartbeat.status' | 'heartbeat.symbols.list' | 'heartbeat.symbols.add' | 'heartbeat.symbols.remove' | 'candles.query';

export function heartbeatHandlers(hb: HeartbeatService): Pick<Handlers, HeartbeatMethod> {
  return {
    'heartbeat.status': async () => hb.status(),
    'heartbeat.symbols.list': () => hb.listSymbols(),
    'heartbeat.symbols.add': ({ symbol }) => hb.addSymbol(symbol),
    'heartbeat.symbols.remove': ({ symbol }) => hb.removeSymbol(symbol),
    'candles.query': (q) => hb.queryCandles(q),
  };
}
