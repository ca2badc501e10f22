// Finds the host programs the local stack runs and, when one is missing, names the package to install.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

interface PackageNames {
  debian: string;
  homebrew: string;
}

const PACKAGES: Record<string, PackageNames> = {
  'nats-server': { debian: 'nats-server', homebrew: 'nats-server' },
  'redis-server': { debian: 'redis-server', homebrew: 'redis' },
  initdb: { debian: 'postgresql-15', homebrew: 'postgresql@15' },
  pg_ctl: { debian: 'postgresql-15', homebrew: 'postgresql@15' },
  postgres: { debian: 'postgresql-15', homebrew: 'postgresql@15' },
  psql: { debian: 'postgresql-client-15', homebrew: 'libpq' },
  runuser: { debian: 'util-linux', homebrew: 'util-linux' },
};

/** Debian keeps the server programs off PATH; Homebrew's keg-only formula does too. */
export const POSTGRES_BIN_DIRS = ['/usr/lib/postgresql/15/bin', '/opt/homebrew/opt/postgresql@15/bin', '/usr/local/opt/postgresql@15/bin'];

/** "(Debian: apt-get install X; Homebrew: brew install Y)" for a program the stack runs. */
export function packagesFor(program: string): string {
  const names = PACKAGES[program];
  return names ? `(Debian: apt-get install ${names.debian}; Homebrew: brew install ${names.homebrew})` : '';
}

/** The sentence a person reads when a program is missing: what it is and how to get it. */
export function installHint(program: string): string {
  const packages = packagesFor(program);
  return packages ? `${program} not found: install it ${packages}` : `${program} not found: install it and make sure it is on PATH`;
}

export class MissingBinaryError extends Error {
  constructor(readonly program: string) {
    super(installHint(program));
    this.name = 'MissingBinaryError';
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Searched after PATH: Debian installs servers in sbin folders, which a normal user's PATH lacks.
 * LOCAL_STACK_BIN_DIRS (colon-separated) replaces these and the Postgres folders, e.g. to point at a build.
 */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

function searchDirs(program: string, pathVariable: string, extraDirs: string | undefined): string[] {
  const onPath = pathVariable.split(path.delimiter).filter(Boolean);
  if (extraDirs !== undefined) return [...onPath, ...extraDirs.split(path.delimiter).filter(Boolean)];
  const isPostgresServer = PACKAGES[program]?.debian === 'postgresql-15';
  return isPostgresServer ? [...POSTGRES_BIN_DIRS, ...onPath, ...SBIN_DIRS] : [...onPath, ...SBIN_DIRS];
}

/** Absolute path of a program, or undefined when it is nowhere to be found. */
export function findBinary(
  program: string,
  pathVariable = process.env.PATH ?? '',
  extraDirs = process.env.LOCAL_STACK_BIN_DIRS,
): string | undefined {
  for (const dir of searchDirs(program, pathVariable, extraDirs)) {
    const candidate = path.join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function requireBinary(program: string): string {
  const found = findBinary(program);
  if (!found) throw new MissingBinaryError(program);
  return found;
}
