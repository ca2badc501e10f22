// The Postgres exporter configuration (monitoring/postgres-exporter/queries.yaml) against real servers:
// connections and replication lag everywhere; slow statements where pg_stat_statements is preloaded, and a
// plain "not available" where it is not, rather than an empty panel that looks like "no slow queries".
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/database.ts';
import {
  fetchText,
  sampleValue,
  startPostgresExporter,
  startPrivatePostgres,
  tempDir,
  type Exporter,
  type PrivatePostgres,
} from './stack.ts';

describe('Postgres exporter on the shared server', () => {
  const dir = tempDir('pg-exporter');
  let db: TestDatabase;
  let exporter: Exporter;

  beforeAll(async () => {
    db = await createTestDatabase('pgexp');
    exporter = await startPostgresExporter(db.url, dir.path);
  });
  afterAll(async () => {
    await exporter?.stop();
    await db?.drop();
    dir.remove();
  });

  it('reports connections, replication state and whether slow queries can be measured, without scrape errors', async () => {
    const scrape = await fetchText(`${exporter.url}/metrics`);
    expect(sampleValue(scrape, 'pg_up')).toBe(1);
    expect(sampleValue(scrape, 'pg_exporter_last_scrape_error')).toBe(0);
    expect(sampleValue(scrape, 'pg_stat_database_numbackends', { datname: db.name })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(scrape, 'pg_settings_max_connections')).toBeGreaterThan(0);
    expect(sampleValue(scrape, 'pg_replication_is_replica')).toBe(0);
    expect(sampleValue(scrape, 'pg_replication_lag_seconds')).toBe(0);

    const [server] = await db.sql<{ preloaded: boolean; installed: boolean }[]>`
      select current_setting('shared_preload_libraries') ~ 'pg_stat_statements' as preloaded,
             exists (select 1 from pg_extension where extname = 'pg_stat_statements') as installed`;
    const available = server!.preloaded && server!.installed;
    expect(sampleValue(scrape, 'pg_stat_statements_available')).toBe(available ? 1 : 0);
    if (!available) expect(scrape).not.toMatch(/^pg_stat_statements_top_/m);
  });
});

describe('Postgres exporter on a cluster that preloads pg_stat_statements', () => {
  const dir = tempDir('pg-statements');
  let cluster: PrivatePostgres;
  let exporter: Exporter;
  let sql: postgres.Sql;

  beforeAll(async () => {
    cluster = await startPrivatePostgres(dir.path, { shared_preload_libraries: 'pg_stat_statements' });
    sql = postgres(cluster.url, { max: 1, prepare: false, onnotice: () => {} });
    exporter = await startPostgresExporter(cluster.url, dir.path);
  });
  afterAll(async () => {
    await exporter?.stop();
    await sql?.end();
    await cluster?.stop();
    dir.remove();
  });

  it('says so while the extension is not created, and reports the slowest statements once it is', async () => {
    const before = await fetchText(`${exporter.url}/metrics`);
    expect(sampleValue(before, 'pg_stat_statements_available')).toBe(0);
    expect(sampleValue(before, 'pg_exporter_last_scrape_error')).toBe(0);

    await sql`create extension pg_stat_statements`;
    await sql`select pg_sleep(0.3)`;
    const [slow] = await sql<{ queryid: string }[]>`select queryid::text from pg_stat_statements where query like 'select pg_sleep%'`;

    const after = await fetchText(`${exporter.url}/metrics`);
    expect(sampleValue(after, 'pg_stat_statements_available')).toBe(1);
    expect(sampleValue(after, 'pg_exporter_last_scrape_error')).toBe(0);
    const labels = { datname: 'postgres', queryid: slow!.queryid };
    expect(sampleValue(after, 'pg_stat_statements_top_calls_total', labels)).toBe(1);
    expect(sampleValue(after, 'pg_stat_statements_top_mean_exec_seconds', labels)).toBeGreaterThanOrEqual(0.3);
    expect(sampleValue(after, 'pg_stat_statements_top_exec_seconds_total', labels)).toBeGreaterThanOrEqual(0.3);
  });
});
