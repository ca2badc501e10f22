// Operator commands for the outbox and its streams:
//   node --import tsx workers/outbox-relay/cli.ts <status|replay|retention|requeue|provision> [options]
// (npm run outbox:status, outbox:replay, outbox:retention, outbox:requeue, outbox:provision).
import { jetstreamManager } from '@nats-io/jetstream';
import { parseArgs } from 'node:util';
import { streamDefinitions } from '../../functions/_shared/events/streams.ts';
import { parseTime, UsageError } from '../lib/cli.ts';
import { connectNats } from '../lib/nats.ts';
import { connectWorkerDatabase, type Sql } from '../lib/postgres.ts';
import { ensureStreams } from '../lib/streams.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { replayRange, requeueDeadLetters } from './replay.ts';
import { countPrunable, pruneProcessedEvents } from './retention.ts';
import { formatOutboxStatus, formatStreamStatus, readOutboxStatus, readStreamStatus, type StreamStatus } from './status.ts';

const USAGE = `Usage: outbox <command> [options]

Commands:
  status                      backlog, oldest unprocessed event, dead letters, lanes, streams and consumers
    --json                    print one JSON object instead
  replay --since <time>       publish the events written since <time> again (a running relay does it)
    --until <time>            end of the range (exclusive); default: now
    --dry-run                 count the events, change nothing
                              Each replayed aggregate's later events are published again too, after the
                              range: its events then end the stream in commit order (replaying the range
                              alone would put them behind later ones once the duplicate window has passed)
  retention                   delete published outbox rows older than OUTBOX_RETENTION_HOURS
    --hours <n>               another window, in hours
    --dry-run                 count the rows, delete nothing
  requeue --id <uuid> | --all put dead letters back in the outbox (fix their cause first); --id repeats
  provision                   create or update the event streams of NATS_STREAM_EVENTS
    --dry-run                 print the stream definitions, touch nothing

<time> is ISO 8601 (2026-11-27T10:00:00Z) or an age: 90s, 15m, 2h, 3d.
Configuration comes from the environment (and ./.env), as for the relay.`;

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        since: { type: 'string' },
        until: { type: 'string' },
        hours: { type: 'string' },
        id: { type: 'string', multiple: true },
        all: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    console.error(`outbox: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
})();
const command = positionals[0];
if (values.help || !command) {
  console.log(USAGE);
  process.exit(command || values.help ? 0 : 2);
}

const config = loadWorkerConfig('outbox', process.env, WORKER_VARIABLES.relay);
const definitions = streamDefinitions(config);
const dryRun = values['dry-run'] === true;
const say = (line: string) => console.log(line);

async function withDatabase<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connectWorkerDatabase(config, { applicationName: 'microdao-outbox-cli', max: 2 });
  try {
    return await work(sql);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND') {
      throw new Error(`cannot reach Postgres at ${config.DB_HOST}:${config.DB_PORT}: is it running, and are the DB_* settings right?`, {
        cause: error,
      });
    }
    if (code === '42P01' || code === '42883') {
      throw new Error(`the database ${config.DB_NAME} is not migrated: run \`npm run migrate -- up\``, { cause: error });
    }
    throw error;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function withJetStream<T>(work: (jsm: Awaited<ReturnType<typeof jetstreamManager>>) => Promise<T>): Promise<T> {
  let nc;
  try {
    nc = await connectNats(config, { name: 'microdao-outbox-cli', failFast: true });
  } catch (error) {
    throw new Error(`cannot reach NATS at ${config.NATS_URL} (${(error as Error).message}): is nats-server running with -js?`, {
      cause: error,
    });
  }
  try {
    return await work(await jetstreamManager(nc));
  } finally {
    await nc.close();
  }
}

async function status(): Promise<number> {
  let failed = 0;
  const outbox = await withDatabase(readOutboxStatus).catch((error: Error) => {
    failed += 1;
    return error;
  });
  const streams = await withJetStream((jsm) => readStreamStatus(jsm, definitions)).catch((error: Error) => {
    failed += 1;
    return error;
  });
  if (values.json) {
    const asJson = (part: unknown) => (part instanceof Error ? { error: part.message } : part);
    say(JSON.stringify({ outbox: asJson(outbox), streams: asJson(streams) }, null, 2));
  } else {
    say(outbox instanceof Error ? `outbox: ${outbox.message}` : formatOutboxStatus(outbox));
    say(streams instanceof Error ? `streams: ${streams.message}` : formatStreamStatus(streams as StreamStatus[]));
  }
  return failed ? 1 : 0;
}

async function replay(): Promise<number> {
  if (!values.since) throw new UsageError('replay needs --since <time>, e.g. --since 2h or --since 2026-11-27T10:00:00Z');
  const range = { since: parseTime(values.since, '--since'), until: values.until ? parseTime(values.until, '--until') : undefined };
  if (range.until && range.until <= range.since) throw new UsageError('--until must be later than --since');
  const label = `${range.since.toISOString()} .. ${range.until?.toISOString() ?? 'now'}`;
  const { inRange, aggregateTails } = await withDatabase((sql) => replayRange(sql, range, { dryRun }));
  const tails = `, and ${aggregateTails} later events of the same aggregates (to keep each aggregate in order)`;
  if (dryRun) say(`would replay ${inRange} published events written ${label}${tails}`);
  else {
    say(`replaying ${inRange} events written ${label}${tails}: the running relays publish them again`);
    say('within the duplicate window the stream drops them; consumers skip event ids they already processed');
  }
  return 0;
}

async function retention(): Promise<number> {
  const hours = values.hours === undefined ? config.OUTBOX_RETENTION_HOURS : Number(values.hours);
  if (!Number.isFinite(hours) || hours <= 0) throw new UsageError(`--hours '${values.hours}' must be a positive number of hours`);
  if (dryRun) {
    say(`would delete ${await withDatabase((sql) => countPrunable(sql, hours))} published outbox rows older than ${hours} h`);
    return 0;
  }
  say(`deleting published outbox rows older than ${hours} h, 1000 per statement`);
  const deleted = await withDatabase((sql) =>
    pruneProcessedEvents(sql, { olderThanHours: hours, onBatch: (n) => n > 0 && process.stdout.write('.') }),
  );
  say(`\ndeleted ${deleted} rows`);
  return 0;
}

async function requeue(): Promise<number> {
  const ids = values.id ?? [];
  if (!values.all && ids.length === 0) throw new UsageError('requeue needs --id <uuid> (repeatable) or --all');
  const bad = ids.find((id) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  if (bad) throw new UsageError(`--id '${bad}' is not an event id (a uuid from \`npm run outbox:status\`)`);
  const count = await withDatabase((sql) => requeueDeadLetters(sql, values.all ? 'all' : ids));
  say(`requeued ${count} dead letters; the relays publish them after the events already in the stream`);
  return 0;
}

async function provision(): Promise<number> {
  if (dryRun) {
    say(JSON.stringify(definitions, null, 2));
    return 0;
  }
  const results = await withJetStream((jsm) => ensureStreams(jsm, definitions));
  for (const [name, result] of Object.entries(results)) say(`stream ${name}: ${result}`);
  return 0;
}

const commands: Record<string, () => Promise<number>> = { status, replay, retention, requeue, provision };
const run = commands[command];
if (!run) {
  console.error(`outbox: unknown command '${command}'\n\n${USAGE}`);
  process.exit(2);
}
try {
  process.exit(await run());
} catch (error) {
  console.error(`outbox ${command}: ${(error as Error).message}`);
  process.exit(error instanceof UsageError ? 2 : 1);
}
