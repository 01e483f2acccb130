/**
 * The in-sandbox runtime: JavaScript source evaluated inside each strategy context (isolated-vm).
 * It holds the ONE decision rule (shared/strategy-api.ts's header), the `Strategy` base class, `ta.*`
 * over @ixjb94/indicators, and the whole per-candle simulation loop, so a backtest never crosses
 * the isolate boundary per candle and the live bot (`decide`) runs exactly the same rule.
 *
 * The text is a script whose completion value is the kernel API object (kept as a host Reference,
 * never put on the strategy's global). `__INDICATORS__` is replaced by the library's UMD bundle.
 * Keep this source free of backticks and dollar-brace sequences (it lives in a template literal).
 */
export const RUNTIME_SOURCE = `(function () {
'use strict';
// ---- Intrinsics captured before any strategy code runs (a strategy may patch its own globals).
const floor = Math.floor, fabs = Math.abs, isFiniteNum = Number.isFinite, F64 = Float64Array, I8 = Int8Array;
const ObjectFreeze = Object.freeze, ObjectKeys = Object.keys, NaN_ = NaN;
const atomicLoad = Atomics.load, atomicStore = Atomics.store, I32 = Int32Array;

// ---- Scratch memory lent by the host for one backtest (sandbox.ts, ScratchPool). On this kind of
// machine (a VM whose fresh pages are faulted in one by one) writing into freshly allocated
// memory costs ~10x the arithmetic; the host keeps the buffers of the previous run and lends them
// again. Only arrays of the run's length, only the strategy's column copies and the ta.* outputs
// computed in init() (each written in full before it is read), and only in a context that is
// released after the run, so no strategy code can see a buffer while another run uses it. The
// buffers are always the host's: one made here would belong to this isolate's allocator, which
// is gone with the isolate while the host still holds the buffer.
let scratchLen = -1, scratchFree = null, scratchAll = null, scratchUsed = 0, scratchTa = false;
/** A Float64Array of n values: a lent buffer when one applies, else fresh memory. */
function scratchFor(n) {
  if (scratchFree === null || n !== scratchLen || n === 0) return new F64(n);
  scratchUsed++;
  return scratchFree.length > 0 ? new F64(scratchFree.pop(), 0, n) : new F64(n); // a lent buffer may be larger: its first n values
}
/** An indicator's output array (lent memory only while init() runs in a backtest). */
function outArray(n) { return scratchTa ? scratchFor(n) : new F64(n); }

// ---- Determinism: no clock, no randomness (a backtest and the live bot must decide alike).
(function lockNondeterminism() {
  const RealDate = Date;
  function noClock(what) {
    return new Error(what + ' is not available in strategies (no clock: a backtest must decide like the live bot); use this.time[this.i]');
  }
  function SafeDate(...args) {
    if (!new.target) throw noClock('Date()');
    if (args.length === 0) throw noClock('new Date()');
    return Reflect.construct(RealDate, args, new.target);
  }
  SafeDate.prototype = RealDate.prototype;
  SafeDate.UTC = RealDate.UTC;
  SafeDate.parse = RealDate.parse;
  SafeDate.now = function now() { throw noClock('Date.now()'); };
  Object.defineProperty(RealDate.prototype, 'constructor', { value: SafeDate });
  globalThis.Date = SafeDate;
  Math.random = function random() { throw new Error('Math.random() is not available in strategies (a backtest must be reproducible)'); };
  // Intl formats the current time when given none; WebAssembly memory would grow outside the
  // isolate's heap limit; Atomics.wait could block the isolate's thread beyond the CPU limit.
  try { delete Atomics.wait; delete Atomics.waitAsync; } catch (e) { /* absent */ }
  for (const name of ['performance', 'setTimeout', 'setInterval', 'Intl', 'WebAssembly']) {
    try { delete globalThis[name]; } catch (e) { /* not present */ }
  }
})();

// ---- Indicators: the library's UMD bundle, evaluated with a private module object.
const lib = (function () {
  const module = { exports: {} };
  const exports = module.exports;
  const self = globalThis;
  const define = undefined;
  __INDICATORS__
  return new module.exports.IndicatorsSync();
})();

function checkPeriod(name, p, min) {
  if (typeof p !== 'number' || !isFiniteNum(p) || p !== floor(p) || p < min) {
    throw new RangeError('ta.' + name + ': the period must be an integer >= ' + min + ' (got ' + p + ')');
  }
}
function checkSeries(name, v) {
  if (v == null || typeof v.length !== 'number') throw new TypeError('ta.' + name + ': expected an array of numbers');
  return v.length;
}
/** The library returns only the values after warm-up; align them with the input, NaN before. */
function pad(n, out) {
  const r = outArray(n);
  const off = n - out.length;
  for (let i = 0; i < off; i++) r[i] = NaN_;
  for (let j = 0; j < out.length; j++) r[off + j] = out[j];
  return r;
}
function nans(n) { const r = outArray(n); for (let i = 0; i < n; i++) r[i] = NaN_; return r; }
/** An output of n values whose first k are NaN (the rest are written by the caller: one pass over fresh memory, not two). */
function nanPrefix(n, k) { const r = outArray(n); for (let i = 0; i < k && i < n; i++) r[i] = NaN_; return r; }

const ta = ObjectFreeze({
  sma(values, period) {
    // The library's running sum, written into a typed array directly: the library builds a
    // growing Array, which is ~100x slower on millions of candles (measured in bench/).
    const n = checkSeries('sma', values); checkPeriod('sma', period, 1);
    if (n < period) return nans(n);
    const out = nanPrefix(n, period - 1);
    const scale = 1.0 / period;
    let sum = 0;
    for (let i = 0; i < period; i++) sum += values[i];
    out[period - 1] = sum * scale;
    for (let i = period; i < n; i++) { sum += values[i]; sum -= values[i - period]; out[i] = sum * scale; }
    return out;
  },
  ema(values, period) {
    // Seeded with the SMA of the first period values (as declared); alpha = 2 / (period + 1).
    const n = checkSeries('ema', values); checkPeriod('ema', period, 1);
    if (n < period) return nans(n);
    const out = nanPrefix(n, period - 1);
    let sum = 0;
    for (let i = 0; i < period; i++) sum += values[i];
    let e = sum / period;
    out[period - 1] = e;
    const k = 2 / (period + 1);
    for (let i = period; i < n; i++) { e = (values[i] - e) * k + e; out[i] = e; }
    return out;
  },
  rsi(values, period) {
    if (period === undefined) period = 14;
    const n = checkSeries('rsi', values); checkPeriod('rsi', period, 1);
    if (n <= period) return nans(n);
    return pad(n, lib.rsi(values, period, n));
  },
  macd(values, fast, slow, signal) {
    if (fast === undefined) fast = 12;
    if (slow === undefined) slow = 26;
    if (signal === undefined) signal = 9;
    const n = checkSeries('macd', values);
    checkPeriod('macd', fast, 1); checkPeriod('macd', slow, 2); checkPeriod('macd', signal, 1);
    if (slow < fast) throw new RangeError('ta.macd: slow must be >= fast');
    if (n < slow) return ObjectFreeze({ macd: nans(n), signal: nans(n), histogram: nans(n) });
    const r = lib.macd(values, fast, slow, signal, n);
    return ObjectFreeze({ macd: pad(n, r[0]), signal: pad(n, r[1]), histogram: pad(n, r[2]) });
  },
  bbands(values, period, stdDev) {
    if (period === undefined) period = 20;
    if (stdDev === undefined) stdDev = 2;
    const n = checkSeries('bbands', values); checkPeriod('bbands', period, 1);
    if (typeof stdDev !== 'number' || !isFiniteNum(stdDev)) throw new RangeError('ta.bbands: stdDev must be a number');
    if (n < period) return ObjectFreeze({ upper: nans(n), middle: nans(n), lower: nans(n) });
    const r = lib.bbands(values, period, stdDev, n);
    return ObjectFreeze({ upper: pad(n, r[2]), middle: pad(n, r[1]), lower: pad(n, r[0]) });
  },
  atr(high, low, close, period) {
    if (period === undefined) period = 14;
    const n = checkSeries('atr', high); checkPeriod('atr', period, 1);
    if (low.length !== n || close.length !== n) throw new RangeError('ta.atr: high, low and close must have one length');
    if (n < period) return nans(n);
    return pad(n, lib.atr(high, low, close, period, n));
  },
  stoch(high, low, close, kPeriod, kSmooth, dPeriod) {
    if (kPeriod === undefined) kPeriod = 14;
    if (kSmooth === undefined) kSmooth = 3;
    if (dPeriod === undefined) dPeriod = 3;
    const n = checkSeries('stoch', high);
    checkPeriod('stoch', kPeriod, 1); checkPeriod('stoch', kSmooth, 1); checkPeriod('stoch', dPeriod, 1);
    if (low.length !== n || close.length !== n) throw new RangeError('ta.stoch: high, low and close must have one length');
    if (n < kPeriod + kSmooth + dPeriod - 2) return ObjectFreeze({ k: nans(n), d: nans(n) });
    const r = lib.stoch(high, low, close, kPeriod, kSmooth, dPeriod, n);
    return ObjectFreeze({ k: pad(n, r[0]), d: pad(n, r[1]) });
  },
  vwap(high, low, close, volume, period) {
    if (period === undefined) period = 20;
    const n = checkSeries('vwap', high); checkPeriod('vwap', period, 1);
    if (low.length !== n || close.length !== n || volume.length !== n) throw new RangeError('ta.vwap: high, low, close and volume must have one length');
    if (n < period) return nans(n);
    return pad(n, lib.vwap(high, low, close, volume, period, n));
  },
});

// ---- The Strategy base class (the names of shared/strategy-api.ts).
class Strategy {
  init() {}
  shouldExit() { return false; }
  calculatePositionSize() { return 1; }
  calculateStopLoss() { return null; }
  calculateTakeProfit() { return null; }
  crossover(a, b) { const i = this.i; return a[i - 1] < b[i - 1] && a[i] > b[i]; }
  crossunder(a, b) { const i = this.i; return a[i - 1] > b[i - 1] && a[i] < b[i]; }
}
Strategy.params = {};
Strategy.warmup = 200;
const aristobot = ObjectFreeze({ Strategy: Strategy, ta: ta });

// ---- Loading the strategy module (CommonJS text; only 'aristobot' may be required).
function requireModule(name) {
  if (name === 'aristobot') return aristobot;
  throw new Error("Cannot import '" + String(name) + "': strategies may import only from 'aristobot'");
}
let phase = 'load';
function loadClass() {
  const define = globalThis.__aristobot_define;
  try { delete globalThis.__aristobot_define; } catch (e) { /* ignore */ }
  if (typeof define !== 'function') throw new Error('the strategy module was not loaded');
  const module = { exports: {} };
  phase = 'load';
  define.call(undefined, module.exports, requireModule, module);
  const exp = module.exports;
  const Cls = exp && (exp.default !== undefined ? exp.default : exp);
  if (typeof Cls !== 'function') throw new Error('the strategy must default-export a class extending Strategy');
  if (!(Cls.prototype instanceof Strategy)) throw new Error('the default export must extend Strategy (import { Strategy } from \\'aristobot\\')');
  for (const m of ['shouldLong', 'shouldShort']) {
    if (typeof Cls.prototype[m] !== 'function') throw new Error('the strategy must implement ' + m + '()');
  }
  return Cls;
}
function readInfo(Cls) {
  const raw = Cls.params == null ? {} : Cls.params;
  if (typeof raw !== 'object') throw new Error('static params must be an object');
  const params = {};
  for (const name of ObjectKeys(raw)) {
    const s = raw[name];
    if (s == null || typeof s !== 'object') throw new Error('static params.' + name + ' must be an object with a default');
    if (typeof s.default !== 'number' || !isFiniteNum(s.default)) throw new Error('static params.' + name + '.default must be a finite number');
    const spec = { default: s.default };
    for (const k of ['min', 'max', 'step']) {
      if (s[k] !== undefined) {
        if (typeof s[k] !== 'number' || !isFiniteNum(s[k])) throw new Error('static params.' + name + '.' + k + ' must be a finite number');
        spec[k] = s[k];
      }
    }
    for (const k of ['label', 'description']) if (typeof s[k] === 'string') spec[k] = s[k];
    params[name] = spec;
  }
  let warmup = Cls.warmup === undefined ? 200 : Cls.warmup;
  if (typeof warmup !== 'number' || !isFiniteNum(warmup) || warmup < 0 || warmup !== floor(warmup)) throw new Error('static warmup must be a whole number >= 0');
  return { params: params, warmup: warmup };
}
function kernelError(code, message) { const e = new Error(message); e.kernelCode = code; return e; }
function makeParams(info, given) {
  const values = {};
  for (const name of ObjectKeys(info.params)) values[name] = info.params[name].default;
  if (given) {
    for (const name of ObjectKeys(given)) {
      if (!(name in info.params)) throw kernelError('invalid_input', 'unknown parameter "' + name + '" (declared: ' + (ObjectKeys(info.params).join(', ') || 'none') + ')');
      const v = given[name];
      if (typeof v !== 'number' || !isFiniteNum(v)) throw kernelError('invalid_input', 'parameter "' + name + '" must be a finite number');
      values[name] = v;
    }
  }
  return ObjectFreeze(values);
}
const COLUMN_NAMES = ['time', 'open', 'high', 'low', 'close', 'volume'];
const ObjectDefineProperty = Object.defineProperty, ObjectCreate = Object.create, ReflectConstruct = Reflect.construct;
/**
 * The strategy's instance. Its columns are its OWN copies, made on first read: the run's columns
 * are shared with the host (and, in the optimiser, with other runs) and must not be writable by
 * strategy code, while a strategy that reads only this.close pays for one copy, not six. The
 * accessors sit on a per-run prototype between the instance and the class, so the instance gets
 * a plain data property on first read (its shape stays fast for the per-candle calls).
 */
function instantiate(Cls, info, given, shared) {
  const params = makeParams(info, given);
  return construct(Cls, lazyConstructor(Cls, shared), params);
}
/** The constructor whose prototype holds the columns' copy-on-read accessors (over the shared views). */
function lazyConstructor(Cls, shared) {
  const lazy = ObjectCreate(Cls.prototype);
  for (const name of COLUMN_NAMES) {
    const src = shared[name];
    ObjectDefineProperty(lazy, name, {
      configurable: true,
      get() { const own = scratchFor(src.length); own.set(src); ObjectDefineProperty(this, name, { value: own, writable: true, enumerable: true, configurable: true }); return own; },
      set(v) { ObjectDefineProperty(this, name, { value: v, writable: true, enumerable: true, configurable: true }); },
    });
  }
  function Run() {}
  Run.prototype = lazy;
  // frozen in every path (backtest, decide, the kept decision, which reuses it from one decision to
  // the next): a strategy that rewrites its prototype fails alike in the backtest and live
  ObjectFreeze(lazy);
  return ObjectFreeze(Run);
}
/** A new strategy instance on Run's prototype (its constructor runs: phase 'constructor'). */
function construct(Cls, Run, params) {
  phase = 'constructor';
  const s = ReflectConstruct(Cls, [], Run);
  // Own data properties shadow the class's declared fields (useDefineForClassFields is off).
  s.params = params;
  s.i = 0; s.balance = 0; s.position = null;
  return s;
}

// ---- THE decision rule (shared/strategy-api.ts): one place, used by backtest() and decide().
const NONE = 0, OPEN_LONG = 1, OPEN_SHORT = 2, CLOSE = 3, REV_LONG = 4, REV_SHORT = 5;
const ACTIONS = ['none', 'open_long', 'open_short', 'close', 'reverse_to_long', 'reverse_to_short'];
let why = '';
/** side: 0 flat, 1 long, -1 short. Sets why (the calls that decided) when explain is true. */
function rule(s, side, allowShort, explain) {
  if (side === 0) {
    phase = 'shouldLong()';
    if (s.shouldLong()) { if (explain) why = 'shouldLong()'; return OPEN_LONG; }
    if (allowShort) {
      phase = 'shouldShort()';
      if (s.shouldShort()) { if (explain) why = 'shouldShort()'; return OPEN_SHORT; }
    }
    if (explain) why = allowShort ? 'shouldLong() and shouldShort() false' : 'shouldLong() false';
    return NONE;
  }
  if (side === 1) {
    phase = 'shouldShort()';
    if (s.shouldShort()) {
      if (explain) why = allowShort ? 'shouldShort() (reversal)' : 'shouldShort() (shorting not allowed: close only)';
      return allowShort ? REV_SHORT : CLOSE;
    }
    phase = 'shouldExit()';
    if (s.shouldExit()) { if (explain) why = 'shouldExit()'; return CLOSE; }
    if (explain) why = 'shouldShort() and shouldExit() false';
    return NONE;
  }
  phase = 'shouldLong()';
  if (s.shouldLong()) { if (explain) why = 'shouldLong() (reversal)'; return REV_LONG; }
  phase = 'shouldExit()';
  if (s.shouldExit()) { if (explain) why = 'shouldExit()'; return CLOSE; }
  if (explain) why = 'shouldLong() and shouldExit() false';
  return NONE;
}
function sizeOf(s) {
  phase = 'calculatePositionSize()';
  const v = s.calculatePositionSize();
  if (typeof v !== 'number' || !(v > 0)) return 0;
  return v > 1 ? 1 : v;
}
function fractionOf(s, which) {
  phase = which;
  const v = which === 'calculateStopLoss()' ? s.calculateStopLoss() : s.calculateTakeProfit();
  if (typeof v !== 'number' || !isFiniteNum(v) || !(v > 0)) return null;
  return v;
}
function nanIfNull(v) { return v === null ? NaN_ : v; }
function positionObject(side, amount, entryPrice) {
  return side === 0 ? null : ObjectFreeze({ side: side === 1 ? 'long' : 'short', amount: amount, entryPrice: entryPrice });
}

/**
 * The run's columns as views on the buffers the host shared (SharedArrayBuffers: no copy in or
 * out); layout holds [buffer index, byte offset, length] per column, in COLUMN_NAMES order.
 */
function columnsFrom(buffers, layout) {
  const cols = {};
  for (let k = 0; k < 6; k++) cols[COLUMN_NAMES[k]] = new F64(buffers[layout[3 * k]], layout[3 * k + 1], layout[3 * k + 2]);
  return cols;
}

// ---- One run's state lives here between the host's calls (prepare → init → run).
let Cls = null, info = null, strat = null, cols = null, ctrl = null;

function describeError(e) {
  let name = 'Error', message = String(e), stack = '';
  try {
    if (e && typeof e === 'object') {
      name = String(e.name || 'Error');
      message = String(e.message);
      stack = String(e.stack || '');
    }
  } catch (x) { /* a hostile error object */ }
  return { kernelError: true, code: (e && e.kernelCode) || 'strategy_error', name: name, message: message, stack: stack, phase: phase };
}
function guard(fn) {
  return function () {
    try { return fn.apply(undefined, arguments); } catch (e) { return describeError(e); }
  };
}

/** Evaluate the module, read static params and warmup. */
const load = guard(function () {
  Cls = loadClass();
  info = readInfo(Cls);
  return { ok: true, info: info };
});

/**
 * Columns arrive as shared buffers (b0..b5, see columnsFrom); ctrl is a SharedArrayBuffer;
 * scratch (backtests only) the buffers the host lends for this run (see scratchFor).
 */
const prepare = guard(function (params, layout, b0, b1, b2, b3, b4, b5, ctrlBuffer, scratch) {
  cols = columnsFrom([b0, b1, b2, b3, b4, b5], layout);
  ctrl = ctrlBuffer ? new I32(ctrlBuffer) : new I32(4);
  if (scratch) { scratchLen = cols.close.length; scratchFree = scratch.slice(); scratchAll = scratch.slice(); scratchUsed = 0; }
  strat = instantiate(Cls, info, params, cols);
  phase = 'init()';
  scratchTa = scratchFree !== null;
  try { strat.init(); } finally { scratchTa = false; }
  return { ok: true };
});
/** The lent buffers go back to the host with the result, and how many the run asked for. */
function takeScratch() {
  const all = scratchAll, used = scratchUsed;
  scratchFree = null; scratchAll = null; scratchUsed = 0;
  return all === null ? null : { buffers: all, used: used };
}

const CHUNK = 16384;
const TRADE_FIELDS = 13;
const CASH = 0, AMOUNT = 1, ENTRY = 2, EFEE = 3, EFEESHOWN = 4, STOP = 5, TPX = 6, SLF = 7, TPF = 8, PSIZE = 9, PSL = 10, PTP = 11;
const R_SIGNAL = 0, R_REVERSE = 1, R_STOP = 2, R_TP = 3, R_END = 4;
const CANCELLED = { cancelled: true };

/** The whole backtest loop; config as in SimConfig. */
const run = guard(function (cfg, equityBuffer, exposureBuffer) {
  const s = strat;
  const time = cols.time, open = cols.open, high = cols.high, low = cols.low, close = cols.close;
  const n = close.length;
  const taker = cfg.fees.taker, maker = cfg.fees.maker;
  const slip = cfg.slippageBps / 10000;
  const step = cfg.amountStep, minAmount = cfg.minAmount;
  const allowShort = !!cfg.allowShort;
  const atClose = cfg.fillAt === 'close';
  const closeAtEnd = cfg.closeAtEnd !== false;
  const feeInPrice = cfg.feeModel === 'entry_price';
  const first = info.warmup;
  // The equity curve and exposure are written straight into the host's shared buffers (no copy out).
  const equity = equityBuffer ? new F64(equityBuffer, 0, n) : new F64(n);
  const exposure = exposureBuffer ? new I8(exposureBuffer, 0, n) : new I8(n);
  let tbuf = new F64(TRADE_FIELDS * 64), tcount = 0;
  let dbuf = new I32(256), dcount = 0;
  function pushDecision(i, a) {
    if (dcount * 2 + 2 > dbuf.length) { const nb = new I32(dbuf.length * 2); nb.set(dbuf); dbuf = nb; }
    dbuf[dcount * 2] = i; dbuf[dcount * 2 + 1] = a; dcount++;
  }
  // Float state lives in one typed array: a double kept in a closure variable is boxed on every write.
  const st = new F64(12);
  st[CASH] = cfg.initialBalance;
  // The open position (side: 0 flat, 1 long, -1 short); stop/take-profit fractions NaN when none.
  let side = 0, entryIndex = -1;
  st[SLF] = NaN_; st[TPF] = NaN_;
  // The decision waiting for the next open (fillAt 'open').
  let pending = NONE;
  let refused = 0;

  function setView() {
    s.position = positionObject(side, st[AMOUNT], st[ENTRY]);
    s.balance = side === 0 ? st[CASH] : st[CASH] - st[AMOUNT] * st[ENTRY];
  }
  function exitAt(price, j, reason, fee) {
    const exitFee = feeInPrice ? 0 : st[AMOUNT] * price * fee;
    const gross = side * st[AMOUNT] * (price - st[ENTRY]);
    st[CASH] += gross - exitFee;
    const pnl = gross - st[EFEE] - exitFee;
    // Trades leave the isolate as one Float64Array (TRADE_FIELDS per trade): copying thousands
    // of objects across the boundary costs more than the whole loop.
    if ((tcount + 1) * TRADE_FIELDS > tbuf.length) { const nb = new F64(tbuf.length * 2); nb.set(tbuf); tbuf = nb; }
    const o = tcount * TRADE_FIELDS;
    tbuf[o] = side; tbuf[o + 1] = entryIndex; tbuf[o + 2] = j; tbuf[o + 3] = st[ENTRY]; tbuf[o + 4] = price;
    tbuf[o + 5] = st[AMOUNT]; tbuf[o + 6] = st[EFEESHOWN] + exitFee; tbuf[o + 7] = pnl; tbuf[o + 8] = pnl / (st[ENTRY] * st[AMOUNT]) * 100;
    tbuf[o + 9] = st[CASH]; tbuf[o + 10] = st[SLF]; tbuf[o + 11] = st[TPF]; tbuf[o + 12] = reason;
    tcount++;
    side = 0; st[AMOUNT] = 0; st[ENTRY] = 0; st[EFEE] = 0; st[EFEESHOWN] = 0; entryIndex = -1; st[SLF] = NaN_; st[TPF] = NaN_;
  }
  function marketExit(raw, j, reason) {
    // Selling a long / buying back a short: slippage against the trader, taker fee.
    exitAt(side === 1 ? raw * (1 - slip) : raw * (1 + slip), j, reason, taker);
  }
  function openAt(raw, j, dir, size, sl, tp) {
    const base = dir === 1 ? raw * (1 + slip) : raw * (1 - slip);
    // 'entry_price': the fee folded into the st[ENTRY] price, none on exits (backtesting.py < 0.4).
    const price = feeInPrice ? base * (1 + dir * taker) : base;
    let amt = feeInPrice ? st[CASH] * size / price : st[CASH] * size / (price * (1 + taker));
    if (step > 0) amt = floor(amt / step) * step;
    if (!(amt > 0) || amt < minAmount) { refused++; return; }
    side = dir; st[AMOUNT] = amt; st[ENTRY] = price; entryIndex = j;
    st[EFEE] = feeInPrice ? 0 : amt * price * taker;
    st[EFEESHOWN] = feeInPrice ? amt * base * taker : st[EFEE];
    st[CASH] -= st[EFEE];
    st[SLF] = sl; st[TPF] = tp;
    st[STOP] = sl !== sl ? 0 : (dir === 1 ? price * (1 - sl) : price * (1 + sl));
    st[TPX] = tp !== tp ? 0 : (dir === 1 ? price * (1 + tp) : price * (1 - tp));
  }
  function execute(action, raw, j, size, sl, tp) {
    if (action === CLOSE) { if (side !== 0) marketExit(raw, j, R_SIGNAL); }
    else if (action === OPEN_LONG || action === OPEN_SHORT) { if (side === 0) openAt(raw, j, action === OPEN_LONG ? 1 : -1, size, sl, tp); }
    else if (action === REV_LONG || action === REV_SHORT) {
      if (side !== 0) marketExit(raw, j, R_REVERSE);
      openAt(raw, j, action === REV_LONG ? 1 : -1, size, sl, tp);
    }
    setView();
  }
  /** Stop-loss / take-profit against candle j: a gap through a level fills at the open; the stop first. */
  function protect(j, entryCandle) {
    const o = open[j], hi = high[j], lo = low[j];
    if (side === 1) {
      if (!entryCandle) {
        if (st[STOP] > 0 && o <= st[STOP]) { exitAt(o * (1 - slip), j, R_STOP, taker); return; }
        if (st[TPX] > 0 && o >= st[TPX]) { exitAt(o, j, R_TP, maker); return; }
      }
      if (st[STOP] > 0 && lo <= st[STOP]) { exitAt(st[STOP] * (1 - slip), j, R_STOP, taker); return; }
      if (st[TPX] > 0 && hi >= st[TPX]) { exitAt(st[TPX], j, R_TP, maker); return; }
    } else {
      if (!entryCandle) {
        if (st[STOP] > 0 && o >= st[STOP]) { exitAt(o * (1 + slip), j, R_STOP, taker); return; }
        if (st[TPX] > 0 && o <= st[TPX]) { exitAt(o, j, R_TP, maker); return; }
      }
      if (st[STOP] > 0 && hi >= st[STOP]) { exitAt(st[STOP] * (1 + slip), j, R_STOP, taker); return; }
      if (st[TPX] > 0 && lo <= st[TPX]) { exitAt(st[TPX], j, R_TP, maker); return; }
    }
  }

  setView();
  for (let i = 0; i < n; i++) {
    if ((i & (CHUNK - 1)) === 0) {
      if (atomicLoad(ctrl, 0) !== 0) return CANCELLED;
      atomicStore(ctrl, 1, i);
    }
    if (!atClose) {
      if (pending !== NONE) { execute(pending, open[i], i, st[PSIZE], st[PSL], st[PTP]); pending = NONE; }
      if (side !== 0 && (st[STOP] > 0 || st[TPX] > 0)) { protect(i, entryIndex === i); if (side === 0) setView(); }
      equity[i] = side === 0 ? st[CASH] : st[CASH] + side * st[AMOUNT] * (close[i] - st[ENTRY]);
      exposure[i] = side;
      if (i >= first) {
        s.i = i;
        const a = rule(s, side, allowShort, false);
        if (a !== NONE) {
          pushDecision(i, a);
          if (a !== CLOSE) { st[PSIZE] = sizeOf(s); st[PSL] = nanIfNull(fractionOf(s, 'calculateStopLoss()')); st[PTP] = nanIfNull(fractionOf(s, 'calculateTakeProfit()')); }
          if (i + 1 < n) pending = a;
        }
      }
    } else {
      if (side !== 0 && (st[STOP] > 0 || st[TPX] > 0) && entryIndex < i) { protect(i, false); if (side === 0) setView(); }
      if (i >= first) {
        s.i = i;
        const a = rule(s, side, allowShort, false);
        if (a !== NONE) {
          pushDecision(i, a);
          let size = 0, sl = NaN_, tp = NaN_;
          if (a !== CLOSE) { size = sizeOf(s); sl = nanIfNull(fractionOf(s, 'calculateStopLoss()')); tp = nanIfNull(fractionOf(s, 'calculateTakeProfit()')); }
          execute(a, close[i], i, size, sl, tp);
        }
      }
      equity[i] = side === 0 ? st[CASH] : st[CASH] + side * st[AMOUNT] * (close[i] - st[ENTRY]);
      exposure[i] = side;
    }
  }
  if (side !== 0 && n > 0 && closeAtEnd) {
    marketExit(close[n - 1], n - 1, R_END);
    equity[n - 1] = st[CASH];
  }
  atomicStore(ctrl, 1, n);
  return {
    trades: tbuf.slice(0, tcount * TRADE_FIELDS), equity: equityBuffer ? null : equity, exposure: exposureBuffer ? null : exposure, finalEquity: n > 0 ? equity[n - 1] : st[CASH],
    firstDecisionIndex: first < n ? first : -1, decisions: dbuf.slice(0, dcount * 2), refused: refused, scratch: takeScratch(),
  };
});

/** Live: init() on the window already ran (prepare); the rule on the last candle. */
const decide = guard(function (state, allowShort) {
  const p = state.position;
  return decideOn(p == null ? 0 : (p.side === 'long' ? 1 : -1), p == null ? 0 : p.amount, p == null ? 0 : p.entryPrice, state.balance, allowShort, null);
});
/**
 * decide's rule with the state as numbers (side: 0 flat, 1 long, -1 short). With out (a Float64Array
 * of 3 the host shares), a decision past the warm-up comes back packed, with no object to copy out:
 * size, stop-loss and take-profit in out (NaN for null), and the number action * 64 + the reason's
 * index in WHY_LIST (the host reads the list once: sandbox.ts, unpackDecision).
 */
function decideOn(side, amount, entryPrice, balance, allowShort, out) {
  const s = strat;
  const n = cols.close.length;
  const i = n - 1;
  if (n === 0 || i < info.warmup) {
    return { action: 'none', size: null, stopLoss: null, takeProfit: null, reason: 'warm-up (needs ' + info.warmup + ' candles before the first decision, has ' + n + ')', reasonKey: 'coreBot.why.warmup', reasonParams: { warmup: info.warmup, have: n } };
  }
  s.i = i;
  s.position = positionObject(side, amount, entryPrice);
  s.balance = balance;
  const a = rule(s, side, !!allowShort, true);
  let size = null, sl = null, tp = null;
  if (a !== NONE && a !== CLOSE) { size = sizeOf(s); sl = fractionOf(s, 'calculateStopLoss()'); tp = fractionOf(s, 'calculateTakeProfit()'); }
  if (out !== null) {
    const w = WHY_INDEX[why];
    if (w !== undefined) { out[0] = size === null ? NaN_ : size; out[1] = sl === null ? NaN_ : sl; out[2] = tp === null ? NaN_ : tp; return a * 64 + w; }
  }
  return { action: ACTIONS[a], size: size, stopLoss: sl, takeProfit: tp, reason: why, reasonKey: WHY_KEYS[why], reasonParams: {} };
}
/** The rule's reasons as catalogue keys (shared/i18n/en/coreBot.ts, the same English). */
const WHY_KEYS = {
  'shouldLong()': 'coreBot.why.shouldLong', 'shouldShort()': 'coreBot.why.shouldShort', 'shouldExit()': 'coreBot.why.shouldExit',
  'shouldLong() (reversal)': 'coreBot.why.longReversal', 'shouldShort() (reversal)': 'coreBot.why.shortReversal', 'shouldShort() (shorting not allowed: close only)': 'coreBot.why.shortCloseOnly',
  'shouldLong() false': 'coreBot.why.longFalse', 'shouldLong() and shouldShort() false': 'coreBot.why.longShortFalse', 'shouldShort() and shouldExit() false': 'coreBot.why.shortExitFalse', 'shouldLong() and shouldExit() false': 'coreBot.why.longExitFalse',
};
/** The reasons by index, for packed decisions (decideOn); WHY_INDEX has no prototype, so nothing a strategy patches answers there. */
const WHY_LIST = ObjectKeys(WHY_KEYS);
const WHY_INDEX = ObjectCreate(null);
for (let w = 0; w < WHY_LIST.length; w++) WHY_INDEX[WHY_LIST[w]] = w;
/** What the host needs to unpack a packed decision: [reason, key] by index, and the actions by number (made before any strategy code runs). */
const DECISION_TABLES = (function () {
  const whys = [], actions = [];
  for (let w = 0; w < WHY_LIST.length; w++) whys[w] = [WHY_LIST[w], WHY_KEYS[WHY_LIST[w]]];
  for (let a = 0; a < ACTIONS.length; a++) actions[a] = ACTIONS[a];
  return { whys: whys, actions: actions };
})();
const decisionTables = function () { return DECISION_TABLES; };

/**
 * Live, on a context the host keeps between decisions (sandbox.ts decideKept): the columns (the
 * host's shared buffers, which it updates in place between calls) and the params are bound once
 * and passed again only when they change; each decision then crosses with its state alone, as
 * numbers (side 0 flat, 1 long, -1 short; amount; entry price; balance). The same two steps as
 * prepare() then decide(): a new instance, init() on the window, the rule on its last candle. What a binding
 * keeps from one decision to the next is the runtime's own and never written by strategy code:
 * the column views, the checked params (frozen) and the constructor whose (frozen) prototype holds
 * the columns' copy-on-read accessors — so each instance gets its own copies, as in prepare().
 */
let boundCols = null, boundParams = null, BoundRun = null, boundOut = null;
const decideBound = guard(function (params, layout, b0, b1, b2, b3, b4, b5, outBuffer, side, amount, entryPrice, balance, allowShort) {
  if (layout) { boundCols = null; BoundRun = null; boundOut = null; boundCols = columnsFrom([b0, b1, b2, b3, b4, b5], layout); boundOut = outBuffer ? new F64(outBuffer, 0, 3) : null; }
  if (params) { boundParams = null; boundParams = makeParams(info, params); }
  if (boundCols === null) throw kernelError('invalid_input', 'no columns bound to this context');
  if (boundParams === null) throw kernelError('invalid_input', 'no params bound to this context');
  if (BoundRun === null) BoundRun = lazyConstructor(Cls, boundCols);
  cols = boundCols;
  strat = construct(Cls, BoundRun, boundParams);
  phase = 'init()';
  strat.init();
  return decideOn(side, amount, entryPrice, balance, allowShort, boundOut);
});

const currentPhase = function () { return phase; };

/** ta.<name>(...args) on copied arrays: what strategies get, for the host's tests and charts. */
const indicator = guard(function (name, args) {
  if (!Object.prototype.hasOwnProperty.call(ta, name)) throw kernelError('invalid_input', 'unknown indicator ta.' + String(name));
  const conv = [];
  for (const a of args) conv.push(a instanceof ArrayBuffer ? new F64(a) : a);
  return ta[name].apply(undefined, conv);
});

return { load: load, prepare: prepare, run: run, decide: decide, decideBound: decideBound, decisionTables: decisionTables, phase: currentPhase, indicator: indicator };
})()`;
