/**
 * The first-run guide's rules, free of Vue and of the API so they are unit-tested on their own
 * (test/firstrun.test.ts). The store (stores/firstrun.ts) feeds them the live state.
 */

/** The pages that are empty without a broker: the guide stands in for them. Account and Strategies stay. */
export const GUIDED_ROUTES = ['/heartbeat', '/trading', '/bot', '/backtest', '/webhooks', '/statistics'] as const;

export function guideCovers(path: string): boolean {
  return (GUIDED_ROUTES as readonly string[]).some((r) => path === r || path.startsWith(`${r}/`));
}

/** "I'll do it later" is remembered per profile in this machine's localStorage under this key. */
export function dismissKey(profileId: string): string {
  return `aristobot.firstrun.dismissed.${profileId}`;
}

export interface GuideInput {
  /** The profile's brokers have been read once since login (before that, nothing is decided). */
  checked: boolean;
  brokerCount: number;
  dismissed: boolean;
  /** A broker was created through the guide in this session and its last steps are not finished. */
  inFlow: boolean;
}

/**
 * Whether the guide replaces the guided pages: never before the brokers are known (no flash of the
 * guide for a profile that has brokers), never once dismissed; while the profile has no broker, or
 * while the user is still finishing the steps after creating one here. A broker added elsewhere
 * (the Account page) ends the guide by itself.
 */
export function guideVisible(g: GuideInput): boolean {
  if (!g.checked || g.dismissed) return false;
  return g.brokerCount === 0 || g.inFlow;
}

export type StepState = 'pending' | 'running' | 'done' | 'failed';

export interface MarketsInput {
  /** The broker the guide works on (null: step 1 not done). */
  exchange: string | null;
  /** The last progress of that exchange's update (markets.progress), if any. */
  progress: { phase: 'fetching' | 'storing' | 'done' | 'failed' | 'cancelled'; percent: number; count: number | null; message: string | null } | null;
  /** Markets stored for that exchange (markets.summary). */
  stored: number;
}

export interface MarketsStep {
  state: StepState;
  percent: number;
  count: number;
  /** The core's own words for a failure (shown as details under the guide's sentence). */
  message: string | null;
  cancelled: boolean;
}

/** Step 2 from the progress events and the stored count. A failure never hides behind old markets. */
export function marketsStep(m: MarketsInput): MarketsStep {
  const p = m.progress;
  if (!m.exchange) return { state: 'pending', percent: 0, count: 0, message: null, cancelled: false };
  if (p && (p.phase === 'fetching' || p.phase === 'storing')) return { state: 'running', percent: p.percent, count: 0, message: null, cancelled: false };
  if (p && p.phase === 'failed') return { state: 'failed', percent: 0, count: m.stored, message: p.message, cancelled: false };
  if (p && p.phase === 'done') return { state: 'done', percent: 100, count: p.count ?? m.stored, message: null, cancelled: false };
  if (p && p.phase === 'cancelled') return { state: m.stored > 0 ? 'done' : 'pending', percent: 0, count: m.stored, message: null, cancelled: m.stored === 0 };
  return m.stored > 0 ? { state: 'done', percent: 100, count: m.stored, message: null, cancelled: false } : { state: 'pending', percent: 0, count: 0, message: null, cancelled: false };
}

/** The symbol offered first: BTC/USDT when listed, else the first USDT pair, else the first. */
export function defaultSymbol(symbols: readonly string[]): string | null {
  if (symbols.includes('BTC/USDT')) return 'BTC/USDT';
  return symbols.find((s) => s.endsWith('/USDT')) ?? symbols[0] ?? null;
}

/** The one-click paper broker's starting balance: a plain positive decimal (the core checks it again). */
export function validStartingBalance(amount: string): boolean {
  const a = amount.trim();
  return /^\d{1,15}(\.\d{1,8})?$/.test(a) && Number(a) > 0;
}

/** A name no broker of the profile has yet: "Paper", then "Paper 2", "Paper 3"… */
export function freeName(base: string, taken: readonly string[]): string {
  const used = new Set(taken.map((n) => n.toLowerCase()));
  if (!used.has(base.toLowerCase())) return base;
  for (let i = 2; ; i++) if (!used.has(`${base} ${i}`.toLowerCase())) return `${base} ${i}`;
}
