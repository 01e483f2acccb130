import { parseArgs } from 'node:util';
import { PriceSeries } from './series';
import { startExchangeSim } from './exchange/server';
import { StreamSimulator } from './stream/server';

/**
 * `npm run sim`: the Binance-compatible exchange simulator on 127.0.0.1 with a demo account, and
 * beside it (port + 1) the Binance stream simulator (combined-stream klines and REST klines) on the
 * same price series with its clock following real time, for running the whole app offline against
 * fake markets. Stops on Ctrl+C (SIGINT) or SIGTERM.
 */

// Fixed demo credentials (simulator only) so a broker configured once keeps working across runs.
const DEMO_API_KEY = 'SimDemoKey000000000000000000000000000000000000000000000000000001';
const DEMO_SECRET = 'SimDemoSecret000000000000000000000000000000000000000000000000001';

const USAGE = `Usage: npm run sim -- [options]
  --port <n>        port on 127.0.0.1 (default 7700; 0 picks a free one)
  --seed <n>        price series seed (default 42)
  --api-key <key>   demo account API key (default: a fixed demo key)
  --secret <s>      demo account secret (default: a fixed demo secret)
  --tick-ms <n>     also match resting orders every n ms (default 1000; 0 = only on requests)
  --max-fill <qty>  largest base quantity an order trades per matching pass (partial fills)
  --weight <n>      request weight limit per minute (default 6000)
  --stream-port <n> port of the stream simulator (default: port + 1; 0 picks a free one)
  -h, --help`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7700' },
      seed: { type: 'string', default: '42' },
      'api-key': { type: 'string', default: DEMO_API_KEY },
      secret: { type: 'string', default: DEMO_SECRET },
      'tick-ms': { type: 'string', default: '1000' },
      'max-fill': { type: 'string' },
      weight: { type: 'string', default: '6000' },
      'stream-port': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const seed = Number(values.seed);
  const tickMs = Number(values['tick-ms']);
  const weight = Number(values.weight);
  if (![port, seed, tickMs, weight].every(Number.isInteger) || port < 0 || port > 65535 || tickMs < 0 || weight < 1) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const streamPort = values['stream-port'] !== undefined ? Number(values['stream-port']) : port === 0 ? 0 : port + 1;
  if (!Number.isInteger(streamPort) || streamPort < 0 || streamPort > 65535) {
    console.error(USAGE);
    process.exitCode = 2;
    return;
  }
  const balances = { USDT: '10000', USDC: '10000', BTC: '0.5', ETH: '5', BNB: '10', SOL: '50' };
  const series = new PriceSeries(seed);
  const sim = await startExchangeSim({
    port,
    series,
    accounts: [{ apiKey: values['api-key'], secret: values.secret, balances }],
    weightLimit: weight,
    ...(tickMs > 0 ? { tickIntervalMs: tickMs } : {}),
    ...(values['max-fill'] ? { maxFillPerTick: values['max-fill'] } : {}),
  });

  // The stream simulator's clock follows real time, so klines close on real minute boundaries.
  const stream = await StreamSimulator.start({ series, port: streamPort, startTime: Date.now() });
  const clock = setInterval(() => stream.advance(Math.max(0, Date.now() - stream.now())), 250);

  console.log(`Binance-compatible exchange simulator listening on ${sim.url}`);
  console.log(`Binance stream simulator (WebSocket + REST klines) on ${stream.wsUrl}`);
  console.log('');
  console.log('Demo account (simulator only):');
  console.log(`  API key: ${values['api-key']}`);
  console.log(`  Secret:  ${values.secret}`);
  console.log(`  Balances: ${Object.entries(balances).map(([a, v]) => `${a} ${v}`).join(', ')}`);
  console.log(`  Markets: ${Object.keys(sim.series.symbols).join(', ')}`);
  console.log('');
  console.log('Point the app at them:');
  console.log(`  ARISTOBOT_EXCHANGE_URL_binance=${sim.url} ARISTOBOT_BINANCE_WS_URL=${stream.wsUrl} ARISTOBOT_BINANCE_REST_URL=${stream.restUrl} npm run serve`);
  console.log('then add a Binance broker with the key and secret above (testnet off).');
  console.log('Ctrl+C to stop.');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the simulators`);
    clearInterval(clock);
    Promise.all([sim.close(), stream.close()]).then(
      () => process.exit(0),
      (e: unknown) => {
        console.error('could not close the simulator cleanly', e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error('exchange simulator failed to start:', e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
