// withUserTransaction, the one place that switches roles: the claims and the role are in force from the
// first statement of the work, and never outlive the transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/_shared/config.ts';
import { createDatabase, withUserTransaction, type Sql } from '../../functions/_shared/db.ts';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import { testEnvironment } from './helpers.ts';

let database: TestDatabase;
let sql: Sql;
const claims = { sub: '0b5b6c1e-2f3a-4d5e-8f70-1a2b3c4d5e6f', role: 'authenticated' as const, aud: 'authenticated', email: 'u@x.test' };

beforeAll(async () => {
  database = await createTestDatabase('api_db');
  // one connection, so the statement after a transaction runs on the very session the transaction used
  sql = createDatabase(loadConfig(testEnvironment(database, { DB_POOL_MAX: '1' })));
});
afterAll(async () => {
  await sql?.end({ timeout: 5 });
  await database?.drop();
});

const session = () => sql<{ role: string; uid: string | null; claims: string | null }[]>`
  select current_user as role, auth.uid()::text as uid, nullif(current_setting('request.jwt.claims', true), '') as claims`;

describe('withUserTransaction', () => {
  it("runs the work's very first statement as authenticated with the caller's claims", async () => {
    const [seen] = await withUserTransaction(
      sql,
      claims,
      (tx) => tx`select current_user as role, auth.uid()::text as uid, auth.jwt() ->> 'email' as email`,
    );
    expect(seen).toEqual({ role: 'authenticated', uid: claims.sub, email: 'u@x.test' });
  });

  it('leaves nothing behind on the connection after commit or rollback', async () => {
    await withUserTransaction(sql, claims, (tx) => tx`select 1`);
    expect(await session()).toEqual([{ role: 'postgres', uid: null, claims: null }]);
    await expect(withUserTransaction(sql, claims, (tx) => tx`select 1 / 0`)).rejects.toMatchObject({ code: '22012' });
    expect(await session()).toEqual([{ role: 'postgres', uid: null, claims: null }]);
  });

  it('returns timestamps as ISO 8601 strings with microseconds', async () => {
    const [row] = await sql<{ at: string }[]>`select '2026-11-27 14:05:00.123456+00'::timestamptz as at`;
    expect(row!.at).toMatch(/^2026-11-2\dT\d\d:\d5:00\.123456(Z|[+-]\d\d:\d\d)$/); // in the server's time zone
    expect(new Date(row!.at).toISOString()).toBe('2026-11-27T14:05:00.123Z');
  });
});
