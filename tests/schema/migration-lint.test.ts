// The migration lint (npm run lint:migrations, in the static stage): every migration passes squawk or has a
// written exception; and the lint does fail — on a migration that takes a table lock without a lock timeout,
// and on an exception that no longer fires.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXCEPTIONS_FILE, lintMigrations } from '../../scripts/lib/migration-lint.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'migration-lint-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function project(migrations: Record<string, string>, exceptions: { file: string; rule: string; reason: string }[]): string {
  const root = mkdtempSync(path.join(scratch, 'p-'));
  mkdirSync(path.join(root, 'supabase/migrations'), { recursive: true });
  for (const [name, sql] of Object.entries(migrations)) writeFileSync(path.join(root, 'supabase/migrations', name), sql);
  writeFileSync(path.join(root, EXCEPTIONS_FILE), JSON.stringify({ exceptions }));
  return root;
}

describe('lint:migrations', () => {
  it("passes on the repository's migrations", () => {
    expect(lintMigrations()).toEqual({ unexcused: [], staleExceptions: [] });
  });

  it('fails on a blocking index build without timeouts, and passes once the migration sets them and builds it safely', () => {
    const risky = project({ '1_index.sql': 'create index messages_body on public.messages (body);\n' }, []);
    const rules = lintMigrations(risky).unexcused.map((w) => w.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['require-lock-timeout', 'require-statement-timeout', 'require-concurrent-index-creation']),
    );

    const safe = project(
      {
        '1_table.sql':
          "set local lock_timeout = '5s';\nset local statement_timeout = '60s';\ncreate table public.t (id bigint primary key);\n",
      },
      [],
    );
    expect(lintMigrations(safe).unexcused).toEqual([]);
  });

  it('reports an exception that no longer fires', () => {
    const root = project(
      {
        '1_table.sql':
          "set local lock_timeout = '5s';\nset local statement_timeout = '60s';\ncreate table public.t (id bigint primary key);\n",
      },
      [{ file: 'supabase/migrations/1_table.sql', rule: 'ban-drop-column', reason: 'was needed once' }],
    );
    expect(lintMigrations(root).staleExceptions).toHaveLength(1);
  });
});
