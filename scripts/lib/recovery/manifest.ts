// The backup manifest: what a dump must contain, measured on the database at the dump's own snapshot, so a
// restore can be verified against numbers rather than trusted (row counts, order-independent checksums, the
// migration ledger, which tables have row-level security, the roles the dump's grants name).
import type postgres from 'postgres';

/** Schemas whose tables the manifest covers: the application's and the ones our migrations create or rely on. */
export const MANIFEST_SCHEMAS = ['public', 'app', 'auth', 'supabase_migrations'];

export interface TableFigures {
  rows: number;
  /** md5 over the sorted md5 of every row's text form: independent of physical order, changed by any edit. */
  checksum: string;
}

export interface BackupManifest {
  format: 'microdao-backup-manifest/1';
  env: string;
  /** Host/port/database only: never credentials. */
  source: string;
  /** Newest version in supabase_migrations.schema_migrations at the snapshot ('' when none). */
  migration_version: string;
  server_version: string;
  /** The transaction time of the snapshot the dump was taken from: the backup's data age starts here. */
  snapshot_at: string;
  started_at: string;
  finished_at: string;
  duration_ms: number;
  dump_file: string;
  dump_bytes: number;
  dump_sha256: string;
  /** Entries `pg_restore --list` read back from the archive. */
  toc_entries: number;
  tables: Record<string, TableFigures>;
  /** public tables with row-level security on, at the snapshot. */
  rls_tables: string[];
  /** Non-system roles, so a fresh cluster can have them before the grants in the dump are restored. */
  roles: { name: string; bypassrls: boolean; login: boolean }[];
}

type Sql = postgres.Sql | postgres.TransactionSql;

/** Session settings that make a row's text form the same on every server the dump may be restored to. */
export async function pinTextFormats(sql: Sql): Promise<void> {
  await sql`select set_config('timezone', 'UTC', true), set_config('datestyle', 'ISO, MDY', true),
                   set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)`;
}

export async function listTables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname in ${sqlList(sql, MANIFEST_SCHEMAS)}
    order by 1`;
  return rows.map((r) => r.name);
}

// postgres.js builds `in (...)` from an array helper
function sqlList(sql: Sql, values: string[]) {
  return (sql as postgres.Sql)(values);
}

export async function measureTables(sql: Sql): Promise<Record<string, TableFigures>> {
  await pinTextFormats(sql);
  const tables: Record<string, TableFigures> = {};
  for (const table of await listTables(sql)) {
    // table names come from pg_class through format('%I.%I'), so they are quoted identifiers
    const [figures] = await sql.unsafe<{ rows: string; checksum: string }[]>(
      `select count(*)::text as rows,
              md5(coalesce(string_agg(row_hash, '' order by row_hash), '')) as checksum
       from (select md5(t::text) as row_hash from ${table} t) hashed`,
    );
    tables[table] = { rows: Number(figures!.rows), checksum: figures!.checksum };
  }
  return tables;
}

export async function migrationVersion(sql: Sql): Promise<string> {
  const [ledger] = await sql<{ present: boolean }[]>`select to_regclass('supabase_migrations.schema_migrations') is not null as present`;
  if (!ledger?.present) return '';
  const [row] = await sql<{ version: string | null }[]>`select max(version) as version from supabase_migrations.schema_migrations`;
  return row?.version ?? '';
}

export async function tablesWithRls(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname = 'public' and c.relrowsecurity
    order by 1`;
  return rows.map((r) => r.name);
}

/** public tables WITHOUT row-level security: must be none, on the source and on every restore. */
export async function tablesWithoutRls(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname = 'public' and not c.relrowsecurity
    order by 1`;
  return rows.map((r) => r.name);
}

export async function nonSystemRoles(sql: Sql): Promise<BackupManifest['roles']> {
  return sql<BackupManifest['roles']>`
    select rolname as name, rolbypassrls as bypassrls, rolcanlogin as login
    from pg_roles where rolname !~ '^pg_' and rolname <> current_user order by 1`;
}

export interface ManifestDifference {
  what: string;
  expected: string;
  found: string;
}

/** Every way the restored database differs from the manifest (empty when it matches). */
export async function compareWithManifest(sql: Sql, manifest: BackupManifest): Promise<ManifestDifference[]> {
  const differences: ManifestDifference[] = [];
  const version = await migrationVersion(sql);
  if (version !== manifest.migration_version)
    differences.push({ what: 'migration ledger version', expected: manifest.migration_version, found: version });
  const found = await measureTables(sql);
  for (const [table, figures] of Object.entries(manifest.tables)) {
    const restored = found[table];
    if (!restored) differences.push({ what: `table ${table}`, expected: 'present', found: 'missing' });
    else if (restored.rows !== figures.rows)
      differences.push({ what: `rows of ${table}`, expected: String(figures.rows), found: String(restored.rows) });
    else if (restored.checksum !== figures.checksum)
      differences.push({ what: `checksum of ${table}`, expected: figures.checksum, found: restored.checksum });
  }
  for (const table of Object.keys(found))
    if (!(table in manifest.tables)) differences.push({ what: `table ${table}`, expected: 'absent', found: 'present' });
  const withoutRls = await tablesWithoutRls(sql);
  for (const table of withoutRls) differences.push({ what: `row-level security on ${table}`, expected: 'on', found: 'off' });
  return differences;
}
