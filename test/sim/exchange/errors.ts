/**
 * Binance error replies: an HTTP status plus the `{"code": -NNNN, "msg": "..."}` body Binance sends.
 * Messages are Binance's own wording (binance-spot-api-docs errors.md), because CCXT matches some
 * of them literally (for example "Account has insufficient balance for requested action.").
 */
export class BinanceError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    msg: string,
    /** Extra body fields (cancelReplace sends `data`). */
    readonly extra?: Record<string, unknown>,
    /** Extra response headers (Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(msg);
    this.name = 'BinanceError';
  }

  body(): Record<string, unknown> {
    return { code: this.code, msg: this.message, ...this.extra };
  }
}

export const errors = {
  apiKeyFormat: () => new BinanceError(401, -2014, 'API-key format invalid.'),
  rejectedKey: () => new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  badSignature: () => new BinanceError(400, -1022, 'Signature for this request is not valid.'),
  outsideRecvWindow: () => new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'),
  aheadOfServer: () => new BinanceError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  recvWindowTooBig: () => new BinanceError(400, -1131, 'recvWindow must be less than 60000'),
  mandatory: (param: string) =>
    new BinanceError(400, -1102, `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`),
  eitherParam: (a: string, b: string) => new BinanceError(400, -1102, `Param '${a}' or '${b}' must be sent, but both were empty/null!`),
  illegalChars: (param: string, range = '^([0-9]{1,20})(\\.[0-9]{1,20})?$') =>
    new BinanceError(400, -1100, `Illegal characters found in parameter '${param}'; legal range is '${range}'.`),
  notRequired: (param: string) => new BinanceError(400, -1106, `Parameter '${param}' sent when not required.`),
  tooMuchPrecision: (param: string) => new BinanceError(400, -1111, `Parameter '${param}' has too much precision.`),
  invalidParam: (param: string) => new BinanceError(400, -1130, `Data sent for parameter '${param}' is not valid.`),
  badSymbol: () => new BinanceError(400, -1121, 'Invalid symbol.'),
  badInterval: () => new BinanceError(400, -1120, 'Invalid interval.'),
  invalidSide: () => new BinanceError(400, -1117, 'Invalid side.'),
  invalidOrderType: () => new BinanceError(400, -1116, 'Invalid orderType.'),
  invalidTif: () => new BinanceError(400, -1115, 'Invalid timeInForce.'),
  tifNotRequired: () => new BinanceError(400, -1114, 'TimeInForce parameter sent when not required.'),
  filter: (name: string) => new BinanceError(400, -1013, `Filter failure: ${name}`),
  marketClosed: () => new BinanceError(400, -1013, 'Market is closed.'),
  insufficientBalance: () => new BinanceError(400, -2010, 'Account has insufficient balance for requested action.'),
  duplicateOrder: () => new BinanceError(400, -2010, 'Duplicate order sent.'),
  wouldTake: () => new BinanceError(400, -2010, 'Order would immediately match and take.'),
  wouldTrigger: () => new BinanceError(400, -2010, 'Stop price would trigger immediately.'),
  ocoPrices: () => new BinanceError(400, -2010, 'The relationship of the prices for the orders is not correct.'),
  ocoNotAllowed: () => new BinanceError(400, -2010, 'OCO orders are not supported for this symbol.'),
  unsupportedType: (type: string) => new BinanceError(400, -2010, `${type} orders are not supported for this symbol.`),
  unknownOrderOnCancel: () => new BinanceError(400, -2011, 'Unknown order sent.'),
  noSuchOrder: () => new BinanceError(400, -2013, 'Order does not exist.'),
  tooMuchWeight: (limit: number, retryAfterSec: number) =>
    new BinanceError(
      429,
      -1003,
      `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
      undefined,
      { 'Retry-After': String(retryAfterSec) },
    ),
  banned: (until: number, retryAfterSec: number) =>
    new BinanceError(
      418,
      -1003,
      `Way too much request weight used; IP banned until ${until}. Please use WebSocket Streams for live updates to avoid bans.`,
      undefined,
      { 'Retry-After': String(retryAfterSec) },
    ),
};
