/**
 * Sentences the heartbeat core writes for a person: its last error in the status (the Heartbeat
 * page), with the REST backfill's failures. English here; the French side is fr/coreHeartbeat.ts.
 */
export default {
  streamDisconnected: 'stream disconnected ({reason})',
  databaseWriteFailed: 'database write failed: {error}',
  backfillFailed: 'backfill of {symbol} failed: {error}',
  disconnect: {
    dropped: 'connection dropped',
    connect_failed: 'could not connect',
    silent: 'no message for too long',
    rotated: 'connection renewed',
    replaced: 'connection replaced',
    server_shutdown: 'the server announced a shutdown',
    closed: 'closed with code {code}',
  },
  rest: {
    notArray: 'Binance klines: expected an array',
    malformedRow: 'Binance klines: malformed row {row}',
    wait: 'Binance asked to wait {seconds} s before the next request',
    timeout: 'Binance REST did not answer within {ms} ms',
    unreachable: 'Binance REST unreachable: {error}',
    rateLimit: 'Binance rate limit ({status}): retry after {seconds} s',
    notJson: 'Binance REST answered {status} with a body that is not JSON',
    status: 'Binance REST answered {status}',
    statusWhy: 'Binance REST answered {status}: {error}',
  },
};
