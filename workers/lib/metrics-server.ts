// The /metrics endpoint of a Node worker: serves a prom-client registry in the text format on METRICS_PORT,
// /healthz for liveness (the process serves) and /readyz for readiness (its NATS connections and Postgres pools
// answer: readiness.ts). Every worker process uses this one server; the Kubernetes probes ask these paths.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS_CONTENT_TYPE, type Registry } from '../../functions/_shared/metrics.ts';
import { checkReadiness, type ReadinessReport } from './readiness.ts';

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464 */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Runs before each scrape, e.g. to read state the registry reports. */
  beforeScrape?: () => Promise<void>;
  /** What /readyz reports (default: every NATS connection and Postgres pool this process opened). */
  readiness?: () => Promise<ReadinessReport>;
}

export async function serveMetrics(registry: Registry, options: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET is served here\n');
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      (options.readiness ?? checkReadiness)().then(
        (report) =>
          response
            .writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json' })
            .end(`${JSON.stringify({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks })}\n`),
        (error: unknown) =>
          response
            .writeHead(503, { 'content-type': 'application/json' })
            .end(`${JSON.stringify({ status: 'not_ready', error: (error as Error).message })}\n`),
      );
      return;
    }
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are served at /metrics (/healthz, /readyz)\n');
      return;
    }
    (async () => {
      await options.beforeScrape?.();
      return registry.metrics();
    })().then(
      (body) => response.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(body),
      (error: unknown) =>
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics could not be collected: ${(error as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
