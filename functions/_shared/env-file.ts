// The one reader of env files (NAME=value lines, as Node's util.parseEnv reads them) for every Node process:
// workers, the launcher, deploy scripts and tools. Edge functions read none: their variables come from the
// platform's secret store.
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/** The variables of an env file. */
export function readEnvFile(path: string): Record<string, string> {
  return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
}

/**
 * `environment` topped up from the env file at `path` (variables already set win), as a new object; the
 * environment alone when the file does not exist.
 */
export function withEnvFile(environment: Record<string, string | undefined>, path: string): Record<string, string | undefined> {
  return existsSync(path) ? { ...readEnvFile(path), ...environment } : { ...environment };
}

/** How Node processes read a mounted secret (NAME_FILE=/run/secrets/name): see ParseOptions in config.ts. */
export const readSecretFile = (path: string): string => readFileSync(path, 'utf8');
