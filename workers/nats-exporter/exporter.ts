// The NATS JetStream exporter: on every Prometheus scrape it reads /jsz from the NATS server's monitoring
// port and serves stream and consumer pending, ack pending and redeliveries at /metrics.
import { createNatsExporterMetrics, Registry } from '../../functions/_shared/metrics.ts';
import type { Logger } from '../../functions/_shared/log.ts';
import { serveMetrics, type MetricsServer } from '../lib/metrics-server.ts';
import { readJetStreamState, recordJetStreamState } from './jsz.ts';

export interface NatsExporterOptions {
  /** The server's monitoring endpoint, e.g. http://127.0.0.1:8222 */
  monitoringUrl: string;
  host?: string;
  port: number;
  logger?: Logger;
}

export async function startNatsExporter(options: NatsExporterOptions): Promise<MetricsServer> {
  const metrics = createNatsExporterMetrics(new Registry());
  let lastError: string | undefined;
  return serveMetrics(metrics.registry, {
    host: options.host,
    port: options.port,
    beforeScrape: async () => {
      try {
        recordJetStreamState(metrics, await readJetStreamState(options.monitoringUrl));
        if (lastError) options.logger?.info('nats monitoring endpoint answers again', { monitoring_url: options.monitoringUrl });
        lastError = undefined;
      } catch (error) {
        // the scrape still succeeds with microdao_nats_monitoring_up 0, so the alert says what is wrong
        recordJetStreamState(metrics, undefined);
        const message = (error as Error).message;
        if (message !== lastError) options.logger?.warn('nats monitoring endpoint unreadable', { error: message });
        lastError = message;
      }
    },
  });
}
