// Configuration of a Node worker: the platform config (functions/_shared/config.ts) read from the process
// environment, topped up from ENV_FILE or ./.env when present (variables already set win), with mounted
// secrets (NAME_FILE) allowed. An invalid configuration ends the process with every problem and its fix.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../../functions/_shared/config.ts';

export function loadWorkerConfig(service: string, environment: NodeJS.ProcessEnv): Config {
  const envFile = environment.ENV_FILE ?? '.env';
  // process.loadEnvFile fills `environment` (it is process.env) without overriding what is set
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  try {
    return loadConfig(environment, { readSecretFile: (path) => readFileSync(path, 'utf8') });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service}: ${error.message}`);
    process.exit(2);
  }
}
