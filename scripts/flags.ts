// Feature flags from a terminal, through the workers' OpenFeature client (so it sees what a worker sees):
//   npm run flags -- list                                   every flag: kill switch, rules, version
//   npm run flags -- watch KEY [--user UUID] [--team UUID]   the flag's value for that caller now and on every
//                                                             change, one JSON line each, until Ctrl-C
// Reads the database settings like a worker (environment, then ENV_FILE or ./.env). Flags are changed in the
// admin console or with PUT /api/flags/definitions/{key}: those changes are audited.
import { parseArgs } from 'node:util';
import { ErrorCode, ProviderEvents, type EvaluationContext, type EvaluationDetails } from '@openfeature/server-sdk';
import { createLogger } from '../functions/_shared/log.ts';
import { connectWorkerDatabase } from '../workers/lib/postgres.ts';
import { startWorkerFlags } from '../workers/lib/flags.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../workers/lib/worker-config.ts';

const USAGE = 'Usage: npm run flags -- list | watch KEY [--user UUID] [--team UUID]';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { user: { type: 'string' }, team: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
});
const [command, key] = positionals;
if (values.help || !command || !['list', 'watch'].includes(command) || (command === 'watch' && !key)) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

const config = loadWorkerConfig('flags', process.env, WORKER_VARIABLES.flags);
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'flags-cli' } });
const sql = connectWorkerDatabase(config, { applicationName: 'microdao-flags-cli', max: 2 });
const flags = await startWorkerFlags(sql, { environment: config.APP_ENV, service: 'flags-cli', logger });

if (command === 'list') {
  const details = await sql`select key, kind, enabled, default_value, rules, version::int from public.feature_flags order by key`;
  for (const flag of details) console.log(JSON.stringify(flag));
  await flags.close();
  await sql.end({ timeout: 2 });
} else {
  const context: EvaluationContext = { teams: values.team ?? [], ...(values.user ? { targetingKey: values.user } : {}) };
  const print = async () => {
    // a boolean flag, or else a variant flag
    let details: EvaluationDetails<boolean | string> = await flags.client.getBooleanDetails(key!, false, context);
    if (details.errorCode === ErrorCode.TYPE_MISMATCH) details = await flags.client.getStringDetails(key!, '', context);
    const version = details.flagMetadata.version ?? null;
    console.log(JSON.stringify({ key, value: details.value, reason: details.reason, version, at: new Date().toISOString() }));
  };
  flags.client.addHandler(ProviderEvents.ConfigurationChanged, (event) => {
    if (!event?.flagsChanged || event.flagsChanged.includes(key!)) void print();
  });
  await print();
  const stop = async () => {
    await flags.close();
    await sql.end({ timeout: 2 });
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
