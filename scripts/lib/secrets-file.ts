// Chooses what `supabase secrets set` receives from an environment's secrets file: every variable the
// functions read, minus what must not or cannot go there. Prints the chosen NAMES (never values) on stdout;
// with --out FILE also writes NAME=value lines to FILE (mode 600) for the CLI to read.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DEPLOY_ONLY_VARIABLES } from '../../functions/_shared/config.ts';
import { readEnvFile } from '../../functions/_shared/env-file.ts';

/** Why a variable stays out of the functions' secrets, or undefined when it is synced. */
export function reasonToSkip(name: string, value: string): string | undefined {
  if (value === '') return 'empty';
  if (name === 'SUPABASE_PROJECT_REF') return 'names the target project; the functions do not need it';
  if (name.startsWith('SUPABASE_')) return 'Supabase provides it to the functions itself (the CLI refuses SUPABASE_* names)';
  if (name === 'WALLET_PRIVATE_KEY' || name === 'WALLET_PRIVATE_KEY_FILE') {
    return 'the wallet key never goes to the functions; the wallet worker mounts it from the secret manager';
  }
  if (name.endsWith('_FILE')) return 'a mounted-file path for workers; the functions have no such files';
  if ((DEPLOY_ONLY_VARIABLES as readonly string[]).includes(name)) return 'read by the deploy scripts only';
  return undefined;
}

export function selectSecrets(source: Record<string, string>): { synced: [string, string][]; skipped: [string, string][] } {
  const synced: [string, string][] = [];
  const skipped: [string, string][] = [];
  for (const [name, value] of Object.entries(source)) {
    const reason = reasonToSkip(name, value);
    if (reason) skipped.push([name, reason]);
    else synced.push([name, value]);
  }
  return { synced, skipped };
}

function main(argv: string[]): void {
  const envFile = argv[0];
  const outIndex = argv.indexOf('--out');
  const appEnvIndex = argv.indexOf('--app-env');
  if (!envFile) throw new Error('usage: secrets-file.ts ENV_FILE [--app-env ENV] [--out FILE]');
  const source = readEnvFile(envFile);
  if (appEnvIndex > 0) {
    // the functions refuse to start without APP_ENV: the target environment goes along even if the file omits it
    const target = argv[appEnvIndex + 1]!;
    if (source.APP_ENV && source.APP_ENV !== target) {
      process.stderr.write(`sync_secrets: ${envFile} says APP_ENV=${source.APP_ENV}, but the target is ${target}; fix one of them\n`);
      process.exit(1);
    }
    source.APP_ENV = target;
  }
  const { synced, skipped } = selectSecrets(source);
  if (outIndex > 0) {
    const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
    writeFileSync(argv[outIndex + 1]!, synced.map(([name, value]) => `${name}=${quote(value)}\n`).join(''), { mode: 0o600 });
  }
  for (const [name] of synced) process.stdout.write(`${name}\n`);
  for (const [name, reason] of skipped) process.stderr.write(`sync_secrets: skipping ${name}: ${reason}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
