// Prints the values of the named configuration variables, one per line (empty when unset), from the file in
// ENV_FILE when set, else from the environment: deploy scripts read a project ref or an org id through it.
import { readEnvFile } from '../../functions/_shared/env-file.ts';

const envFile = process.env.ENV_FILE;
const source: Record<string, string | undefined> = envFile ? readEnvFile(envFile) : process.env;
for (const name of process.argv.slice(2)) {
  const value = source[name] ?? '';
  if (value.includes('\n')) {
    process.stderr.write(`${name} spans several lines; deploy scripts read only single-line values\n`);
    process.exit(2);
  }
  process.stdout.write(`${value}\n`);
}
