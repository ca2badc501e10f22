// inlineSql: the hot statements' parameterless SQL. Whatever a value holds, the server reads back exactly that
// value, and nothing in it can end its literal and become SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createDatabase, type Sql } from '../../functions/_shared/db.ts';
import { inlineSql } from '../../functions/_shared/inline-sql.ts';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import { testEnvironment } from './helpers.ts';

let database: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  database = await createTestDatabase('inline_sql');
  sql = createDatabase(loadConfig(testEnvironment(database, { DB_POOL_MAX: '1' })));
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await database?.drop();
});

const hostile = [
  '',
  "it's",
  "'); drop table public.users; --",
  'back\\slash\\',
  "E'\\x27'",
  '$$ dollar $$ $tag$ quoted $tag$',
  '-- a comment /* and another',
  'line\nbreak\r\ttab',
  'ünïcödé 🏙️ 漢字 \u200b',
  'x'.repeat(100_000) + "'",
];

describe('inlineSql', () => {
  it('reads every string back exactly, through the simple query protocol', async () => {
    for (const value of hostile) {
      const [row] = await sql.unsafe<{ value: string; length: number }[]>(
        inlineSql`select ${value} as value, char_length(${value})::int as length`.text,
      );
      expect(row).toEqual({ value, length: [...value].length });
    }
  });

  it('inlines integers, booleans, null and nested pieces, and casts where the template says', async () => {
    const inner = inlineSql`${'{"a": [1, "two"]}'}::jsonb`;
    const [row] = await sql.unsafe(
      inlineSql`select ${42} as n, ${-7} + 0 as negative, ${true} as yes, ${null}::text as nothing, ${inner} as json,
        ${'0b5b6c1e-2f3a-4d5e-8f70-1a2b3c4d5e6f'}::uuid as id`.text,
    );
    expect(row).toEqual({
      n: 42,
      negative: -7,
      yes: true,
      nothing: null,
      json: { a: [1, 'two'] },
      id: '0b5b6c1e-2f3a-4d5e-8f70-1a2b3c4d5e6f',
    });
  });

  it('refuses a number it cannot write exactly, and anything that is not a value', () => {
    expect(() => inlineSql`select ${1.5}`).toThrow(/safe integers/);
    expect(() => inlineSql`select ${Number.MAX_SAFE_INTEGER + 2}`).toThrow(/safe integers/);
    expect(() => inlineSql`select ${{ a: 1 } as unknown as string}`).toThrow(/cannot inline a value of type object/);
  });

  it('leaves a NUL to the server, which refuses it as it refuses a bound parameter holding one', async () => {
    await expect(sql.unsafe(inlineSql`select ${'a\u0000b'} as value`.text)).rejects.toMatchObject({ code: '22021' });
    await expect(sql`select ${'a\u0000b'}::text as value`).rejects.toMatchObject({ code: '22021' });
  });
});
