import { AppError, invalidField } from '../../shared/errors';
import type { Params, Text } from '../../shared/i18n';
import type { Logger } from '../log';
import type { SecretStore } from '../secrets/store';

/**
 * The built-in tunnel: @ngrok/ngrok forwards a public HTTPS URL to the local listener. The user's
 * authtoken lives in the SecretStore (fixed reference below), never in the database, the logs or an
 * error message. Starting it never touches the listener: a failure leaves the listener as it was.
 */

export const NGROK_TOKEN_REF = 'webhooks.ngrok.authtoken';

export interface TunnelHandle {
  url(): string | null;
  close(): Promise<void>;
}
/** How a tunnel is opened (ngrok's `forward` in the app; a stand-in in tests). */
export type Forward = (opts: { addr: string; authtoken: string }) => Promise<TunnelHandle>;

export const ngrokForward: Forward = async ({ addr, authtoken }) => {
  const ngrok = await import('@ngrok/ngrok');
  return ngrok.forward({ addr, authtoken });
};

export interface TunnelState {
  running: boolean;
  publicUrl: string | null;
  /** The last start's failure in English (the API), with its catalogue key and parameters (the page words it). */
  error: string | null;
  errorKey: string | null;
  errorParams: Params | null;
  hasToken: boolean;
}

/** ngrok did not answer in time (worded by key; its own errors are passed on as they are). */
class NoAnswer extends Error {
  constructor(readonly seconds: number) {
    super(`no answer from ngrok within ${seconds} s`);
  }
}

export class Tunnel {
  private handle: TunnelHandle | null = null;
  private error: AppError | null = null;
  private hasToken = false;

  constructor(
    private readonly opts: { secrets: () => SecretStore | null; secretsMessage: () => string | Text; log: Logger; forward?: Forward; timeoutMs?: number },
  ) {}

  async state(): Promise<TunnelState> {
    const store = this.opts.secrets();
    this.hasToken = store ? (await store.get(NGROK_TOKEN_REF).catch(() => null)) !== null : false;
    const e = this.error;
    return { running: this.handle !== null, publicUrl: this.handle?.url() ?? null, error: e?.message ?? null, errorKey: e?.key ?? null, errorParams: e?.params ?? null, hasToken: this.hasToken };
  }

  /** Starts the tunnel to `addr` (host:port of the listener); `authtoken`, when given, is stored first. */
  async start(addr: string, authtoken?: string): Promise<void> {
    const store = this.opts.secrets();
    if (authtoken !== undefined) {
      if (!store) throw new AppError('secrets_unavailable', 'errors.webhooks.ngrokAuthtokenCannotKept', { secretsMessage: this.opts.secretsMessage() });
      await store.set(NGROK_TOKEN_REF, authtoken);
    }
    const token = store ? await store.get(NGROK_TOKEN_REF) : null;
    if (!token) {
      const err = invalidField('authtoken', 'errors.webhooks.noAuthtoken');
      this.error = err;
      throw err;
    }
    await this.stop();
    const timeoutMs = this.opts.timeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const opened = (this.opts.forward ?? ngrokForward)({ addr, authtoken: token });
      this.handle = await Promise.race([
        opened,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new NoAnswer(Math.round(timeoutMs / 1000))), timeoutMs);
        }),
      ]);
      // A tunnel that opened after the timeout is closed at once.
      opened.then((h) => (h !== this.handle ? h.close().catch(() => undefined) : undefined), () => undefined);
      this.error = null;
      this.opts.log.info({ publicUrl: this.handle.url() }, 'tunnel started');
    } catch (e) {
      const raw = (e as Error).message ?? String(e);
      // ngrok's messages may quote the token: never pass it on.
      const msg = raw.split(token).join('•••').slice(0, 300);
      const why = e instanceof NoAnswer ? { key: 'coreWebhooks.tunnel.noAnswer', params: { seconds: e.seconds } } : msg;
      const err = new AppError('unavailable', 'errors.webhooks.tunnelDidNotStart', { reason: why });
      this.error = err;
      this.opts.log.warn({ err: msg }, 'tunnel failed to start');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h) await h.close().catch((e: Error) => this.opts.log.warn({ err: e.message }, 'tunnel close failed'));
  }
}
