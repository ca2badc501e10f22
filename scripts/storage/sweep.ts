// `npm run storage:sweep [-- --apply] [-- --grace-minutes N]`: the storage sweeper as a command (see sweeper.ts).
import { loadConfig } from '../../functions/_shared/config.ts';
import { createDatabase } from '../../functions/_shared/db.ts';
import { createObjectStore, storageConfigured } from '../../functions/_shared/object-store.ts';
import { sweepStorage } from './sweeper.ts';

const args = process.argv.slice(2);
const apply = args.includes('--apply');
const graceIndex = args.indexOf('--grace-minutes');
const graceMinutes = graceIndex >= 0 ? Number(args[graceIndex + 1]) : 60;
if (!Number.isFinite(graceMinutes) || graceMinutes < 0) {
  console.error('storage:sweep: --grace-minutes takes a number of minutes (default 60)');
  process.exit(2);
}
const config = loadConfig(process.env);
if (!storageConfigured(config)) {
  console.error('storage:sweep: storage is not configured (STORAGE_BUCKET and the S3 key pair)');
  process.exit(2);
}
const sql = createDatabase(config, { applicationName: 'storage-sweeper' });
try {
  const report = await sweepStorage(sql, createObjectStore(config), { apply, graceMs: graceMinutes * 60_000 });
  console.log(JSON.stringify({ apply, ...report }, null, 2));
} finally {
  await sql.end({ timeout: 5 });
}
