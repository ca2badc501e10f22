// Prints the postgres:// URL of the configured database (DB_* variables, from the environment or .env),
// so shell scripts share the config module's rules instead of re-implementing them.
import { existsSync } from 'node:fs';
import { databaseUrl, loadConfig, ConfigError } from '../../functions/_shared/config.ts';

const envFile = process.env.ENV_FILE ?? '.env';
if (existsSync(envFile)) process.loadEnvFile(envFile);

try {
  const config = loadConfig({ APP_ENV: 'local', ...process.env });
  process.stdout.write(databaseUrl(config));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
