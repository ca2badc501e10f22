// Lints the migrations with squawk (npm squawk-cli) for operations that lock tables or break the running
// release: while a canary or a blue-green handover runs, two releases share one database. Each file runs in
// one transaction (supabase db push), so a failure part-way leaves nothing behind. A warning is allowed only
// where supabase/migration-lint-exceptions.json names its file and rule with the reason; an exception that no
// longer fires is reported too, so the list stays true.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface LintWarning {
  file: string;
  rule: string;
  line: number;
  message: string;
}
interface Exception {
  file: string;
  rule: string;
  reason: string;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const SQUAWK_VERSION = '2.66.0';
const MIGRATIONS = 'supabase/migrations';
export const EXCEPTIONS_FILE = 'supabase/migration-lint-exceptions.json';

/** squawk's warnings for the given migration files (paths relative to the repository root). */
export function squawk(files: string[], root = ROOT): LintWarning[] {
  if (!files.length) return [];
  let output: string;
  try {
    // run through npm exec, pinned: squawk-cli's lockfile entries need its macOS/Windows binaries, which this
    // registry does not serve, so it cannot be a devDependency that `npm ci` installs
    output = execFileSync(
      'npm',
      [
        'exec',
        '--yes',
        `--package=squawk-cli@${SQUAWK_VERSION}`,
        '--',
        'squawk',
        '--assume-in-transaction',
        '--pg-version=15.0',
        '--reporter=gcc',
        ...files,
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    // squawk exits 1 when it found something: its findings are on stdout all the same
    output = (error as { stdout?: string }).stdout ?? '';
    if (!output) throw error;
  }
  return output
    .split('\n')
    .map((line) => /^(.+?):(\d+):\d+: (?:warning|error):? ([a-z-]+) (.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, file, line, rule, message]) => ({ file: file!, line: Number(line), rule: rule!, message: message! }));
}

export function lintMigrations(root = ROOT): { unexcused: LintWarning[]; staleExceptions: Exception[] } {
  const files = readdirSync(path.join(root, MIGRATIONS))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => `${MIGRATIONS}/${f}`);
  const warnings = squawk(files, root);
  const exceptions = JSON.parse(readFileSync(path.join(root, EXCEPTIONS_FILE), 'utf8')).exceptions as Exception[];
  const excused = (w: LintWarning) => exceptions.some((e) => e.file === w.file && e.rule === w.rule);
  return {
    unexcused: warnings.filter((w) => !excused(w)),
    staleExceptions: exceptions.filter((e) => !warnings.some((w) => w.file === e.file && w.rule === e.rule)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { unexcused, staleExceptions } = lintMigrations();
  for (const w of unexcused) console.error(`${w.file}:${w.line}: ${w.rule}: ${w.message}`);
  for (const e of staleExceptions) console.error(`${EXCEPTIONS_FILE}: ${e.file} no longer triggers ${e.rule}; remove the exception`);
  if (unexcused.length || staleExceptions.length) {
    console.error('lint:migrations: fix the migration (https://squawkhq.com/docs/rules) or add an exception with its reason');
    process.exit(1);
  }
  console.log('lint:migrations: every migration passes squawk (or has a written exception)');
}
