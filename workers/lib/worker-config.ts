// Configuration of a Node worker: the platform config (functions/_shared/config.ts) read from the process
// environment, topped up from ENV_FILE or ./.env when present (variables already set win), with mounted
// secrets (NAME_FILE) allowed. An invalid configuration ends the process with every problem and its fix.
import { ConfigError, loadConfig, type Config } from '../../functions/_shared/config.ts';
import { readSecretFile, withEnvFile } from '../../functions/_shared/env-file.ts';

/** Variables every worker reads. */
const COMMON: readonly (keyof Config)[] = ['LOG_LEVEL', 'SENTRY_DSN', 'METRICS_HOST', 'METRICS_PORT'];
const DATABASE: readonly (keyof Config)[] = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD', 'DB_SSLMODE', 'DB_POOL_MAX'];
const NATS: readonly (keyof Config)[] = ['NATS_URL', 'NATS_USER', 'NATS_PASSWORD', 'NATS_STREAM_EVENTS', 'NATS_SUBJECT_PREFIX'];

/** What each kind of worker reads: a worker validates these only, so the relay never asks for JWT_SECRET. */
export const WORKER_VARIABLES = {
  relay: [
    ...COMMON,
    ...DATABASE,
    ...NATS,
    'OUTBOX_RELAY_BATCH_SIZE',
    'OUTBOX_RELAY_POLL_INTERVAL_MS',
    'OUTBOX_RELAY_PUBLISH_TIMEOUT_MS',
    'OUTBOX_RELAY_MAX_ATTEMPTS',
    'OUTBOX_RELAY_BACKOFF_BASE_MS',
    'OUTBOX_RELAY_BACKOFF_MAX_MS',
    'OUTBOX_RELAY_LEASE_INTERVAL_MS',
    'OUTBOX_RETENTION_HOURS',
  ],
  consumer: [
    ...COMMON,
    ...DATABASE,
    ...NATS,
    'CONSUMER_MAX_DELIVER',
    'CONSUMER_ACK_WAIT_SECONDS',
    'NATS_CONSUMER_TELEMETRY',
    'NATS_CONSUMER_WALLET',
    'NATS_CONSUMER_EMBASSY',
    'NATS_CONSUMER_GIFT_FABRIC',
  ],
  agents: [
    ...COMMON,
    ...DATABASE,
    ...NATS,
    'AGENT_GATEWAY_URL',
    'NATS_CONSUMER_AGENTS',
    'AGENT_LEASE_SECONDS',
    'AGENT_TEAM_CONCURRENCY',
    'AGENT_MAX_ATTEMPTS',
    'LLM_BASE_URL',
    'LLM_API_KEY',
    'LLM_MODEL',
    'LLM_TIMEOUT_MS',
  ],
  wallet: [
    ...COMMON,
    ...DATABASE,
    ...NATS,
    'CHAIN_RPC_URL',
    'WALLET_PRIVATE_KEY',
    'WALLET_CONFIRMATIONS',
    'WALLET_POLL_INTERVAL_MS',
    'WALLET_NATS_WAKEUP',
    'NATS_CONSUMER_WALLET',
    'CONSUMER_MAX_DELIVER',
    'CONSUMER_ACK_WAIT_SECONDS',
  ],
  natsExporter: [...COMMON, 'NATS_MONITORING_URL', 'NATS_EXPORTER_PORT', 'NATS_STREAM_EVENTS'],
  edgeMetrics: [...COMMON, 'METRICS_PUSH_TOKEN'],
  governanceScheduler: [...COMMON, ...DATABASE],
  /** the Embassy consumer: a consumer that also signs outbound webhooks with the partners' secrets */
  embassy: [
    ...COMMON,
    ...DATABASE,
    ...NATS,
    'CONSUMER_MAX_DELIVER',
    'CONSUMER_ACK_WAIT_SECONDS',
    'NATS_CONSUMER_EMBASSY',
    'EMBASSY_WEBHOOK_SECRET_ENERGY_UNION',
    'EMBASSY_WEBHOOK_SECRET_GREENFOOD',
    'EMBASSY_WEBHOOK_SECRET_WATER_UNION',
    'EMBASSY_WEBHOOK_SECRET_ESSENCE_STREAM',
    'EMBASSY_OUTBOUND_MAX_ATTEMPTS',
    'EMBASSY_OUTBOUND_BACKOFF_BASE_MS',
    'EMBASSY_OUTBOUND_BACKOFF_MAX_MS',
    'EMBASSY_OUTBOUND_TIMEOUT_MS',
    'EMBASSY_OUTBOUND_POLL_INTERVAL_MS',
  ],
  /** scripts/flags.ts: reads the flags, nothing else */
  flags: ['LOG_LEVEL', ...DATABASE],
} as const satisfies Record<string, readonly (keyof Config)[]>;

export function loadWorkerConfig(service: string, environment: NodeJS.ProcessEnv, uses: readonly (keyof Config)[]): Config {
  try {
    return loadConfig(withEnvFile(environment, environment.ENV_FILE ?? '.env'), { readSecretFile, uses });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service}: ${error.message}`);
    process.exit(2);
  }
}
