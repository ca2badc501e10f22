// A stand-in Sentry server for tests: accepts envelopes at /api/<project>/envelope/ like sentry.io does and
// keeps them, so a test can point SENTRY_DSN at http://key@127.0.0.1:PORT/1 and read what an SDK sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { waitUntil } from '../../scripts/local-stack/processes.ts';

export interface ReceivedEnvelope {
  /** The raw body as sent (decompressed): what must not contain secrets. */
  raw: string;
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: Record<string, unknown> | string }[];
}

export interface SentryEndpoint {
  dsn: string;
  envelopes: ReceivedEnvelope[];
  /** Events (items of type "event") received so far. */
  events(): Record<string, unknown>[];
  waitForEvents(count: number, timeoutMs?: number): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

function parseEnvelope(raw: string): ReceivedEnvelope {
  const lines = raw.split('\n').filter((line) => line !== '');
  const parse = (line: string | undefined) => {
    try {
      return JSON.parse(line ?? '') as Record<string, unknown>;
    } catch {
      return line ?? '';
    }
  };
  const header = parse(lines[0]) as Record<string, unknown>;
  const items: ReceivedEnvelope['items'] = [];
  for (let i = 1; i + 1 < lines.length; i += 2)
    items.push({ header: parse(lines[i]) as Record<string, unknown>, payload: parse(lines[i + 1]) });
  return { raw, header, items };
}

export async function startSentryEndpoint(): Promise<SentryEndpoint> {
  const envelopes: ReceivedEnvelope[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const raw = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
      if (request.method === 'POST' && /^\/api\/\d+\/envelope\/?/.test(request.url ?? '')) envelopes.push(parseEnvelope(raw));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const events = () =>
    envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload as Record<string, unknown>));
  return {
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    envelopes,
    events,
    async waitForEvents(count, timeoutMs = 10_000) {
      await waitUntil(`${count} Sentry event(s)`, () => events().length >= count, { timeoutMs, intervalMs: 50 });
      return events();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
