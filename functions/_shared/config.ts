// The one place that knows the platform's environment variables: a zod schema over every variable of
// .env.example, with rules that tighten per APP_ENV. Runtime-agnostic: callers pass the variables in
// (process.env on Node, Deno.env.toObject() on Deno), so nothing else reads the environment directly.
import { z } from 'zod';
import { rememberSecretValues } from './redact.ts';

export const APP_ENVS = ['local', 'test', 'dev', 'staging', 'prod'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

/** Environments that hold real users and real money: the strictest rules apply. */
export const isProductionLike = (env: AppEnv): boolean => env === 'staging' || env === 'prod';
/** A developer's machine or CI: published demo secrets and unchecked issuers are fine only there. */
export const isLocalOrTest = (env: AppEnv): boolean => env === 'local' || env === 'test';

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const optionalUrl = z.preprocess(emptyToUndefined, z.url().optional());
const port = (fallback: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(65535).default(fallback));
const positiveInt = (fallback: number) => z.preprocess(emptyToUndefined, z.coerce.number().int().positive().default(fallback));
const booleanFlag = z.preprocess(
  emptyToUndefined,
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default('false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
);
const releaseLabel = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, dots, dashes or underscores')
    .optional(),
);
const csvList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
);

const configSchema = z.object({
  APP_ENV: z.enum(APP_ENVS, { message: `APP_ENV must be one of ${APP_ENVS.join(', ')}` }),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(['debug', 'info', 'warn', 'error']).default('info')),

  // Postgres (a Supabase project per environment; plain Postgres locally)
  DB_HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  DB_PORT: port(5432),
  DB_NAME: z.preprocess(emptyToUndefined, z.string().default('microdao')),
  DB_USER: z.preprocess(emptyToUndefined, z.string().default('postgres')),
  DB_PASSWORD: optionalString,
  DB_SSLMODE: z.preprocess(emptyToUndefined, z.enum(['disable', 'prefer', 'require', 'verify-full']).default('disable')),
  DB_POOL_MAX: positiveInt(10),
  /** Bounds of a user transaction: a hung query or an abandoned transaction gives its connection back. */
  DB_STATEMENT_TIMEOUT_MS: positiveInt(5000),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: positiveInt(10000),

  // NATS JetStream
  NATS_URL: z.preprocess(emptyToUndefined, z.string().default('nats://127.0.0.1:4222')),
  NATS_USER: optionalString,
  NATS_PASSWORD: optionalString,
  NATS_STREAM_EVENTS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('MICRODAO_EVENTS'),
  ),
  NATS_CONSUMER_WALLET: z.preprocess(emptyToUndefined, z.string().default('wallet')),
  NATS_CONSUMER_EMBASSY: z.preprocess(emptyToUndefined, z.string().default('embassy')),
  NATS_CONSUMER_GIFT_FABRIC: z.preprocess(emptyToUndefined, z.string().default('gift-fabric')),
  NATS_CONSUMER_TELEMETRY: z.preprocess(emptyToUndefined, z.string().default('telemetry')),
  NATS_SUBJECT_PREFIX: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be dot-separated tokens of letters, digits, _ and - (no wildcards)')
      .default('microdao'),
  ),

  // Outbox relay and event consumers
  OUTBOX_RELAY_BATCH_SIZE: positiveInt(500),
  OUTBOX_RELAY_POLL_INTERVAL_MS: positiveInt(250),
  OUTBOX_RELAY_PUBLISH_TIMEOUT_MS: positiveInt(5000),
  OUTBOX_RELAY_MAX_ATTEMPTS: positiveInt(5),
  OUTBOX_RELAY_BACKOFF_BASE_MS: positiveInt(250),
  OUTBOX_RELAY_BACKOFF_MAX_MS: positiveInt(30_000),
  OUTBOX_RELAY_LEASE_INTERVAL_MS: positiveInt(2000),
  OUTBOX_RETENTION_HOURS: positiveInt(168),
  CONSUMER_MAX_DELIVER: positiveInt(5),
  CONSUMER_ACK_WAIT_SECONDS: positiveInt(30),

  // Agent orchestrator (workers/agents)
  AGENT_GATEWAY_URL: z.preprocess(emptyToUndefined, z.url().default('http://127.0.0.1:54321')),
  NATS_CONSUMER_AGENTS: z.preprocess(emptyToUndefined, z.string().default('agents')),
  AGENT_LEASE_SECONDS: positiveInt(30),
  AGENT_TEAM_CONCURRENCY: positiveInt(4),
  AGENT_MAX_ATTEMPTS: positiveInt(3),
  // The LLM agent kind: any OpenAI-compatible chat-completions endpoint (unset: that kind fails its runs with llm_not_configured)
  LLM_BASE_URL: optionalUrl,
  LLM_API_KEY: optionalString,
  LLM_MODEL: optionalString,
  LLM_TIMEOUT_MS: positiveInt(60_000),

  // Redis: a plain Redis locally and in CI, Upstash REST in the cloud
  REDIS_URL: optionalString,
  UPSTASH_REDIS_REST_URL: optionalUrl,
  UPSTASH_REDIS_REST_TOKEN: optionalString,

  // Auth (Supabase Auth JWTs)
  JWT_SECRET: optionalString,
  AUTH_JWKS_URL: optionalUrl,
  JWT_AUDIENCE: z.preprocess(emptyToUndefined, z.string().default('authenticated')),
  JWT_ISSUER: optionalString,
  DEV_LOGIN_ENABLED: booleanFlag,
  SESSION_SECRET: optionalString,
  E2EE_PUBLIC_KEY: optionalString,
  E2EE_PRIVATE_KEY: optionalString,

  // Rate limits, requests per minute
  /** The header the proxy in front of the gateway sets to the client's address; none: the TCP peer. */
  TRUSTED_PROXY_HEADER: z.preprocess(
    emptyToUndefined,
    z.enum(['none', 'cf-connecting-ip', 'x-real-ip', 'x-forwarded-for']).default('none'),
  ),
  RATE_LIMIT_GLOBAL: positiveInt(6000),
  RATE_LIMIT_PER_KEY: positiveInt(600),
  /** Refuse requests (503) instead of letting them through while the rate-limit store is unreachable. */
  RATE_LIMIT_FAIL_CLOSED: booleanFlag,

  // Embassy webhooks (one shared secret per partner)
  EMBASSY_WEBHOOK_SECRET_ENERGY_UNION: optionalString,
  EMBASSY_WEBHOOK_SECRET_GREENFOOD: optionalString,
  EMBASSY_WEBHOOK_SECRET_WATER_UNION: optionalString,
  EMBASSY_WEBHOOK_SECRET_ESSENCE_STREAM: optionalString,
  /** Outbound webhooks (the Embassy consumer): attempts before a delivery is dead-lettered, the backoff between
      them (base × 2^(attempt-1), capped, ±20 % jitter), each POST's timeout, and how often due ones are looked for. */
  EMBASSY_OUTBOUND_MAX_ATTEMPTS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(50).default(8)),
  EMBASSY_OUTBOUND_BACKOFF_BASE_MS: positiveInt(5_000),
  EMBASSY_OUTBOUND_BACKOFF_MAX_MS: positiveInt(3_600_000),
  EMBASSY_OUTBOUND_TIMEOUT_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(100).max(60_000).default(10_000)),
  EMBASSY_OUTBOUND_POLL_INTERVAL_MS: positiveInt(1_000),

  // Chain and wallet
  CHAIN_RPC_URL: optionalUrl,
  CHAIN_EXPLORER_URL: optionalUrl,
  WALLET_SAFE_ADDRESS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address')
      .optional(),
  ),
  WALLET_PRIVATE_KEY: optionalString,
  // blocks on top of a payout's block before it counts as confirmed; how often the wallet worker looks for work
  WALLET_CONFIRMATIONS: positiveInt(2),
  WALLET_POLL_INTERVAL_MS: positiveInt(500),
  // the wallet worker's wake-up on payout.approved (durable consumer NATS_CONSUMER_WALLET); polling stays the fallback
  WALLET_NATS_WAKEUP: booleanFlag,

  // Object storage (S3 protocol: Supabase Storage's S3 endpoint, MinIO under compose, s3rver from npm locally)
  STORAGE_S3_ENDPOINT: optionalUrl,
  STORAGE_S3_REGION: z.preprocess(emptyToUndefined, z.string().default('us-east-1')),
  STORAGE_S3_ACCESS_KEY_ID: optionalString,
  STORAGE_S3_SECRET_ACCESS_KEY: optionalString,
  /** This environment's bucket (private); unset: the storage routes answer 503 storage_unavailable. */
  STORAGE_BUCKET: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens')
      .optional(),
  ),
  STORAGE_MAX_FILE_BYTES: positiveInt(25 * 1024 * 1024),
  STORAGE_TEAM_QUOTA_BYTES: positiveInt(1024 * 1024 * 1024),
  /** Lifetime of a presigned upload or download URL. */
  STORAGE_URL_TTL_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(3600).default(300)),

  // Supabase project
  SUPABASE_PROJECT_REF: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z]{20}$/, 'must be the 20-letter project ref of the Supabase dashboard URL')
      .optional(),
  ),
  SUPABASE_URL: optionalUrl,
  SUPABASE_ANON_KEY: optionalString,
  SUPABASE_SERVICE_ROLE_KEY: optionalString,

  // Gateway
  API_HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  API_PORT: port(54321),
  WEB_ORIGINS: csvList,
  BODY_LIMIT_BYTES: positiveInt(64 * 1024),

  // Observability
  SENTRY_DSN: optionalUrl,
  /** The deployed release (a commit), as the `release` label of the gateway's metrics: the canary check compares
      releases (scripts/canary.sh). Empty: no label. */
  RELEASE: releaseLabel,
  /** The release of the "api-canary" function while a canary runs (scripts/canary.sh): its `release` label. */
  CANARY_RELEASE: releaseLabel,
  METRICS_HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  METRICS_PORT: port(9464),
  NATS_MONITORING_URL: z.preprocess(emptyToUndefined, z.url().default('http://127.0.0.1:8222')),
  NATS_EXPORTER_PORT: port(7777),
  /** Where the Edge Function pushes its request metrics (OTLP/HTTP JSON): the edge-metrics receiver's /v1/metrics. */
  METRICS_PUSH_URL: optionalUrl,
  /** Bearer token of those pushes; the receiver (workers/edge-metrics) accepts only this one. */
  METRICS_PUSH_TOKEN: optionalString,

  // Vercel (deploy scripts only)
  VERCEL_ORG_ID: optionalString,
  VERCEL_PROJECT_ID_CITY: optionalString,
  VERCEL_PROJECT_ID_ADMIN: optionalString,

  // Web apps (build time only; compiled into the public bundles, so never a secret; see web/vite.shared.config.ts)
  VITE_API_BASE_URL: optionalUrl,
  VITE_SUPABASE_URL: optionalUrl,
  VITE_SUPABASE_ANON_KEY: optionalString,
  VITE_STORAGE_URL: optionalUrl,
  VITE_API_CANARY_URL: optionalUrl,

  // Smoke check and post-deploy checklist (deploy scripts only): a dedicated Supabase Auth user
  SMOKE_USER_EMAIL: z.preprocess(emptyToUndefined, z.email().optional()),
  SMOKE_USER_PASSWORD: optionalString,
  SMOKE_APPROVER_EMAIL: z.preprocess(emptyToUndefined, z.email().optional()),
  SMOKE_APPROVER_PASSWORD: optionalString,
});

export type Config = z.infer<typeof configSchema>;

/** Every variable the schema knows: exactly the variables of .env.example (a test keeps them in step). */
export const CONFIG_VARIABLES = Object.keys(configSchema.shape) as (keyof Config)[];

/**
 * Variables holding secrets: their values never reach a log (redact.ts), the secrets sync shows only their
 * names, and each may come from a mounted file instead (NAME_FILE=/run/secrets/name). Add new secrets here.
 */
export const SECRET_VARIABLES = [
  'DB_PASSWORD',
  'NATS_PASSWORD',
  'UPSTASH_REDIS_REST_TOKEN',
  'JWT_SECRET',
  'SESSION_SECRET',
  'E2EE_PRIVATE_KEY',
  'EMBASSY_WEBHOOK_SECRET_ENERGY_UNION',
  'EMBASSY_WEBHOOK_SECRET_GREENFOOD',
  'EMBASSY_WEBHOOK_SECRET_WATER_UNION',
  'EMBASSY_WEBHOOK_SECRET_ESSENCE_STREAM',
  'WALLET_PRIVATE_KEY',
  'SUPABASE_SERVICE_ROLE_KEY',
  'SMOKE_USER_PASSWORD',
  'SMOKE_APPROVER_PASSWORD',
  'METRICS_PUSH_TOKEN',
  'STORAGE_S3_SECRET_ACCESS_KEY',
  'LLM_API_KEY',
] as const satisfies readonly (keyof Config)[];
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

/** Variables only the deploy tooling reads: the secrets sync never pushes them to the functions. */
export const DEPLOY_ONLY_VARIABLES = [
  'VERCEL_ORG_ID',
  'VERCEL_PROJECT_ID_CITY',
  'VERCEL_PROJECT_ID_ADMIN',
  'VITE_API_BASE_URL',
  'VITE_SUPABASE_URL',
  'VITE_SUPABASE_ANON_KEY',
  'VITE_STORAGE_URL',
  'VITE_API_CANARY_URL',
  'SMOKE_USER_EMAIL',
  'SMOKE_USER_PASSWORD',
  'SMOKE_APPROVER_EMAIL',
  'SMOKE_APPROVER_PASSWORD',
] as const satisfies readonly (keyof Config)[];

/** A rule broken by a configuration, with the sentence that tells an operator how to fix it. */
export interface ConfigProblem {
  variable: string;
  problem: string;
  fix: string;
}

/** Least length per secret that every non-local environment (dev, staging, prod) accepts: signing keys 32, passwords 16. */
const SECRET_MIN_LENGTH: Partial<Record<SecretVariable, number>> = {
  JWT_SECRET: 32,
  SESSION_SECRET: 32,
  EMBASSY_WEBHOOK_SECRET_ENERGY_UNION: 32,
  EMBASSY_WEBHOOK_SECRET_GREENFOOD: 32,
  EMBASSY_WEBHOOK_SECRET_WATER_UNION: 32,
  EMBASSY_WEBHOOK_SECRET_ESSENCE_STREAM: 32,
  DB_PASSWORD: 16,
  NATS_PASSWORD: 16,
  SMOKE_USER_PASSWORD: 16,
  SMOKE_APPROVER_PASSWORD: 16,
  METRICS_PUSH_TOKEN: 32,
  STORAGE_S3_SECRET_ACCESS_KEY: 20,
};
// Placeholders from .env.example, docs and Supabase's local defaults: published, so never secret.
const PUBLISHED_SECRET = /change.?me|example|local.?development|super-secret-jwt-token|placeholder|^password|^secret/i;
const DISTINCT_CHARACTERS_MIN = 10;
const looksLocal = (value: string) => /(^|\/\/|@)(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[?::1\]?)([:/]|$)/i.test(value);
/** A URL as it may be shown in a message: any user:password@ removed. */
const withoutCredentials = (value: string) => value.replace(/\/\/[^/@\s]*@/, '//');
const RANDOM_SECRET_HINT = '`openssl rand -base64 48`';

function secretWeakness(value: string, minLength: number): string | undefined {
  if (value.length < minLength) return `is ${value.length} characters; it needs at least ${minLength}`;
  if (PUBLISHED_SECRET.test(value)) return 'is a published placeholder value';
  if (new Set(value).size < DISTINCT_CHARACTERS_MIN) return `uses fewer than ${DISTINCT_CHARACTERS_MIN} distinct characters`;
  return undefined;
}

/** Where asymmetric signing keys are published: AUTH_JWKS_URL, else the Supabase project's own JWKS
    (Supabase injects SUPABASE_URL into edge functions, and its CLI refuses secrets named SUPABASE_*). */
export function jwksUrl(config: Pick<Config, 'AUTH_JWKS_URL' | 'SUPABASE_URL'>): string | undefined {
  if (config.AUTH_JWKS_URL) return config.AUTH_JWKS_URL;
  return config.SUPABASE_URL ? `${config.SUPABASE_URL.replace(/\/+$/, '')}/auth/v1/.well-known/jwks.json` : undefined;
}

/** Rules that depend on APP_ENV: what is fine on a laptop is refused where real users are. */
function environmentRules(config: Config, source: Record<string, string | undefined>, mounted: ReadonlySet<string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const refuse = (variable: string, problem: string, fix: string) => problems.push({ variable, problem, fix });
  const env = config.APP_ENV;
  const strict = isProductionLike(env);
  const isSet = (name: string) => source[name] !== undefined && source[name] !== '';

  if (!config.JWT_SECRET && !jwksUrl(config) && env !== 'test') {
    refuse(
      'JWT_SECRET',
      'none of JWT_SECRET, AUTH_JWKS_URL or SUPABASE_URL is set, so no token can be verified',
      "set JWT_SECRET to the Supabase project's JWT secret (Settings → API), or SUPABASE_URL / AUTH_JWKS_URL for asymmetric keys",
    );
  }
  if (config.DEV_LOGIN_ENABLED && !isLocalOrTest(env)) {
    refuse(
      'DEV_LOGIN_ENABLED',
      `the dev login mints tokens without a password and cannot run in ${env}`,
      'remove DEV_LOGIN_ENABLED or set it to false; users sign in through Supabase Auth',
    );
  }
  if (Boolean(config.UPSTASH_REDIS_REST_URL) !== Boolean(config.UPSTASH_REDIS_REST_TOKEN)) {
    refuse(
      config.UPSTASH_REDIS_REST_URL ? 'UPSTASH_REDIS_REST_TOKEN' : 'UPSTASH_REDIS_REST_URL',
      'is missing while its partner is set; Upstash needs both the REST URL and its token',
      'copy both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN from the Upstash console, or remove both',
    );
  }
  if (config.METRICS_PUSH_URL && !config.METRICS_PUSH_TOKEN) {
    refuse(
      'METRICS_PUSH_TOKEN',
      'is missing while METRICS_PUSH_URL is set; the edge-metrics receiver refuses pushes without it',
      `set METRICS_PUSH_TOKEN to the receiver's token (a random value, e.g. ${RANDOM_SECRET_HINT}), or remove METRICS_PUSH_URL`,
    );
  }
  if (config.LLM_BASE_URL && !config.LLM_MODEL) {
    refuse(
      'LLM_MODEL',
      'is missing while LLM_BASE_URL is set; the LLM agent must name the model it asks',
      "set LLM_MODEL to a model the endpoint serves (e.g. the provider's chat model name), or remove LLM_BASE_URL",
    );
  }
  if (isLocalOrTest(env)) return problems;

  // dev is reachable from the internet and shares tooling with staging: a published secret there is as
  // good as none, so the secret and issuer rules start at dev, not at staging.
  for (const name of SECRET_VARIABLES) {
    const minLength = SECRET_MIN_LENGTH[name];
    const value = config[name];
    const weakness = minLength && value ? secretWeakness(value, minLength) : undefined;
    if (weakness)
      refuse(name, `${weakness} (${env})`, `set ${name} to a random value of ${minLength}+ characters (e.g. ${RANDOM_SECRET_HINT})`);
  }
  if (!config.JWT_ISSUER) {
    const issuer = config.SUPABASE_URL ? `${config.SUPABASE_URL.replace(/\/+$/, '')}/auth/v1` : 'https://<ref>.supabase.co/auth/v1';
    refuse(
      'JWT_ISSUER',
      `is missing; ${env} accepts only tokens its own Supabase project issued`,
      `set JWT_ISSUER=${issuer} (Supabase Auth's issuer is https://<ref>.supabase.co/auth/v1)`,
    );
  }
  if (!strict) return problems;

  if (config.DB_SSLMODE !== 'require' && config.DB_SSLMODE !== 'verify-full') {
    refuse('DB_SSLMODE', `is ${config.DB_SSLMODE}; ${env} connects to Postgres over TLS only`, 'set DB_SSLMODE=require (or verify-full)');
  }
  const required: [keyof Config, string][] = [
    ['DB_PASSWORD', "set DB_PASSWORD to the project's database password (Supabase: Settings → Database)"],
    ['SESSION_SECRET', `set SESSION_SECRET to a random value (e.g. ${RANDOM_SECRET_HINT}) in the secret store`],
    ['NATS_USER', `set NATS_USER and NATS_PASSWORD to the ${env} NATS account's credentials`],
    ['NATS_PASSWORD', `set NATS_USER and NATS_PASSWORD to the ${env} NATS account's credentials`],
    ['SUPABASE_PROJECT_REF', `set SUPABASE_PROJECT_REF to the ${env} project's ref (the 20 letters in its dashboard URL)`],
    ['SUPABASE_URL', `set SUPABASE_URL to https://<ref>.supabase.co of the ${env} project`],
  ];
  for (const [name, fix] of required) {
    if (config[name] === undefined) refuse(name, `is missing; ${env} requires it`, fix);
  }
  for (const name of ['RATE_LIMIT_GLOBAL', 'RATE_LIMIT_PER_KEY'] as const) {
    if (!isSet(name)) {
      refuse(
        name,
        `is not set; ${env} states its rate limits explicitly`,
        `set ${name} (requests per minute) for ${env}'s expected traffic`,
      );
    }
  }
  if (!isSet('TRUSTED_PROXY_HEADER')) {
    refuse(
      'TRUSTED_PROXY_HEADER',
      `is not set; ${env} states where client addresses come from, or rate limits count the proxy as one client`,
      'set TRUSTED_PROXY_HEADER=cf-connecting-ip on Supabase (none when clients reach the gateway directly)',
    );
  }
  if (!config.REDIS_URL && !config.UPSTASH_REDIS_REST_URL) {
    refuse(
      'UPSTASH_REDIS_REST_URL',
      `is missing and so is REDIS_URL; ${env} has no store for its rate limits`,
      'set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (or REDIS_URL for a self-hosted Redis)',
    );
  }
  if (isSet('WALLET_PRIVATE_KEY') && !mounted.has('WALLET_PRIVATE_KEY')) {
    refuse(
      'WALLET_PRIVATE_KEY',
      `is set as a plain variable; in ${env} the wallet key comes only from a KMS or secret manager`,
      'remove WALLET_PRIVATE_KEY from the env file and mount it from the secret manager as a file (WALLET_PRIVATE_KEY_FILE=/run/secrets/...)',
    );
  }
  const urlVariables = [
    'DB_HOST',
    'NATS_URL',
    'REDIS_URL',
    'UPSTASH_REDIS_REST_URL',
    'SUPABASE_URL',
    'AUTH_JWKS_URL',
    'JWT_ISSUER',
    'CHAIN_RPC_URL',
    'CHAIN_EXPLORER_URL',
    'SENTRY_DSN',
    'METRICS_PUSH_URL',
    'VITE_API_BASE_URL',
    'VITE_SUPABASE_URL',
    'VITE_API_CANARY_URL',
  ] as const;
  for (const name of urlVariables) {
    const value = config[name];
    if (typeof value === 'string' && looksLocal(value)) {
      refuse(name, `points at this machine (${withoutCredentials(value)}) in ${env}`, `set ${name} to the ${env} service's address`);
    }
  }
  if (config.SUPABASE_URL && !config.SUPABASE_URL.startsWith('https://')) {
    refuse('SUPABASE_URL', `is not https (${withoutCredentials(config.SUPABASE_URL)})`, `set SUPABASE_URL to https://<ref>.supabase.co`);
  }
  if (config.WEB_ORIGINS.length === 0) {
    refuse(
      'WEB_ORIGINS',
      `is empty; the ${env} web apps could not call the API`,
      'list the https origins of the city and admin apps, comma-separated',
    );
  }
  for (const origin of config.WEB_ORIGINS) {
    if (looksLocal(origin) || !origin.startsWith('https://')) {
      refuse(
        'WEB_ORIGINS',
        `contains ${origin}; ${env} allows only https origins`,
        'list the https origins of the web apps, comma-separated',
      );
    }
  }
  return problems;
}

/** Reads a mounted secret file (Node: `(p) => readFileSync(p, 'utf8')`). Edge functions have none. */
export type SecretFileReader = (path: string) => string;

export interface ParseOptions {
  /** Lets NAME_FILE=/path supply a secret; without a reader, NAME_FILE is refused. */
  readSecretFile?: SecretFileReader;
  /**
   * The variables this process reads (a worker's list in workers/lib/worker-config.ts): problems with any
   * other variable are not its to report, so the relay does not demand JWT_SECRET. Default: all of them.
   */
  uses?: readonly (keyof Config)[];
}

// Mounted secrets are read once per path and kept in this process's memory only.
const mountedSecretCache = new Map<string, string>();

/** Replaces NAME_FILE entries by NAME = the file's content; reports which names came from files. */
function resolveMountedSecrets(source: Record<string, string | undefined>, options: ParseOptions) {
  const values: Record<string, string | undefined> = { ...source };
  const mounted = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const name of SECRET_VARIABLES) {
    const path = source[`${name}_FILE`];
    if (!path) continue;
    delete values[`${name}_FILE`];
    if (source[name]) {
      problems.push({ variable: `${name}_FILE`, problem: `and ${name} are both set`, fix: `keep only ${name}_FILE (the mounted secret)` });
      continue;
    }
    if (!options.readSecretFile) {
      problems.push({
        variable: `${name}_FILE`,
        problem: 'is set but this runtime reads no mounted files',
        fix: `provide ${name} through the platform's secret store (supabase secrets set) instead`,
      });
      continue;
    }
    try {
      let value = mountedSecretCache.get(path);
      if (value === undefined) {
        value = options.readSecretFile(path).replace(/\r?\n$/, '');
        mountedSecretCache.set(path, value);
      }
      values[name] = value;
      mounted.add(name);
    } catch (error) {
      problems.push({
        variable: `${name}_FILE`,
        problem: `names ${path}, which cannot be read (${(error as Error).message.split('\n')[0]})`,
        fix: `mount the secret at ${path}, or point ${name}_FILE at where it is mounted`,
      });
    }
  }
  return { values, mounted, problems };
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Validates a set of variables; returns every problem at once rather than stopping at the first. */
export function parseConfig(source: Record<string, string | undefined>, options: ParseOptions = {}): ConfigResult {
  const uses = options.uses && new Set<string>(['APP_ENV', ...options.uses]);
  const { config, problems } = parseAllVariables(source, options);
  const mine = uses ? problems.filter((problem) => uses.has(problem.variable.replace(/_FILE$/, ''))) : problems;
  if (mine.length || !config) return { ok: false, problems: mine.length ? mine : problems };
  rememberSecretValues(SECRET_VARIABLES.map((name) => config[name]));
  return { ok: true, config };
}

/** Every problem at once, and the configuration without the invalid variables (their defaults stand in). */
function parseAllVariables(
  source: Record<string, string | undefined>,
  options: ParseOptions,
): { config?: Config; problems: ConfigProblem[] } {
  const { values, mounted, problems } = resolveMountedSecrets(source, options);
  let parsed = configSchema.safeParse(values);
  let checked = values;
  const invalid = new Set<string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? 'config');
      invalid.add(variable);
      problems.push({ variable, problem: `is invalid (${issue.message})`, fix: `see the comment above ${variable} in .env.example` });
    }
    // Check the rest too, so one typo does not hide the other violations.
    checked = Object.fromEntries(Object.entries(values).filter(([key]) => !invalid.has(key)));
    parsed = configSchema.safeParse(checked);
    if (!parsed.success) return { problems };
  }
  for (const problem of environmentRules(parsed.data, checked, mounted)) if (!invalid.has(problem.variable)) problems.push(problem);
  return { config: parsed.data, problems };
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${formatConfigProblems(problems)}`);
    this.name = 'ConfigError';
  }
}

export function formatConfigProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.variable} ${p.problem} → ${p.fix}`).join('\n');
}

/** Parses or throws a ConfigError whose message lists every problem with its fix. */
export function loadConfig(source: Record<string, string | undefined>, options: ParseOptions = {}): Config {
  const result = parseConfig(source, options);
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}

/** postgres:// URL for the configured database (password percent-encoded). */
export function databaseUrl(config: Pick<Config, 'DB_HOST' | 'DB_PORT' | 'DB_NAME' | 'DB_USER' | 'DB_PASSWORD' | 'DB_SSLMODE'>): string {
  const auth = config.DB_PASSWORD
    ? `${encodeURIComponent(config.DB_USER)}:${encodeURIComponent(config.DB_PASSWORD)}`
    : encodeURIComponent(config.DB_USER);
  return `postgresql://${auth}@${config.DB_HOST}:${config.DB_PORT}/${encodeURIComponent(config.DB_NAME)}?sslmode=${config.DB_SSLMODE}`;
}
