// Entry point: `node --import tsx workers/edge-metrics/main.ts`. Receives the Edge Function's request metrics
// (POST /v1/metrics, bearer METRICS_PUSH_TOKEN) and serves their totals at /metrics, on METRICS_HOST:METRICS_PORT.
import { createLogger } from '../../functions/_shared/log.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { startEdgeMetricsServer } from './server.ts';

const config = loadWorkerConfig('edge-metrics', process.env, WORKER_VARIABLES.edgeMetrics);
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'edge-metrics', environment: config.APP_ENV } });
if (!config.METRICS_PUSH_TOKEN) {
  console.error('edge-metrics: METRICS_PUSH_TOKEN is not set → set it (or METRICS_PUSH_TOKEN_FILE) to the token the gateway pushes with');
  process.exit(2);
}
const server = await startEdgeMetricsServer({
  host: config.METRICS_HOST,
  port: config.METRICS_PORT,
  token: config.METRICS_PUSH_TOKEN,
  environment: config.APP_ENV,
  logger,
}).catch((error: Error) => {
  logger.error('could not listen', { error: error.message, fix: 'free the port or set METRICS_PORT' });
  process.exit(1);
});
logger.info('receiving edge metrics', { push_url: `${server.url}/v1/metrics`, metrics_url: `${server.url}/metrics` });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info('stopping', { signal });
    void server.close().then(() => process.exit(0));
  });
}
