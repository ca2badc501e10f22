// The one place that knows the platform's environment variables: a zod schema over every variable of
// .env.example, with rules that tighten per APP_ENV. Runtime-agnostic: callers pass the variables in
// (process.env on Node, Deno.env.toObject() on Deno), so nothing else reads the environment directly.
import { z } from 'zod';

export const APP_ENVS = ['local', 'test', 'dev', 'staging', 'prod'] as const;
export type AppEnv = (typeof APP_ENVS)[number];

/** Environments that hold real users and real money: the strictest rules apply. */
export const isProductionLike = (env: AppEnv): boolean => env === 'staging' || env === 'prod';

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

  // NATS JetStream
  NATS_URL: z.preprocess(emptyToUndefined, z.string().default('nats://127.0.0.1:4222')),
  NATS_WS_URL: optionalString,
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

  // Redis: a plain Redis locally and in CI, Upstash REST in the cloud
  REDIS_URL: optionalString,
  UPSTASH_REDIS_REST_URL: optionalUrl,
  UPSTASH_REDIS_REST_TOKEN: optionalString,

  // Auth (Supabase Auth JWTs)
  JWT_SECRET: optionalString,
  SUPABASE_JWKS_URL: optionalUrl,
  JWT_AUDIENCE: z.preprocess(emptyToUndefined, z.string().default('authenticated')),
  JWT_ISSUER: optionalString,
  DEV_LOGIN_ENABLED: booleanFlag,
  SESSION_SECRET: optionalString,
  E2EE_PUBLIC_KEY: optionalString,
  E2EE_PRIVATE_KEY: optionalString,

  // Rate limits, requests per minute
  RATE_LIMIT_GLOBAL: positiveInt(6000),
  RATE_LIMIT_PER_KEY: positiveInt(600),

  // Embassy webhooks (one shared secret per partner)
  EMBASSY_WEBHOOK_SECRET_ENERGY_UNION: optionalString,
  EMBASSY_WEBHOOK_SECRET_GREENFOOD: optionalString,
  EMBASSY_WEBHOOK_SECRET_WATER_UNION: optionalString,
  EMBASSY_WEBHOOK_SECRET_ESSENCE_STREAM: optionalString,

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

  // Supabase project
  SUPABASE_PROJECT_REF: optionalString,
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
  METRICS_PORT: port(9464),

  // Vercel (deploy scripts only)
  VERCEL_ORG_ID: optionalString,
  VERCEL_PROJECT_ID_CITY: optionalString,
  VERCEL_PROJECT_ID_ADMIN: optionalString,
});

export type Config = z.infer<typeof configSchema>;

/** A rule broken by a configuration, with the sentence that tells an operator how to fix it. */
export interface ConfigProblem {
  variable: string;
  problem: string;
  fix: string;
}

const SECRET_MIN_LENGTH = 32;
const looksLocal = (value: string) => /(^|\/\/|@)(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[?::1\]?)([:/]|$)/i.test(value);

/** Rules that depend on APP_ENV: what is fine on a laptop is refused where real users are. */
function environmentRules(config: Config, source: Record<string, string | undefined>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const env = config.APP_ENV;
  const strict = isProductionLike(env);

  if (!config.JWT_SECRET && !config.SUPABASE_JWKS_URL && env !== 'test') {
    problems.push({
      variable: 'JWT_SECRET',
      problem: 'neither JWT_SECRET nor SUPABASE_JWKS_URL is set, so no token can be verified',
      fix: "set JWT_SECRET to the Supabase project's JWT secret (Settings → API), or SUPABASE_JWKS_URL for asymmetric keys",
    });
  }
  if (config.DEV_LOGIN_ENABLED && !(env === 'local' || env === 'test')) {
    problems.push({
      variable: 'DEV_LOGIN_ENABLED',
      problem: `the dev login mints tokens without a password and cannot run in ${env}`,
      fix: 'remove DEV_LOGIN_ENABLED or set it to false; users sign in through Supabase Auth',
    });
  }
  if (!strict) return problems;

  if (config.DB_SSLMODE !== 'require' && config.DB_SSLMODE !== 'verify-full') {
    problems.push({
      variable: 'DB_SSLMODE',
      problem: `is ${config.DB_SSLMODE}; ${env} connects to Postgres over TLS only`,
      fix: 'set DB_SSLMODE=require (or verify-full)',
    });
  }
  const secrets = ['JWT_SECRET', 'SESSION_SECRET'] as const;
  for (const name of secrets) {
    const value = config[name];
    if (name === 'JWT_SECRET' && !value && config.SUPABASE_JWKS_URL) continue;
    if (!value || value.length < SECRET_MIN_LENGTH) {
      problems.push({
        variable: name,
        problem: value ? `is ${value.length} characters; ${env} needs at least ${SECRET_MIN_LENGTH}` : `is missing; ${env} requires it`,
        fix: `set ${name} to a random value of ${SECRET_MIN_LENGTH}+ characters (e.g. \`openssl rand -base64 48\`) in the secret store`,
      });
    }
  }
  if (
    source.WALLET_PRIVATE_KEY !== undefined &&
    source.WALLET_PRIVATE_KEY !== '' &&
    source.WALLET_PRIVATE_KEY_SOURCE !== 'secret-manager'
  ) {
    problems.push({
      variable: 'WALLET_PRIVATE_KEY',
      problem: `is set from the environment; in ${env} the wallet key comes only from a KMS or secret manager`,
      fix: 'remove WALLET_PRIVATE_KEY from the env file and mount it from the secret manager (WALLET_PRIVATE_KEY_FILE)',
    });
  }
  const urlVariables = [
    'DB_HOST',
    'NATS_URL',
    'REDIS_URL',
    'UPSTASH_REDIS_REST_URL',
    'SUPABASE_URL',
    'CHAIN_RPC_URL',
    'SENTRY_DSN',
  ] as const;
  for (const name of urlVariables) {
    const value = config[name];
    if (typeof value === 'string' && looksLocal(value)) {
      problems.push({
        variable: name,
        problem: `points at this machine (${value}) in ${env}`,
        fix: `set ${name} to the ${env} service's address`,
      });
    }
  }
  for (const origin of config.WEB_ORIGINS) {
    if (looksLocal(origin) || !origin.startsWith('https://')) {
      problems.push({
        variable: 'WEB_ORIGINS',
        problem: `contains ${origin}; ${env} allows only https origins`,
        fix: 'list the https origins of the web apps, comma-separated',
      });
    }
  }
  return problems;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

/** Validates a set of variables; returns every problem at once rather than stopping at the first. */
export function parseConfig(source: Record<string, string | undefined>): ConfigResult {
  const parsed = configSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? 'config');
      return { variable, problem: issue.message, fix: `see the comment above ${variable} in .env.example` };
    });
    return { ok: false, problems };
  }
  const problems = environmentRules(parsed.data, source);
  return problems.length ? { ok: false, problems } : { ok: true, config: parsed.data };
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
export function loadConfig(source: Record<string, string | undefined>): Config {
  const result = parseConfig(source);
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
