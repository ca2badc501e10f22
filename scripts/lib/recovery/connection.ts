// Where the recovery scripts connect and how their child programs (pg_dump, pg_restore, psql) authenticate:
// the password travels in PGPASSWORD, never on a command line (where `ps` and logs would show it).
import path from 'node:path';
import { databaseUrl, loadConfig } from '../../../functions/_shared/config.ts';
import { withEnvFile } from '../../../functions/_shared/env-file.ts';

export class RecoveryError extends Error {}

/** --db-url, else DATABASE_URL, else the DB_* variables (environment, then the env file) as every script reads them. */
export function resolveDatabaseUrl({ dbUrl, env, envFile }: { dbUrl?: string; env: string; envFile?: string }): string {
  if (dbUrl) return dbUrl;
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const file = envFile ?? (env === 'local' || env === 'test' ? '.env' : `.env.${env}`);
  const config = loadConfig({ APP_ENV: env, ...withEnvFile(process.env, file) });
  return databaseUrl(config);
}

export interface LibpqTarget {
  /** The URL without its password: safe to print and to pass as an argument. */
  url: string;
  /** What to add to a child's environment. */
  env: Record<string, string>;
  /** host:port/database, for messages. */
  label: string;
}

export function libpqTarget(url: string): LibpqTarget {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  const label = `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  return { url: parsed.toString(), env: password ? { PGPASSWORD: password } : {}, label };
}

/** host:port/database of a URL, for messages and manifests. */
export const urlLabel = (url: string) => libpqTarget(url).label;

/** A path given on the command line, relative to where the operator started the script (the wrapper cd's to the repo). */
export function fromCaller(file: string): string {
  return path.resolve(process.env.RECOVERY_CALLER_PWD ?? process.cwd(), file);
}

export function say(script: string, message: string): void {
  process.stderr.write(`${script}: ${message}\n`);
}
