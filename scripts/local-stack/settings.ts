// The launcher's settings: the variables of .env.example, taken from the environment, then the env file
// (.env, or ENV_FILE), and, when there is no env file, the local defaults written in .env.example. Values
// from the environment or the env file are "explicit": a server they name is used as it is; the defaults
// of .env.example name no server, so the launcher finds or starts one.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../../functions/_shared/config.ts';
import { readEnvFile } from '../../functions/_shared/env-file.ts';

export interface Settings {
  /** Every variable with its value: environment over env file over .env.example. */
  values: Record<string, string>;
  /** Variables set explicitly (non-empty), with where: 'the environment' or the env file's name. */
  explicit: Map<string, string>;
  /** One sentence saying which file the settings came from. */
  source: string;
  /** The variable names of .env.example: what every child receives. */
  names: string[];
}

export function loadSettings(root: string, environment: NodeJS.ProcessEnv = process.env): Settings {
  const examplePath = path.join(root, '.env.example');
  const example = existsSync(examplePath) ? readEnvFile(examplePath) : {};
  const envFile = environment.ENV_FILE ? path.resolve(root, environment.ENV_FILE) : path.join(root, '.env');
  const relative = path.relative(root, envFile);
  const label = relative && !relative.startsWith('..') ? relative : envFile;

  let fileValues: Record<string, string> = {};
  let source: string;
  if (existsSync(envFile)) {
    fileValues = readEnvFile(envFile);
    source = `settings from ${label}`;
  } else if (environment.ENV_FILE) {
    throw new Error(`ENV_FILE names ${envFile}, which does not exist: create it or unset ENV_FILE`);
  } else {
    source = 'no .env: using the local defaults of .env.example (copy it to .env to change them; nothing was copied)';
  }

  const names = [...new Set([...Object.keys(example), ...Object.keys(fileValues)])];
  const values: Record<string, string> = {};
  const explicit = new Map<string, string>();
  for (const name of names) {
    const fromEnvironment = environment[name];
    const fromFile = fileValues[name];
    if (fromEnvironment !== undefined && fromEnvironment !== '') {
      values[name] = fromEnvironment;
      explicit.set(name, 'the environment');
    } else if (fromFile !== undefined && fromFile !== '') {
      values[name] = fromFile;
      explicit.set(name, label);
    } else {
      values[name] = fromFile ?? example[name] ?? '';
    }
  }
  values.APP_ENV ||= 'local';
  return { values, explicit, source, names };
}

/** The settings as the platform's config module reads them; throws a ConfigError listing every problem. */
export function validateSettings(values: Record<string, string>): Config {
  const config = loadConfig(values);
  if (config.APP_ENV !== 'local' && config.APP_ENV !== 'test') {
    throw new ConfigError([
      {
        variable: 'APP_ENV',
        problem: `is ${config.APP_ENV}; the local platform runs with demo data and a dev login`,
        fix: 'set APP_ENV=local in .env (staging and prod are deployed, not started with npm run dev)',
      },
    ]);
  }
  return config;
}

/** Where an explicitly set variable came from, for messages: "DB_HOST (from .env)". */
export function explicitly(settings: Settings, ...names: string[]): string | undefined {
  const set = names.filter((name) => settings.explicit.has(name));
  if (set.length === 0) return undefined;
  const sources = [...new Set(set.map((name) => settings.explicit.get(name)))];
  return `${set.join('/')} (from ${sources.join(' and ')})`;
}
