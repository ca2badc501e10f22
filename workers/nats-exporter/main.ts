// Entry point: `node --import tsx workers/nats-exporter/main.ts`. Serves JetStream stream and consumer
// metrics at http://METRICS_HOST:NATS_EXPORTER_PORT/metrics, read from NATS_MONITORING_URL/jsz.
import { createLogger } from '../../functions/_shared/log.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { startNatsExporter } from './exporter.ts';

const config = loadWorkerConfig('nats-exporter', process.env, WORKER_VARIABLES.natsExporter);
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'nats-exporter' } });
const server = await startNatsExporter({
  monitoringUrl: config.NATS_MONITORING_URL,
  host: config.METRICS_HOST,
  port: config.NATS_EXPORTER_PORT,
  logger,
}).catch((error: Error) => {
  logger.error('could not listen', { error: error.message, fix: 'free the port or set NATS_EXPORTER_PORT' });
  process.exit(1);
});
logger.info('serving JetStream metrics', { metrics_url: `${server.url}/metrics`, monitoring_url: config.NATS_MONITORING_URL });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info('stopping', { signal });
    void server.close().then(() => process.exit(0));
  });
}
