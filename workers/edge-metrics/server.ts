// The edge-metrics receiver's HTTP server, one port: POST /v1/metrics (OTLP/HTTP JSON pushes from the Edge
// Function, bearer token), GET /metrics (the totals, for Prometheus), /healthz and /readyz (it depends on nothing
// but itself). Only /v1/metrics needs to be reachable from the internet; keep /metrics inside the cluster.
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../functions/_shared/log.ts';
import { EdgeMetricsSums, METRICS_CONTENT_TYPE, PushRejected } from './sums.ts';

export interface EdgeMetricsServerOptions {
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  token: string;
  environment: string;
  maxSeries?: number;
  /** Largest push accepted (default 1 MiB). */
  bodyLimitBytes?: number;
  logger?: Logger;
}

export interface EdgeMetricsServer {
  url: string;
  port: number;
  sums: EdgeMetricsSums;
  close(): Promise<void>;
}

const json = (response: http.ServerResponse, status: number, body: unknown) =>
  response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readBody(request: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new PushRejected(413, 'body_too_large', `a push may be at most ${limit} bytes; push more often`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startEdgeMetricsServer(options: EdgeMetricsServerOptions): Promise<EdgeMetricsServer> {
  const sums = new EdgeMetricsSums({ environment: options.environment, maxSeries: options.maxSeries });
  const limit = options.bodyLimitBytes ?? 1024 * 1024;
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (path === '/v1/metrics') {
      if (request.method !== 'POST') return json(response, 405, { code: 'method_not_allowed', message: 'push with POST' });
      if (!tokenMatches(request.headers.authorization, options.token)) {
        return json(response, 401, { code: 'unauthorized', message: 'send Authorization: Bearer <METRICS_PUSH_TOKEN>' });
      }
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
        return json(response, 415, {
          code: 'unsupported_media_type',
          message: 'push OTLP as JSON (content-type: application/json); protobuf is not accepted',
        });
      }
      readBody(request, limit)
        .then((text) => {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            throw new PushRejected(400, 'invalid_json', 'the body is not JSON');
          }
          sums.add(body as Parameters<EdgeMetricsSums['add']>[0]);
          json(response, 200, {}); // an ExportMetricsServiceResponse with nothing rejected
        })
        .catch((error: unknown) => {
          if (!(error instanceof PushRejected)) throw error;
          options.logger?.warn('push refused', { code: error.code, error: error.message });
          json(response, error.status, { code: error.code, message: error.message });
        })
        .catch((error: unknown) => json(response, 500, { code: 'internal', message: (error as Error).message }));
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return json(response, 405, { code: 'method_not_allowed', message: 'only GET is served here' });
    if (path === '/healthz') return response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    if (path === '/readyz') return json(response, 200, { status: 'ready', checks: {} });
    if (path === '/metrics') return response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(sums.render());
    return json(response, 404, { code: 'not_found', message: 'pushes go to POST /v1/metrics, scrapes to GET /metrics' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    port,
    sums,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
