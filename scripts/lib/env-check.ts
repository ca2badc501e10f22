// The logic of scripts/env-check: validates one environment's configuration with the config module's rules
// and reports every violation at once, each with its fix. Importable, so tests run the matrix in-process.
import { pathToFileURL } from 'node:url';
import {
  APP_ENVS,
  CONFIG_VARIABLES,
  SECRET_VARIABLES,
  isProductionLike,
  parseConfig,
  type AppEnv,
  type ConfigProblem,
} from '../../functions/_shared/config.ts';
import { readEnvFile, readSecretFile } from '../../functions/_shared/env-file.ts';

export interface EnvCheckReport {
  problems: ConfigProblem[];
  /** Not fatal, but something an operator wants to know before deploying. */
  warnings: string[];
}

const KNOWN = new Set<string>([...CONFIG_VARIABLES, ...SECRET_VARIABLES.map((name) => `${name}_FILE`)]);

/** Checks a configuration for `env`. `fromFile` also refuses variables the platform does not know (typos). */
export function checkEnvironment(env: AppEnv, source: Record<string, string | undefined>, fromFile: boolean): EnvCheckReport {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const declared = source.APP_ENV;
  if (declared && declared !== env) {
    problems.push({ variable: 'APP_ENV', problem: `is ${declared}, but this is the ${env} configuration`, fix: `set APP_ENV=${env}` });
  }
  if (fromFile) {
    for (const name of Object.keys(source)) {
      if (KNOWN.has(name)) continue;
      const guess = closestKnown(name);
      problems.push({
        variable: name,
        problem: 'is not a variable the platform reads',
        fix: guess ? `did you mean ${guess}? Otherwise remove it` : 'remove it, or add it to functions/_shared/config.ts and .env.example',
      });
    }
  }
  const result = parseConfig({ ...source, APP_ENV: env }, { readSecretFile });
  if (!result.ok) problems.push(...result.problems);
  if (isProductionLike(env) || env === 'dev') {
    if (!source.SMOKE_USER_EMAIL || !(source.SMOKE_USER_PASSWORD || source.SMOKE_USER_PASSWORD_FILE)) {
      warnings.push('SMOKE_USER_EMAIL / SMOKE_USER_PASSWORD are not set: the smoke check after a deploy cannot sign in');
    }
    if (!source.SUPABASE_ANON_KEY) warnings.push('SUPABASE_ANON_KEY is not set: the smoke check cannot sign in through Supabase Auth');
  }
  return { problems, warnings };
}

function closestKnown(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN) {
    const distance = editDistance(name.toUpperCase(), known);
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function main(argv: string[]): number {
  let env: string | undefined;
  let envFile: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--env') env = argv[++i];
    else if (arg === '--env-file') envFile = argv[++i];
    else if (arg === '--dry-run')
      continue; // read-only anyway
    else return usage(`unknown argument '${arg}'`);
  }
  if (!env || !(APP_ENVS as readonly string[]).includes(env)) return usage(`--env must be one of ${APP_ENVS.join(', ')}`);
  let source: Record<string, string | undefined>;
  if (envFile) {
    try {
      source = readEnvFile(envFile);
    } catch (error) {
      process.stderr.write(`env-check: error: cannot read ${envFile} (${(error as Error).message}); pass the path of the env file\n`);
      return 2;
    }
  } else {
    source = { ...process.env };
  }
  const where = envFile ?? 'the environment';
  const { problems, warnings } = checkEnvironment(env as AppEnv, source, Boolean(envFile));
  for (const warning of warnings) process.stderr.write(`env-check: warning: ${warning}\n`);
  if (problems.length === 0) {
    process.stdout.write(`env-check: the ${env} configuration from ${where} is valid\n`);
    return 0;
  }
  process.stdout.write(`env-check: the ${env} configuration from ${where} has ${problems.length} problem(s):\n`);
  for (const p of problems) process.stdout.write(`  ✗ ${p.variable} ${p.problem}\n      fix: ${p.fix}\n`);
  return 1;
}

function usage(message: string): number {
  process.stderr.write(`env-check: ${message} (see --help)\n`);
  return 2;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  process.exit(main(args[0] === '--' ? args.slice(1) : args));
}
