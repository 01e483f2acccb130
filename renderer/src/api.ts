import type { EventData, EventName, MethodInput, MethodName, MethodOutput, WireEvent } from '@shared/contract';
import type { MessageKey, Params } from '@shared/i18n';
import { wordError, wordField } from '@shared/i18n/wording';
import { locale } from './i18n';

/**
 * An error from the core, with its stable code (see shared/errors.ts), and the catalogue key and
 * parameters the renderer words it with (`errorMessage`, `fieldMessage`) in the current language;
 * `message` is the core's English.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly key?: string,
    readonly params?: Params,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  /** The error in the current language. */
  get text(): string {
    return wordError(locale.value, this);
  }
  /** The message for one input field, when the core named it, in the current language. */
  fieldMessage(field: string): string | undefined {
    return wordField(locale.value, this, field);
  }
}

type WireError = { code: string; message: string; key?: string; params?: Params; details?: unknown };
type Reply = { result: unknown } | { error: WireError };

/** An error of the transport itself (no token, connection lost), keyed like the core's. */
function transportError(code: string, key: MessageKey): WireError {
  return { code, key, params: {}, message: wordError('en', { message: '', key }) };
}

interface Transport {
  invoke(method: string, params: unknown): Promise<Reply>;
  onEvent(listener: (e: WireEvent) => void): () => void;
  onConnection(listener: (up: boolean) => void): () => void;
}

/** Electron: the preload bridge (IPC). */
function bridgeTransport(bridge: AristobotBridge): Transport {
  return {
    invoke: (m, p) => bridge.invoke(m, p),
    onEvent: (l) => bridge.subscribe(l),
    onConnection: () => () => undefined,
  };
}

const TOKEN_KEY = 'aristobot.token';

/**
 * Headless: the access token. It arrives once in the address (`?token=`), is kept in this tab's
 * `sessionStorage` (which, unlike a cookie, no other port of 127.0.0.1 can read or overwrite), and
 * is dropped from the address bar (history, screenshots).
 */
export function takeAccessToken(loc: Pick<Location, 'search' | 'pathname' | 'hash'> = location, storage: Pick<Storage, 'getItem' | 'setItem'> = sessionStorage, replace: (url: string) => void = (u) => history.replaceState(null, '', u)): string | null {
  const q = new URLSearchParams(loc.search);
  const fromUrl = q.get('token');
  if (q.has('token')) {
    q.delete('token');
    const rest = q.toString();
    replace(loc.pathname + (rest ? `?${rest}` : '') + loc.hash);
  }
  if (fromUrl) storage.setItem(TOKEN_KEY, fromUrl);
  return fromUrl || storage.getItem(TOKEN_KEY);
}

/** The token as a WebSocket subprotocol value (`aristobot.token.<base64url of its UTF-8>`). */
export function tokenProtocol(token: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(token)) bin += String.fromCharCode(b);
  return 'aristobot.token.' + btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Headless: a WebSocket to /api (authorised by the token, offered as a subprotocol), reconnecting. */
function socketTransport(): Transport {
  const token = takeAccessToken();
  if (!token) {
    return {
      invoke: async () => ({ error: transportError('unauthenticated', 'errors.noToken') }),
      onEvent: () => () => undefined,
      onConnection: () => () => undefined,
    };
  }
  let ws: WebSocket | null = null;
  let nextId = 1;
  let backoff = 500;
  const pending = new Map<number, (r: Reply) => void>();
  const eventListeners = new Set<(e: WireEvent) => void>();
  const connListeners = new Set<(up: boolean) => void>();
  let opened: Promise<WebSocket>;

  const connect = (): Promise<WebSocket> =>
    new Promise((resolve) => {
      const proto = location.protocol === 'https:' ? 'wss' : 'ws';
      const sock = new WebSocket(`${proto}://${location.host}/api`, ['aristobot', tokenProtocol(token)]);
      sock.onopen = () => {
        ws = sock;
        backoff = 500;
        connListeners.forEach((l) => l(true));
        resolve(sock);
      };
      sock.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as Reply & { id?: number; event?: string; data?: unknown };
        if (typeof msg.event === 'string') eventListeners.forEach((l) => l({ event: msg.event!, data: msg.data }));
        else if (typeof msg.id === 'number') {
          pending.get(msg.id)?.(msg);
          pending.delete(msg.id);
        }
      };
      sock.onclose = () => {
        const wasOpen = ws === sock;
        ws = null;
        for (const [, r] of pending) r({ error: transportError('unavailable', 'errors.connectionLost') });
        pending.clear();
        if (wasOpen) connListeners.forEach((l) => l(false));
        setTimeout(() => {
          opened = connect();
          void opened.then(resolve);
        }, backoff);
        backoff = Math.min(backoff * 2, 10_000);
      };
    });
  opened = connect();

  return {
    async invoke(method, params) {
      const sock = ws ?? (await opened);
      const id = nextId++;
      return new Promise<Reply>((resolve) => {
        pending.set(id, resolve);
        sock.send(JSON.stringify({ id, method, params }));
      });
    },
    onEvent: (l) => {
      eventListeners.add(l);
      return () => eventListeners.delete(l);
    },
    onConnection: (l) => {
      connListeners.add(l);
      return () => connListeners.delete(l);
    },
  };
}

const transport: Transport = window.aristobot ? bridgeTransport(window.aristobot) : socketTransport();

export async function call<M extends MethodName>(method: M, ...params: undefined extends MethodInput<M> ? [MethodInput<M>?] : [MethodInput<M>]): Promise<MethodOutput<M>> {
  const reply = await transport.invoke(method, params[0] ?? {});
  if ('error' in reply) throw new ApiError(reply.error.code, reply.error.message, reply.error.details, reply.error.key, reply.error.params);
  return reply.result as MethodOutput<M>;
}

const subscribed = new Set<string>();
const handlers = new Map<string, Set<(data: unknown) => void>>();
transport.onEvent((e) => handlers.get(e.event)?.forEach((h) => h(e.data)));

/** Listen to an event; subscribes this connection on first use. Returns the unsubscribe function. */
export function on<E extends EventName>(event: E, handler: (data: EventData<E>) => void): () => void {
  let set = handlers.get(event);
  if (!set) handlers.set(event, (set = new Set()));
  set.add(handler as (d: unknown) => void);
  if (!subscribed.has(event)) {
    subscribed.add(event);
    void call('events.subscribe', { events: [event] }).catch(() => subscribed.delete(event));
  }
  return () => set.delete(handler as (d: unknown) => void);
}

/** Connection lost/restored (headless). After a reconnect the session must be checked again. */
export function onConnection(listener: (up: boolean) => void): () => void {
  return transport.onConnection((up) => {
    if (up) {
      const events = [...subscribed];
      if (events.length) void call('events.subscribe', { events }).catch(() => undefined);
    }
    listener(up);
  });
}

/** Any error as a sentence in the current language (the core's errors by their key). */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.text;
  return e instanceof Error ? e.message : String(e);
}
