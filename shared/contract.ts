import type { z } from 'zod';
import type { Params } from './i18n';
import { aiEvents, aiMethods } from './contract/ai';
import { appEvents, appMethods } from './contract/app';
import { backtestEvents, backtestMethods } from './contract/backtest';
import { botEvents, botMethods } from './contract/bot';
import { chartMethods } from './contract/charts';
import { exchangeEvents, exchangeMethods } from './contract/exchanges';
import { heartbeatEvents, heartbeatMethods } from './contract/heartbeat';
import { notificationEvents, notificationMethods } from './contract/notifications';
import { roadMethods } from './contract/road';
import { strategyEvents, strategyMethods } from './contract/strategies';
import { tradingEvents, tradingMethods } from './contract/trading';
import { webhookEvents, webhookMethods } from './contract/webhooks';
import { statsEvents, statsMethods } from './contract/stats';
import type { MethodDef } from './contract/define';

/**
 * THE API. Every method the renderer or a headless script may call, and every event it may
 * receive, with their schemas; types are inferred from them. Each domain keeps its part in
 * `shared/contract/<domain>.ts` and is merged here.
 */
export const methods = {
  ...appMethods,
  ...exchangeMethods,
  ...heartbeatMethods,
  ...tradingMethods,
  ...webhookMethods,
  ...backtestMethods,
  ...strategyMethods,
  ...aiMethods,
  ...botMethods,
  ...notificationMethods,
  ...roadMethods,
  ...statsMethods,
  ...chartMethods,
} as const satisfies Record<string, MethodDef>;

export const events = {
  ...appEvents,
  ...exchangeEvents,
  ...heartbeatEvents,
  ...tradingEvents,
  ...webhookEvents,
  ...backtestEvents,
  ...strategyEvents,
  ...aiEvents,
  ...botEvents,
  ...notificationEvents,
  ...statsEvents,
} as const satisfies Record<string, z.ZodType>;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type MethodInput<M extends MethodName> = z.input<Methods[M]['input']>;
export type MethodParsedInput<M extends MethodName> = z.output<Methods[M]['input']>;
export type MethodOutput<M extends MethodName> = z.input<Methods[M]['output']>;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventData<E extends EventName> = z.input<Events[E]>;

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(methods, name);
}
export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}

/** Wire format (headless WebSocket; the Electron bridge mirrors it). */
export interface WireRequest { id: number | string; method: string; params?: unknown }
export type WireReply = { id: number | string | null; result: unknown } | { id: number | string | null; error: { code: string; message: string; key: string; params: Params; details?: unknown } };
export interface WireEvent { event: string; data: unknown }
