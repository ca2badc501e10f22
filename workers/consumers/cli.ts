// Operator commands for the consumers: `node --import tsx workers/consumers/cli.ts requeue-dlq [options]`
// (npm run consumer:requeue-dlq -- --consumer NAME [--since T] [--dry-run]) puts a consumer's dead letters
// back into the events stream for that consumer (dead-letters.ts says how, and why it is safe to repeat).
import { jetstreamManager } from '@nats-io/jetstream';
import { parseArgs } from 'node:util';
import { parseTime, UsageError } from '../lib/cli.ts';
import { connectNats } from '../lib/nats.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { deadLetterStreamOf, requeueConsumerDeadLetters, type RequeueOutcome } from './dead-letters.ts';

const USAGE = `Usage: npm run consumer:requeue-dlq -- --consumer <name> [--since <time>] [--dry-run]

Republishes the dead letters of one durable consumer (<NATS_STREAM_EVENTS>_DLQ, subjects
<prefix>.dead_letter.<name>.>) to the events stream, for that consumer only. Fix their cause first (the
reason is printed for each). The consumer skips event ids it already processed, so a repeat is harmless.
Requeued messages leave the dead-letter stream; one that fails again is dead-lettered again.

  --consumer <name>   the durable consumer (e.g. telemetry, wallet: NATS_CONSUMER_*)
  --since <time>      only what was dead-lettered since <time>: ISO 8601 or an age (90s, 15m, 2h, 3d)
  --dry-run           list what would be requeued, change nothing

Configuration comes from the environment (and ./.env): NATS_URL, NATS_STREAM_EVENTS, NATS_SUBJECT_PREFIX.`;

function parseCommandLine() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      consumer: { type: 'string' },
      since: { type: 'string' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  if (positionals[0] !== 'requeue-dlq') {
    throw new UsageError(positionals[0] ? `unknown command '${positionals[0]}'` : 'which command? requeue-dlq is the one there is');
  }
  if (!values.consumer) throw new UsageError('--consumer <name> is required: the durable consumer whose dead letters to requeue');
  if (!/^[A-Za-z0-9_-]+$/.test(values.consumer)) {
    throw new UsageError(`--consumer '${values.consumer}' is not a durable consumer name (letters, digits, - and _)`);
  }
  return {
    consumer: values.consumer,
    since: values.since === undefined ? undefined : parseTime(values.since, '--since'),
    dryRun: values['dry-run'] === true,
  };
}

function describe(outcome: RequeueOutcome): string {
  const d = outcome.deadLetter;
  const what = `${d.eventType} ${d.eventId ?? '(no event id)'} (dead letter #${d.sequence}, ${d.at.toISOString()}: ${d.reason})`;
  switch (outcome.status) {
    case 'requeued':
      return `requeued ${what}`;
    case 'would_requeue':
      return `would requeue ${what}`;
    default:
      return `${outcome.status} ${what}: ${outcome.why}`;
  }
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseCommandLine>;
  try {
    options = parseCommandLine();
  } catch (error) {
    console.error(`consumer:requeue-dlq: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  const config = loadWorkerConfig('consumer:requeue-dlq', process.env, WORKER_VARIABLES.consumer);
  const dlq = deadLetterStreamOf(config.NATS_STREAM_EVENTS);
  let nc;
  try {
    nc = await connectNats(config, { name: 'microdao-requeue-dlq', failFast: true });
  } catch (error) {
    console.error(
      `consumer:requeue-dlq: cannot reach NATS at ${config.NATS_URL} (${(error as Error).message}): is nats-server running with -js?`,
    );
    return 1;
  }
  try {
    const since = options.since ? ` dead-lettered since ${options.since.toISOString()}` : '';
    console.log(`${options.dryRun ? 'listing' : 'requeueing'} the dead letters of consumer ${options.consumer}${since} from ${dlq}`);
    const outcomes = await requeueConsumerDeadLetters(nc, await jetstreamManager(nc), {
      stream: config.NATS_STREAM_EVENTS,
      subjectPrefix: config.NATS_SUBJECT_PREFIX,
      consumer: options.consumer,
      since: options.since,
      dryRun: options.dryRun,
      onOutcome: (outcome) => console.log(describe(outcome)),
    });
    const count = (status: RequeueOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    console.log(
      options.dryRun
        ? `would requeue ${count('would_requeue')} of ${outcomes.length} dead letters; ${count('skipped')} skipped`
        : `requeued ${count('requeued')} of ${outcomes.length} dead letters; ${count('skipped')} skipped, ${count('failed')} failed`,
    );
    return count('failed') > 0 ? 1 : 0;
  } catch (error) {
    console.error(`consumer:requeue-dlq: ${(error as Error).message}`);
    return 1;
  } finally {
    await nc.close();
  }
}

process.exit(await main());
