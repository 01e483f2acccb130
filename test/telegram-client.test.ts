import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TelegramClient, TelegramError } from '../electron/notifications/telegram';
import { startTelegramStub, type TelegramStub } from './sim/telegram/server';

/** The Bot API client against the local stub: each of Telegram's answers classified. */

const BOT = { token: '7055555555:AAClientTestTokenForTheStubOnly000abcd', id: 7055555555, username: 'client_bot' };
let tg: TelegramStub;
let client: TelegramClient;
const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => (e instanceof TelegramError ? { failure: e.failure, code: e.errorCode, retryAfterMs: e.retryAfterMs, retryable: e.retryable, message: e.message } : { failure: 'thrown', message: String(e) }));

beforeAll(async () => {
  tg = await startTelegramStub({ bots: [BOT], chats: ['1001'], perChatPerSecond: 1, retryAfterSeconds: 7 });
  client = new TelegramClient(tg.url, 2000);
});
afterAll(async () => tg?.close());

describe('TelegramClient', () => {
  it('reads getMe and sendMessage answers', async () => {
    expect(await client.getMe(BOT.token)).toEqual({ id: BOT.id, username: 'client_bot', firstName: 'client_bot' });
    expect(await client.sendMessage(BOT.token, '1001', 'hello')).toEqual({ messageId: 1 });
    expect(tg.messages.map((m) => [m.chatId, m.text])).toEqual([['1001', 'hello']]);
  });

  it('classifies each refusal, and keeps the token out of the messages', async () => {
    // flood control: 429 with parameters.retry_after
    expect(await failure(client.sendMessage(BOT.token, '1001', 'again'))).toMatchObject({ failure: 'rate_limit', code: 429, retryAfterMs: 7000, retryable: true });
    expect(await failure(client.getMe('123:short'))).toMatchObject({ failure: 'token', code: 404, retryable: false });
    expect(await failure(client.getMe(BOT.token.replace('abcd', 'wxyz')))).toMatchObject({ failure: 'token', code: 401 });
    expect(await failure(client.sendMessage(BOT.token, '2002', 'x'))).toMatchObject({ failure: 'chat', code: 400, message: expect.stringMatching(/chat not found/) });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await failure(client.sendMessage(BOT.token, '1001', ''))).toMatchObject({ failure: 'other', code: 400, retryable: false, message: expect.stringMatching(/message text is empty/) });
    tg.serverError = 503;
    expect(await failure(client.getMe(BOT.token))).toMatchObject({ failure: 'server', code: 503, retryable: true });
    tg.serverError = null;
    tg.down = true;
    const down = await failure(client.getMe(BOT.token));
    tg.down = false;
    expect(down).toMatchObject({ failure: 'network', code: null, retryable: true });
    const port = await new Promise<number>((r) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => r(p));
      });
    });
    const closed = await failure(new TelegramClient(`http://127.0.0.1:${port}`, 500).getMe(BOT.token));
    expect(closed).toMatchObject({ failure: 'network', message: expect.stringMatching(/ECONNREFUSED/) });
    expect(JSON.stringify([down, closed])).not.toContain(BOT.token.split(':')[1]);
  });
});
