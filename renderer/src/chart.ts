/**
 * What the Heartbeat and Manual trading charts share (lightweight-charts 5): a chart themed from the
 * design tokens (dark or light, redrawn when the theme changes), dates and prices in the app's
 * language and the profile's time zone (UTC or local), a candlestick series with the volume as a
 * histogram below it, and `LiveCandles`, which keeps the last candle moving with the stream: the
 * forming candle of any timeframe is built from the 1m candles of `heartbeat.tick` (closed minutes
 * and the one forming), and each closed candle of `heartbeat.signal` replaces it.
 */
import { watch } from 'vue';
import {
  CandlestickSeries,
  HistogramSeries,
  TickMarkType,
  createChart,
  type CandlestickData,
  type HistogramData,
  type IChartApi,
  type ISeriesApi,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { floorToTimeframe, MINUTE_MS, timeframeMinutes, type Timeframe } from '@shared/timeframes';
import { locale, n } from './i18n';
import { useSessionStore } from './stores/session';

export interface WireCandle {
  openTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}

export const toTime = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;
export const timeMs = (t: Time) => (t as number) * 1000;

/** Empty bars kept right of the last one (markers and the last price stay readable). */
const RIGHT_ROOM = 5;

const langTag = () => (locale.value === 'fr' ? 'fr-FR' : 'en-US');

function cssColors() {
  const css = getComputedStyle(document.documentElement);
  const c = (v: string, d: string) => css.getPropertyValue(v).trim() || d;
  return {
    text: c('--c-text-dim', '#8a96a8'),
    line: c('--c-line', '#232c3b'),
    up: c('--c-success', '#00ff88'),
    down: c('--c-danger', '#ff0055'),
    primary: c('--c-primary', '#00d4ff'),
  };
}
export type ChartColors = ReturnType<typeof cssColors>;

/** Digits after the point that show a price's moves (2 for 60 000, 6 for 0.0123). */
export function priceDigits(p: number): number {
  const a = Math.abs(p);
  if (!Number.isFinite(a) || a === 0) return 2;
  if (a >= 1000) return 2;
  if (a >= 1) return 4;
  return Math.min(10, Math.max(4, 3 - Math.floor(Math.log10(a)) + 1));
}

/**
 * A chart in `el`: candles (and volume below) themed, localised and redrawn on a change of theme,
 * language or time zone. `onTheme` is called with the colours after every change (price lines and
 * markers use them). Dispose with `destroy()`.
 */
export function themedChart(el: HTMLElement, onTheme?: (c: ChartColors) => void) {
  const session = useSessionStore();
  let digits = 2;
  const utc = () => session.settings?.timezone === 'UTC';
  const fmt = (ms: number, o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(langTag(), utc() ? { ...o, timeZone: 'UTC' } : o).format(new Date(ms));
  const chart: IChartApi = createChart(el, { autoSize: true });
  const candles: ISeriesApi<'Candlestick'> = chart.addSeries(CandlestickSeries, { borderVisible: false });
  const volume: ISeriesApi<'Histogram'> = chart.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false });
  chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.82, bottom: 0 }, visible: false });
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.22 } });

  let colors = cssColors();
  const apply = () => {
    colors = cssColors();
    chart.applyOptions({
      layout: { background: { color: 'transparent' }, textColor: colors.text },
      grid: { vertLines: { color: colors.line }, horzLines: { color: colors.line } },
      rightPriceScale: { borderColor: colors.line },
      timeScale: {
        timeVisible: true,
        secondsVisible: false,
        rightOffset: RIGHT_ROOM,
        borderColor: colors.line,
        tickMarkFormatter: (t: Time, type: TickMarkType) => {
          const ms = timeMs(t);
          if (type === TickMarkType.Year) return fmt(ms, { year: 'numeric' });
          if (type === TickMarkType.Month) return fmt(ms, { month: 'short' });
          if (type === TickMarkType.DayOfMonth) return fmt(ms, { day: 'numeric', month: 'short' });
          return fmt(ms, { hour: '2-digit', minute: '2-digit', hour12: false });
        },
      },
      localization: {
        locale: langTag(),
        timeFormatter: (t: Time) => fmt(timeMs(t), { dateStyle: 'medium', timeStyle: 'short', hour12: false }) + (utc() ? ' UTC' : ''),
        priceFormatter: (p: number) => n(p, { minimumFractionDigits: digits, maximumFractionDigits: digits }),
      },
    });
    candles.applyOptions({ upColor: colors.up, downColor: colors.down, wickUpColor: colors.up, wickDownColor: colors.down });
    onTheme?.(colors);
  };
  apply();
  const themeObserver = new MutationObserver(apply);
  themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  const stopWatch = watch([locale, () => session.settings?.timezone], apply);

  return {
    chart,
    candles,
    volume,
    colors: () => colors,
    /** Every bar in view, with room on the right for the last bar's markers and labels. */
    fit() {
      const count = candles.data().length;
      if (count) chart.timeScale().setVisibleLogicalRange({ from: -0.5, to: count - 1 + RIGHT_ROOM });
    },
    /** Price digits from a typical price of the data (the axis and the crosshair label). */
    setDigits(p: number) {
      const d = priceDigits(p);
      if (d === digits) return;
      digits = d;
      apply();
    },
    destroy() {
      themeObserver.disconnect();
      stopWatch();
      chart.remove();
    },
  };
}
export type ThemedChart = ReturnType<typeof themedChart>;

/**
 * Candles of one symbol and timeframe on a themed chart, kept live: `set` (the stored ones),
 * `closed` (a closed candle: a signal), `tick` (a 1m candle moving: the forming candle of the
 * timeframe is rebuilt from the minutes of its period). Bars only move forward; a closed candle
 * older than the last bar (a late signal) replaces its bar in place.
 */
export class LiveCandles {
  /** the 1m candles (closed or forming) of the period forming now, by open time */
  private minutes = new Map<number, WireCandle>();
  private period = -1;
  /** live updates applied (ticks and closes), for tests */
  updates = 0;

  constructor(
    private readonly c: ThemedChart,
    readonly timeframe: Timeframe,
  ) {}

  /** How many of the latest 1m candles `seedMinutes` wants (none for 1m: its bars are the minutes). */
  get seedCount(): number {
    return this.timeframe === '1m' ? 0 : timeframeMinutes(this.timeframe);
  }

  private bar(x: WireCandle): CandlestickData<Time> {
    return { time: toTime(x.openTime), open: Number(x.open), high: Number(x.high), low: Number(x.low), close: Number(x.close) };
  }
  private vol(x: WireCandle): HistogramData<Time> {
    const colors = this.c.colors();
    const up = Number(x.close) >= Number(x.open);
    return { time: toTime(x.openTime), value: Number(x.volume), color: `${up ? colors.up : colors.down}55` };
  }

  /** The stored candles, oldest first (replaces everything). */
  set(rows: WireCandle[]): void {
    this.c.candles.setData(rows.map((r) => this.bar(r)));
    this.c.volume.setData(rows.map((r) => this.vol(r)));
    const last = rows.at(-1);
    if (last) this.c.setDigits(Number(last.close));
  }

  /**
   * The latest stored 1m candles (at least a period's worth): when the last of them belongs to a
   * period not closed yet (no bar of its own), they make the forming candle at once.
   */
  seedMinutes(rows: WireCandle[]): void {
    const lastRow = rows.at(-1);
    if (!lastRow) return;
    const period = floorToTimeframe(lastRow.openTime, this.timeframe);
    const lastBar = this.c.candles.data().at(-1);
    if (period <= this.period || (lastBar && period <= timeMs(lastBar.time))) return; // that period is closed
    this.period = period;
    this.minutes = new Map(rows.filter((r) => floorToTimeframe(r.openTime, this.timeframe) === period).map((r) => [r.openTime, r]));
    this.render();
  }

  /** A closed candle of this timeframe (heartbeat.signal). */
  closed(x: WireCandle): void {
    this.upsert(x);
    this.updates++;
  }

  /** A 1m candle as the stream moves it (heartbeat.tick). */
  tick(m: WireCandle): void {
    if (m.openTime % MINUTE_MS !== 0) return;
    const period = floorToTimeframe(m.openTime, this.timeframe);
    if (period < this.period) return; // a minute of a period already closed: its signal settles it
    if (period > this.period) {
      this.period = period;
      this.minutes = new Map();
    }
    this.minutes.set(m.openTime, m);
    this.render();
    this.updates++;
  }

  /** The forming candle from the minutes of its period. */
  private render(): void {
    const ms = [...this.minutes.values()].sort((a, b) => a.openTime - b.openTime);
    if (!ms.length) return;
    let high = Number(ms[0]!.high);
    let low = Number(ms[0]!.low);
    let vol = 0;
    for (const x of ms) {
      high = Math.max(high, Number(x.high));
      low = Math.min(low, Number(x.low));
      vol += Number(x.volume);
    }
    this.upsert({ openTime: this.period, open: ms[0]!.open, high: String(high), low: String(low), close: ms.at(-1)!.close, volume: String(vol) });
  }

  private upsert(x: WireCandle): void {
    const bar = this.bar(x);
    const data = this.c.candles.data();
    const last = data.at(-1);
    if (!last || (bar.time as number) >= (last.time as number)) {
      this.c.candles.update(bar);
      this.c.volume.update(this.vol(x));
      return;
    }
    // older than the last bar: replaced (or inserted) in place
    const put = <T extends { time: Time }>(rows: readonly T[], row: T): T[] => {
      const out = rows.filter((r) => r.time !== row.time);
      out.push(row);
      return out.sort((a, b) => (a.time as number) - (b.time as number));
    };
    this.c.candles.setData(put(data as CandlestickData<Time>[], bar));
    this.c.volume.setData(put(this.c.volume.data() as HistogramData<Time>[], this.vol(x)));
  }

  /** The bars on the chart (tests read them through the component's data attributes). */
  bars(): CandlestickData<Time>[] {
    return this.c.candles.data() as CandlestickData<Time>[];
  }
}
