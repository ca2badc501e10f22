// Where the test suite finds its real backing services. scripts/test.sh makes sure they are up; these
// defaults are the standard ports, overridable for a machine whose servers live elsewhere.
export const testServices = {
  /** A superuser connection to the maintenance database; tests create and drop their own databases. */
  postgresAdminUrl: process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
  natsUrl: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** The same server as postgresAdminUrl, another database. */
export function databaseUrlFor(database: string): string {
  const url = new URL(testServices.postgresAdminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Identifies this test run in every database, stream and key it creates, so runs never collide. */
export function testRunId(): string {
  const id = process.env.MICRODAO_TEST_RUN_ID;
  if (!id) throw new Error('MICRODAO_TEST_RUN_ID is not set: run tests through vitest (tests/harness/global-setup.ts sets it)');
  return id;
}

let counter = 0;
/** A name unique within the run and the worker: `<prefix>_<run>_<pid>_<n>`, safe for databases and streams. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}_${testRunId()}_${process.pid}_${counter}`.toLowerCase();
}
