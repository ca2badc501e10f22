// withUserTransaction, the one place that switches roles: the claims and the role are in force from the
// first statement of the work, and never outlive the transaction.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/_shared/config.ts';
import { readFileSync } from 'node:fs';
import { createDatabase, isArrayTypeFetchFailure, isStatementTimeout, withUserTransaction, type Sql } from '../../functions/_shared/db.ts';
import { waitUntil } from '../../scripts/local-stack/processes.ts';
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

  it('carries claims exactly, whatever their text holds', async () => {
    const odd = { ...claims, email: "o'brien\\$$'); reset role; --@x.test", name: 'Zoë 🏙️' };
    const [seen] = await withUserTransaction(sql, odd, (tx) => tx`select current_user as role, auth.jwt() as jwt`);
    expect(seen).toEqual({ role: 'authenticated', jwt: odd });
  });

  it('leaves nothing behind on the connection after commit or rollback', async () => {
    await withUserTransaction(sql, claims, (tx) => tx`select 1`);
    expect(await session()).toEqual([{ role: 'postgres', uid: null, claims: null }]);
    await expect(withUserTransaction(sql, claims, (tx) => tx`select 1 / 0`)).rejects.toMatchObject({ code: '22012' });
    expect(await session()).toEqual([{ role: 'postgres', uid: null, claims: null }]);
  });

  it('bounds the transaction with its own statement and idle timeouts, which end with it', async () => {
    const limits = { statementTimeoutMs: 1234, idleInTransactionTimeoutMs: 5678 };
    const [inside] = await withUserTransaction(
      sql,
      claims,
      (tx) => tx`select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`,
      limits,
    );
    expect(inside).toEqual({ statement: '1234ms', idle: '5678ms' });
    const [after] =
      await sql`select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`;
    expect(after).toEqual({ statement: '0', idle: '0' });
  });

  it('cancels a statement that runs past the statement timeout, with an error the gateway recognises', async () => {
    const started = Date.now();
    const error = await withUserTransaction(sql, claims, (tx) => tx`select pg_sleep(30)`, {
      statementTimeoutMs: 200,
      idleInTransactionTimeoutMs: 10_000,
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toMatchObject({ code: '57014' });
    expect(isStatementTimeout(error)).toBe(true);
    expect(await session()).toEqual([{ role: 'postgres', uid: null, claims: null }]);
  });

  it('has Postgres end a transaction left idle past the idle timeout: CONNECTION_CLOSED, no crash, and the pool recovers', async () => {
    const started = Date.now();
    let lateQuery: Promise<unknown> | undefined;
    const error = await withUserTransaction(
      sql,
      claims,
      async (tx) => {
        await tx`select 1`;
        // idle in the transaction well past its 100 ms; the transaction fails as soon as Postgres closes the session
        await new Promise((resolve) => setTimeout(resolve, 1500));
        lateQuery = tx`select 1`;
        return lateQuery;
      },
      { statementTimeoutMs: 5000, idleInTransactionTimeoutMs: 100 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(Date.now() - started).toBeLessThan(1500);
    // the work's query after the close is refused instead of being written to the dead connection (which would
    // throw an uncaught TypeError in postgres.js 3.4.9 and end the process)
    await waitUntil('the stalled work to resume', () => lateQuery !== undefined, { timeoutMs: 10_000 });
    await expect(lateQuery).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(await session()).toEqual([{ role: 'postgres', uid: null, claims: null }]);
    expect(await withUserTransaction(sql, claims, (tx) => tx`select current_user as role`)).toEqual([{ role: 'authenticated' }]);
  });

  it('fails with CONNECTION_CLOSED, without crashing, when its connection is terminated mid-transaction (failover, pooler restart)', async () => {
    // a pool of its own: postgres.js 3.4.9 may leave a pool whose connection was reset unable to reconnect, for
    // plain pooled queries too (not this module's to fix), so the other tests must not share it
    const own = createDatabase(loadConfig(testEnvironment(database, { DB_POOL_MAX: '1' })));
    try {
      const error = await withUserTransaction(own, claims, async (tx) => {
        const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
        await database.sql`select pg_terminate_backend(${row!.pid})`; // this test's own session only
        // keep using the dead transaction until it fails; withUserTransaction may also give up first, when the
        // connection's close reaches it before one of these queries does
        await waitUntil(
          'the transaction to see its session end',
          () =>
            tx`select 1`.then(
              () => false,
              () => true,
            ),
          { timeoutMs: 10_000 },
        );
        return tx`select 1`;
      }).catch((e: unknown) => e);
      // the caller gets the close, and this process (which postgres.js 3.4.9 would crash on a write to the dead
      // connection) is still here to check it
      expect(error).toMatchObject({ code: 'CONNECTION_CLOSED' });
    } finally {
      await own.end({ timeout: 1 });
    }
  });

  it('never runs a query made before its connection died on the replacement connection, even when awaited after the pool reconnected', async () => {
    // postgres.js sends a query when it is first awaited, not when it is made: a query made inside the
    // transaction and awaited after the close would otherwise go to the pool's reconnected session, as the
    // login role with no claims (porsager/postgres#1155, #1215). A pool of one makes the reconnect certain.
    const own = createDatabase(loadConfig(testEnvironment(database, { DB_POOL_MAX: '1' })));
    try {
      let made: PromiseLike<unknown> | undefined;
      let afterReconnect: unknown;
      const outcome = await withUserTransaction(own, claims, async (tx) => {
        const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
        made = tx`select current_user as role, nullif(current_setting('request.jwt.claims', true), '') as claims`;
        await database.sql`select pg_terminate_backend(${row!.pid})`; // this test's own session only
        await new Promise((resolve) => setTimeout(resolve, 300));
        afterReconnect = await own`select current_user as role`; // the pool opens a fresh session on the same connection
        return made;
      }).catch((e: unknown) => e);
      expect(outcome).toMatchObject({ code: 'CONNECTION_CLOSED' });
      await waitUntil('the stalled work to reach the reconnected pool', () => afterReconnect !== undefined, { timeoutMs: 10_000 });
      expect(afterReconnect).toEqual([{ role: 'postgres' }]);
      await expect(Promise.resolve(made)).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    } finally {
      await own.end({ timeout: 1 });
    }
  });

  it('settles a query queued behind a full connection when that connection dies, instead of leaving it pending forever', async () => {
    // more queries than postgres.js pipelines on one connection (max_pipeline 100) wait in the reserved
    // connection's own queue, which postgres.js 3.4.9 never drains on a close (porsager/postgres#1186)
    const own = createDatabase(loadConfig(testEnvironment(database, { DB_POOL_MAX: '1' })));
    try {
      let settled: PromiseSettledResult<unknown>[] | undefined;
      const outcome = await withUserTransaction(own, claims, async (tx) => {
        const [row] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
        const burst = Array.from({ length: 150 }, () => tx`select pg_sleep(0.002)`);
        const all = Promise.allSettled(burst);
        await database.sql`select pg_terminate_backend(${row!.pid})`;
        settled = await all;
        return settled;
      }).catch((e: unknown) => e);
      expect(outcome).toMatchObject({ code: 'CONNECTION_CLOSED' });
      await waitUntil('every query of the burst to settle', () => settled !== undefined, { timeoutMs: 10_000 });
      expect(settled!.some((result) => result.status === 'rejected')).toBe(true);
    } finally {
      await own.end({ timeout: 1 });
    }
  });

  it("recognises the failure of postgres.js' own array-type fetch (which nobody awaits) and nothing else", () => {
    // the statement as the installed driver sends it: if a driver update changes it, this fails first
    const source = readFileSync(new URL('../../node_modules/postgres/src/connection.js', import.meta.url), 'utf8');
    const statement = /async function fetchArrayTypes\(\)[\s\S]*?new Query\(\[`([\s\S]*?)`\]/.exec(source)?.[1];
    expect(statement).toBeDefined();
    const failure = (code: string, query: string | undefined) => Object.assign(new Error(`write ${code}`), { code, query });
    expect(isArrayTypeFetchFailure(failure('CONNECTION_CLOSED', statement))).toBe(true);
    expect(isArrayTypeFetchFailure(failure('57P01', statement))).toBe(true);
    expect(isArrayTypeFetchFailure(failure('CONNECTION_CLOSED', 'select b.oid from messages b'))).toBe(false);
    expect(isArrayTypeFetchFailure(failure('22012', statement))).toBe(false);
    expect(isArrayTypeFetchFailure(failure('CONNECTION_CLOSED', undefined))).toBe(false);
    expect(isArrayTypeFetchFailure(undefined)).toBe(false);
  });

  it('returns timestamps as ISO 8601 strings with microseconds', async () => {
    const [row] = await sql<{ at: string }[]>`select '2026-11-27 14:05:00.123456+00'::timestamptz as at`;
    expect(row!.at).toMatch(/^2026-11-2\dT\d\d:\d5:00\.123456(Z|[+-]\d\d:\d\d)$/); // in the server's time zone
    expect(new Date(row!.at).toISOString()).toBe('2026-11-27T14:05:00.123Z');
  });
});
