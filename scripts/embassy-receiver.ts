// The partner's side of outbound webhooks, for the simulator (npm run embassy:sim -- --receive) and the tests:
// an HTTP server taking POST /<partner>/webhooks, verifying each Standard Webhook with that partner's secret
// (functions/_shared/embassy/signatures.ts, the same rules the gateway applies inbound), and keeping what a
// careful partner keeps: the webhook ids it has processed, so a repeat of a delivered one is acknowledged and
// not processed twice. It can fail on purpose (the first N attempts of each id, or always) to exercise retries.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Webhook } from 'standardwebhooks';
import { verifyWebhook } from '../functions/_shared/embassy/signatures.ts';

export interface ReceivedWebhook {
  partner: string;
  webhookId: string;
  /** verified: signature good, first time processed; duplicate: already processed; refused: bad signature;
      failed_on_purpose: answered 503 by --fail-first/--fail-always */
  outcome: 'verified' | 'duplicate' | 'refused' | 'failed_on_purpose';
  refusal?: string;
  status: number;
  body: unknown;
}

export interface ReceiverOptions {
  port?: number;
  host?: string;
  secretsOf: (partner: string) => readonly Webhook[];
  /** Answer 503 to the first N attempts of every webhook id. */
  failFirst?: number;
  failAlways?: boolean;
  onWebhook?: (webhook: ReceivedWebhook) => void;
}

export interface OutboundReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Webhook ids processed (verified once), per partner. */
  processed: Map<string, Set<string>>;
  close(): Promise<void>;
}

export async function startOutboundReceiver(options: ReceiverOptions): Promise<OutboundReceiver> {
  const received: ReceivedWebhook[] = [];
  const processed = new Map<string, Set<string>>();
  const attemptsById = new Map<string, number>();
  const record = (webhook: ReceivedWebhook) => {
    received.push(webhook);
    options.onWebhook?.(webhook);
    return webhook.status;
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const partner = /^\/([a-z][a-z0-9-]{1,39})\/webhooks\/?$/.exec(request.url ?? '')?.[1];
      if (request.method !== 'POST' || !partner) {
        response.writeHead(404).end('POST /<partner>/webhooks\n');
        return;
      }
      const body = new Uint8Array(Buffer.concat(chunks));
      const header = (name: string) => (typeof request.headers[name] === 'string' ? (request.headers[name] as string) : undefined);
      const webhookId = header('webhook-id') ?? '';
      const parsed = parseJson(body);
      const verification = verifyWebhook(options.secretsOf(partner), body, {
        'webhook-id': header('webhook-id'),
        'webhook-timestamp': header('webhook-timestamp'),
        'webhook-signature': header('webhook-signature'),
      });
      let status: number;
      if (!verification.ok) {
        status = record({ partner, webhookId, outcome: 'refused', refusal: verification.refusal, status: 401, body: parsed });
      } else {
        const key = `${partner}\n${webhookId}`;
        const attempt = (attemptsById.get(key) ?? 0) + 1;
        attemptsById.set(key, attempt);
        const seen = processed.get(partner) ?? new Set<string>();
        processed.set(partner, seen);
        if (options.failAlways || attempt <= (options.failFirst ?? 0)) {
          status = record({ partner, webhookId, outcome: 'failed_on_purpose', status: 503, body: parsed });
        } else if (seen.has(webhookId)) {
          status = record({ partner, webhookId, outcome: 'duplicate', status: 200, body: parsed });
        } else {
          seen.add(webhookId);
          status = record({ partner, webhookId, outcome: 'verified', status: 204, body: parsed });
        }
      }
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    received,
    processed,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
