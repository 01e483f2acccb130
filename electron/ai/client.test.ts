import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiCompatibleClient, ollamaBaseUrl, scrub } from './client';
import { extractCode } from './prompt';

/** The SSE parser against a real HTTP server that cuts the stream at arbitrary byte offsets. */
let server: Server;
let base: string;
let body: Buffer = Buffer.alloc(0);
let cuts: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      let from = 0;
      for (const c of [...cuts, body.length]) {
        res.write(body.subarray(from, c));
        from = c;
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sse = (pieces: string[], crlf: boolean) => {
  const nl = crlf ? '\r\n' : '\n';
  const events = [': keep-alive', ...pieces.map((p) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: p } }] })}`), 'data: [DONE]'];
  return events.join(nl + nl) + nl + nl;
};

describe('OpenAiCompatibleClient stream parsing', () => {
  it('reassembles the answer whatever the byte boundaries (multi-byte characters included)', async () => {
    const client = new OpenAiCompatibleClient({ label: 'Test', baseUrl: base });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 6 }), async (pieces, crlf, rawCuts) => {
        body = Buffer.from(sse(pieces, crlf), 'utf8');
        cuts = [...new Set(rawCuts.map((c) => c % body.length))].sort((a, b) => a - b).filter((c) => c > 0);
        const seen: string[] = [];
        const text = await client.chat({ model: 'm', messages: [{ role: 'user', content: 'x' }], timeoutMs: 5000, onDelta: (d) => seen.push(d) });
        expect(text).toBe(pieces.join(''));
        expect(seen.join('')).toBe(pieces.join(''));
      }),
      { numRuns: 40 },
    );
  });

  it('a stream chunk carrying an error stops the answer with the provider’s message', async () => {
    body = Buffer.from(`data: ${JSON.stringify({ choices: [{ delta: { content: 'Hel' } }] })}\n\ndata: ${JSON.stringify({ error: { message: 'upstream overloaded', code: 502 } })}\n\n`);
    cuts = [];
    const client = new OpenAiCompatibleClient({ label: 'OpenRouter', baseUrl: base, apiKey: 'sk-or-v1-secret' });
    await expect(client.chat({ model: 'm', messages: [], timeoutMs: 5000 })).rejects.toMatchObject({ code: 'ai_provider_error', message: 'OpenRouter stopped the answer: upstream overloaded' });
  });
});

describe('helpers', () => {
  it('Ollama base URL: /v1 under the URL, kept when already there', () => {
    expect(ollamaBaseUrl('http://localhost:11434')).toBe('http://localhost:11434/v1');
    expect(ollamaBaseUrl('http://localhost:11434/')).toBe('http://localhost:11434/v1');
    expect(ollamaBaseUrl('http://gpu-box:11434/v1/')).toBe('http://gpu-box:11434/v1');
  });
  it('scrub removes the key and bearer tokens from provider text', () => {
    expect(scrub('bad key sk-or-v1-abcdef123456 in Bearer sk-or-v1-abcdef123456', 'sk-or-v1-abcdef123456')).toBe('bad key •••• in Bearer ••••');
    expect(scrub('Authorization: Bearer abc.def')).toBe('Authorization: Bearer ••••');
  });
  it('extractCode takes the ts block, else an untagged one, else an unterminated ts block', () => {
    expect(extractCode('a\n```python\nx=1\n```\n```ts\nconst a = 1;\n```\n')).toBe('const a = 1;\n');
    expect(extractCode('```\nconst b = 2;\n```')).toBe('const b = 2;\n');
    expect(extractCode('Here:\n```typescript\nconst c = 3;\n')).toBe('const c = 3;\n');
    expect(extractCode('No code here.')).toBeNull();
  });
});
