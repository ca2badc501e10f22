// Entry point: `node --import tsx workers/governance-scheduler/main.ts [--interval-ms N] [--batch N]`
// (npm run worker:governance). Closes and executes proposals when due (scheduler.ts); run as many instances as
// you like — the SQL step skips rows another instance holds. Serves /metrics on METRICS_HOST:METRICS_PORT.
import { parseArgs } from 'node:util';
import { createLogger } from '../../functions/_shared/log.ts';
import { createGovernanceSchedulerMetrics } from '../../functions/_shared/metrics.ts';
import { serveMetrics } from '../lib/metrics-server.ts';
import { connectWorkerDatabase } from '../lib/postgres.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { startGovernanceScheduler } from './scheduler.ts';

const USAGE = `usage: governance-scheduler [--interval-ms 5000] [--batch 100]
  --interval-ms  pause between ticks when nothing more is due (100–600000; default 5000: a vote closes within 5 s of its end)
  --batch        proposals moved per tick, one transaction (1–1000; default 100)`;

function positiveOption(value: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    console.error(`governance-scheduler: ${name} must be a whole number from ${min} to ${max}\n${USAGE}`);
    process.exit(2);
  }
  return parsed;
}

const { values } = parseArgs({
  options: { 'interval-ms': { type: 'string' }, batch: { type: 'string' }, help: { type: 'boolean' } },
  strict: true,
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const intervalMs = positiveOption(values['interval-ms'], 5000, 100, 600_000, '--interval-ms');
const batch = positiveOption(values.batch, 100, 1, 1000, '--batch');

const config = loadWorkerConfig('governance-scheduler', process.env, WORKER_VARIABLES.governanceScheduler);
const logger = createLogger({
  level: config.LOG_LEVEL,
  base: { service: 'governance-scheduler', environment: config.APP_ENV, pid: process.pid },
});
const metrics = createGovernanceSchedulerMetrics();
const metricsServer = await serveMetrics(metrics.registry, { host: config.METRICS_HOST, port: config.METRICS_PORT }).catch(
  (error: Error) => {
    logger.error('metrics not served; scheduling anyway', { error: error.message, fix: 'give each worker on a host its own METRICS_PORT' });
    return undefined;
  },
);
const sql = connectWorkerDatabase(config, { applicationName: 'microdao-governance-scheduler', max: 1 });
const scheduler = startGovernanceScheduler({ sql, logger, metrics, intervalMs, batch });
logger.info('scheduling proposals', { interval_ms: intervalMs, batch });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info('stopping', { signal });
    void scheduler
      .stop()
      .then(() => logger.info('stopped', { steps: scheduler.steps }))
      .then(() => Promise.all([sql.end({ timeout: 5 }), metricsServer?.close()]))
      .then(() => process.exit(0));
  });
}
