import { AppError, invalidField } from '../../shared/errors';
import { translate, type MessageKey, type Params, type Text } from '../../shared/i18n';

/**
 * CSV candles (date/time, open, high, low, close, volume) as people already have them: a header is
 * detected (and may leave the first column unnamed, as pandas writes it), columns are found by name
 * when there is one, else by position; times are ISO dates/date-times (UTC unless an offset is
 * given) or epoch milliseconds. Every bad row is reported with its line number; the caller stores
 * nothing unless every row is good.
 */
export interface CsvCandle {
  time: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

/** A bad row: its English `message`, and the same as a catalogue key and parameters. */
export interface CsvProblem {
  line: number;
  message: string;
  key: MessageKey;
  params: Params;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const TIME_NAMES = new Set(['', 'date', 'time', 'datetime', 'date/time', 'timestamp', 'open_time', 'opentime', 'open time', 'unnamed: 0', 'index']);
const MAX_PROBLEMS = 50;

/** Epoch ms of an ISO date/date-time or an integer of epoch ms; NaN when neither. */
export function parseTime(s: string): number {
  const v = s.trim();
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const m = ISO.exec(v);
  if (!m) return NaN;
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', tz] = m;
  let iso = `${y}-${mo}-${d}T${h}:${mi}:${sec}${frac ? frac.slice(0, 4) : ''}`;
  iso += tz ? (tz.toUpperCase() === 'Z' ? 'Z' : tz.length === 5 ? `${tz.slice(0, 3)}:${tz.slice(3)}` : tz) : 'Z';
  const t = Date.parse(iso);
  // Date.parse rolls 2024-02-31 over to March: refuse dates that do not exist
  if (!Number.isFinite(t)) return NaN;
  if (!tz) {
    const back = new Date(t);
    if (back.getUTCDate() !== Number(d) || back.getUTCMonth() + 1 !== Number(mo)) return NaN;
  }
  return t;
}

function splitLine(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((f) => f.trim().replace(/^"(.*)"$/, '$1').trim());
}

export function parseCandleCsv(csv: string): CsvCandle[] {
  const lines = csv.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  let first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw invalidField('csv', 'errors.backtest.csvFileEmpty');
  const head = lines[first]!;
  const delimiter = [',', ';', '\t'].reduce((best, d) => (head.split(d).length > head.split(best).length ? d : best), ',');
  const headFields = splitLine(head, delimiter);

  // a header: the first field is not a time, or a price field is not a number
  const isHeader = !Number.isFinite(parseTime(headFields[0] ?? '')) || headFields.slice(1, 5).some((f) => !NUMBER.test(f));
  let idx = { time: 0, open: 1, high: 2, low: 3, close: 4, volume: 5 as number | -1 };
  if (isHeader) {
    const names = headFields.map((f) => f.toLowerCase());
    const find = (n: string) => names.indexOf(n);
    const timeAt = names.findIndex((n) => TIME_NAMES.has(n));
    const at = { time: timeAt >= 0 ? timeAt : 0, open: find('open'), high: find('high'), low: find('low'), close: find('close'), volume: find('volume') };
    const named = at.open >= 0 && at.high >= 0 && at.low >= 0 && at.close >= 0;
    if (named) idx = at;
    else if (headFields.length < 5) {
      throw invalidField('csv', 'errors.backtest.lineExpectedColumnsDate', { first: first + 1, head });
    }
    first++;
  }

  const out: CsvCandle[] = [];
  const problems: CsvProblem[] = [];
  const seen = new Map<number, number>();
  const need = Math.max(idx.time, idx.open, idx.high, idx.low, idx.close, idx.volume) + 1;
  for (let i = first; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    const f = splitLine(raw, delimiter);
    const fail = (key: MessageKey, params: Params = {}) => {
      if (problems.length < MAX_PROBLEMS) problems.push({ line, message: translate('en', key, params), key, params });
    };
    if (f.length < need && !(idx.volume === need - 1 && f.length === need - 1)) {
      fail('coreRest.csv.fields', { need, found: f.length });
      continue;
    }
    const time = parseTime(f[idx.time]!);
    if (!Number.isFinite(time)) {
      fail('coreRest.csv.time', { value: f[idx.time]! });
      continue;
    }
    const [open, high, low, close] = [f[idx.open]!, f[idx.high]!, f[idx.low]!, f[idx.close]!];
    const volume = idx.volume >= 0 && f[idx.volume] !== undefined && f[idx.volume] !== '' ? f[idx.volume]! : '0';
    const bad = [['open', open], ['high', high], ['low', low], ['close', close], ['volume', volume]].find(([, v]) => !NUMBER.test(v!));
    if (bad) {
      fail('coreRest.csv.number', { column: bad[0]!, value: bad[1]! });
      continue;
    }
    const [o, h, l, c, v] = [open, high, low, close, volume].map(Number) as [number, number, number, number, number];
    if (!(o > 0 && h > 0 && l > 0 && c > 0)) {
      fail('coreRest.csv.positive');
      continue;
    }
    if (v < 0) {
      fail('coreRest.csv.volume');
      continue;
    }
    if (h < Math.max(o, c, l) || l > Math.min(o, c)) {
      fail('coreRest.csv.inconsistent', { high, low, open, close });
      continue;
    }
    const dup = seen.get(time);
    if (dup !== undefined) {
      fail('coreRest.csv.duplicate', { time: new Date(time).toISOString(), dup });
      continue;
    }
    seen.set(time, line);
    out.push({ time, open, high, low, close, volume });
  }
  if (problems.length) {
    // the first three rows, each "line: problem.", as one nested message worded in the reader's language
    const shown = problems.slice(0, 3);
    const list = ['a', 'b', 'c'].slice(0, shown.length);
    const rows: Text = { key: `coreRest.csv.rows${shown.length}`, params: Object.fromEntries(shown.map((p, i) => [list[i]!, { key: 'coreRest.csv.row', params: { line: p.line, problem: { key: p.key, params: p.params } } }])) };
    throw new AppError('invalid_input', problems.length === MAX_PROBLEMS ? 'errors.backtest.csvBadRowsMore' : 'errors.backtest.csvBadRows', { rows }, {
      issues: problems.map((p) => ({ path: `csv:${p.line}`, message: p.message, key: p.key, params: p.params })),
      lines: problems,
    });
  }
  if (out.length === 0) throw invalidField('csv', 'errors.backtest.csvHasNoCandles');
  out.sort((a, b) => a.time - b.time);
  return out;
}
