// Prints the postgres:// URL of the configured database (DB_* variables, from the environment or .env),
// so shell scripts share the config module's rules instead of re-implementing them.
import { databaseUrl, loadConfig, ConfigError } from '../../functions/_shared/config.ts';
import { withEnvFile } from '../../functions/_shared/env-file.ts';

try {
  const config = loadConfig({ APP_ENV: 'local', ...withEnvFile(process.env, process.env.ENV_FILE ?? '.env') });
  process.stdout.write(databaseUrl(config));
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
