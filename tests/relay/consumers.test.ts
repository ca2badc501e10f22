// The durable consumer module and the telemetry consumer, against the shared NATS server (fresh stream and
// prefix) and a fresh database: exactly-once effects, redelivery with delay, dead letters.
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { subjectFor, type EventType } from '../../functions/_shared/events/catalog.ts';
import { DEAD_LETTER_HEADERS, EVENT_HEADERS, REQUEUE_HEADERS } from '../../functions/_shared/events/headers.ts';
import { createLogger, type LogRecord } from '../../functions/_shared/log.ts';
import type { ErrorReporter, ErrorTags } from '../../functions/_shared/sentry.ts';
import { testServices } from '../harness/services.ts';
import { connectWorkerDatabase } from '../../workers/lib/postgres.ts';
import { DurableConsumer, type DurableConsumerOptions, type EventHandler } from '../../workers/consumers/durable-consumer.ts';
import { countEvent, readEventCounts } from '../../workers/consumers/telemetry/telemetry.ts';
import { channelArchived, messageCreated } from './support/events.ts';
import { useSharedNats } from './support/fixture.ts';
import { databaseSettings, enqueue, spawnWorker, startRelay, waitFor, type StreamSettings } from './support/relay-env.ts';
import { readStream } from './support/stream-reader.ts';
import { startingUp, startTcpProxy } from './support/tcp-proxy.ts';

const fixture = useSharedNats();

/** The fixture's fresh database and streams, plus a worker connection to that database. */
async function setUp(label: string) {
  const { db, streams } = await fixture.setUp(label);
  const sql = connectWorkerDatabase(databaseSettings(db.url), { applicationName: 'consumer-test', max: 2 });
  fixture.afterTest(() => sql.end());
  return { db, streams, sql };
}

/** Publishes an event the way the relay does (payload body, envelope in headers). */
async function publishEvent(streams: StreamSettings, type: EventType, payload: unknown, id: string = randomUUID()): Promise<string> {
  const h = natsHeaders();
  h.set(EVENT_HEADERS.id, id);
  h.set(EVENT_HEADERS.type, type);
  h.set(EVENT_HEADERS.version, '1');
  h.set(EVENT_HEADERS.aggregateType, type.split('.')[0]!);
  h.set(EVENT_HEADERS.aggregateId, 'a-1');
  h.set(EVENT_HEADERS.occurredAt, new Date().toISOString());
  await jetstream(fixture.nc).publish(subjectFor(streams.NATS_SUBJECT_PREFIX, type), JSON.stringify(payload), { headers: h });
  return id;
}

/** An error reporter that keeps what it is given (the real one, to a Sentry endpoint: workers/lib/sentry.test.ts). */
function recordingReporter() {
  const reports: { error: unknown; tags: ErrorTags }[] = [];
  const reporter: ErrorReporter = {
    enabled: true,
    report: (error, tags = {}) => void reports.push({ error, tags }),
    flush: async () => true,
  };
  return { reporter, reports };
}

const deadLetterCount = async (streams: StreamSettings) =>
  (await fixture.jsm.streams.info(`${streams.NATS_STREAM_EVENTS}_DLQ`)).state.messages;

async function startConsumer(
  streams: StreamSettings,
  sql: DurableConsumerOptions['sql'],
  handle: EventHandler,
  overrides: Partial<DurableConsumerOptions> = {},
): Promise<DurableConsumer> {
  const consumer = new DurableConsumer({
    nc: fixture.nc,
    jsm: fixture.jsm,
    sql,
    stream: streams.NATS_STREAM_EVENTS,
    subjectPrefix: streams.NATS_SUBJECT_PREFIX,
    name: 'telemetry',
    handle,
    maxDeliver: 3,
    ackWaitMs: 5000,
    nakDelayMs: 100,
    logger: createLogger({ level: 'error', sink: () => {} }),
    ...overrides,
  });
  await consumer.start();
  fixture.afterTest(() => consumer.stop());
  return consumer;
}

describe('durable consumers', () => {
  it('telemetry counts every event per type exactly once, even when the consumer reads the stream again', async () => {
    const { streams, sql } = await setUp('consumer_telemetry');
    for (let n = 0; n < 12; n += 1) await publishEvent(streams, 'message.created', messageCreated());
    for (let n = 0; n < 5; n += 1) await publishEvent(streams, 'channel.archived', channelArchived());
    let duplicates = 0;
    const hooks = { handled: (e: { duplicate: boolean }) => void (e.duplicate && (duplicates += 1)) };
    const first = await startConsumer(streams, sql, countEvent, { hooks });
    const expected = [
      { eventType: 'channel.archived', events: 5 },
      { eventType: 'message.created', events: 12 },
    ];
    await waitFor('the counts', async () => JSON.stringify(await readEventCounts(sql)) === JSON.stringify(expected));
    await first.stop();

    // the durable consumer is lost and created again: it reads the whole stream a second time
    await fixture.jsm.consumers.delete(streams.NATS_STREAM_EVENTS, 'telemetry');
    await startConsumer(streams, sql, countEvent, { hooks });
    await waitFor('every message to be seen again', () => duplicates === 17);
    expect(await readEventCounts(sql)).toEqual(expected);
    const info = await fixture.jsm.consumers.info(streams.NATS_STREAM_EVENTS, 'telemetry');
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });

  it('redelivers a failing event with a growing delay, rolls back its writes, and dead-letters it after the last delivery', async () => {
    const { streams, sql } = await setUp('consumer_failing');
    const poison = await publishEvent(streams, 'message.created', messageCreated());
    const fine = await publishEvent(streams, 'message.created', messageCreated());
    const attempts: number[] = [];
    const handle: EventHandler = async (event, tx) => {
      await countEvent(event, tx);
      if (event.id === poison) {
        attempts.push(Date.now());
        throw new Error('the wallet is unreachable');
      }
    };
    await startConsumer(streams, sql, handle);
    await waitFor(
      'the dead letter',
      async () => (await fixture.jsm.streams.info(`${streams.NATS_STREAM_EVENTS}_DLQ`)).state.messages === 1,
    );

    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(90); // nak delay 100 ms, then 200 ms
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(190);
    expect(await readEventCounts(sql)).toEqual([{ eventType: 'message.created', events: 1 }]);
    const processed = await sql<{ event_id: string }[]>`select event_id from public.consumer_processed_events`;
    expect(processed.map((p) => p.event_id)).toEqual([fine]);

    const [dead] = await readStream(fixture.nc, `${streams.NATS_STREAM_EVENTS}_DLQ`);
    expect(dead!.subject).toBe(`${streams.NATS_SUBJECT_PREFIX}.dead_letter.telemetry.message.created`);
    const raw = await fixture.jsm.streams.getMessage(`${streams.NATS_STREAM_EVENTS}_DLQ`, { seq: 1 });
    expect(raw!.header.get(DEAD_LETTER_HEADERS.reason)).toBe('handler_failed: failed 3 times, last: the wallet is unreachable');
    expect(raw!.header.get(DEAD_LETTER_HEADERS.deliveries)).toBe('3');
    expect(raw!.header.get(EVENT_HEADERS.type)).toBe('message.created');
  });

  it('keeps a message it holds longer than ack_wait from being redelivered: a slow failure is dead-lettered once, not handled again later', async () => {
    const { streams, sql } = await setUp('consumer_slow_handler');
    let broken = true;
    let calls = 0;
    const handle: EventHandler = async (event, tx) => {
      calls += 1;
      if (broken) {
        await new Promise((resolve) => setTimeout(resolve, 2_500)); // 2.5 × ack_wait
        throw new Error('the ledger is read-only');
      }
      await countEvent(event, tx);
    };
    await startConsumer(streams, sql, handle, { maxDeliver: 1, ackWaitMs: 1000 });
    await publishEvent(streams, 'message.created', messageCreated());
    await waitFor('the dead letter', async () => (await deadLetterCount(streams)) === 1);
    broken = false;
    // a redelivery would have been queued behind the slow first delivery and handled now, by a working handler
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(calls).toBe(1);
    expect(await readEventCounts(sql)).toEqual([]);
  });

  it('dead-letters at once what can never be handled: a payload off its schema, a message without an event id', async () => {
    const { streams, sql } = await setUp('consumer_invalid');
    const offSchema = await publishEvent(streams, 'message.created', { message_id: 'nope' });
    await jetstream(fixture.nc).publish(subjectFor(streams.NATS_SUBJECT_PREFIX, 'message.created'), JSON.stringify(messageCreated()));
    let handled = 0;
    await startConsumer(streams, sql, async () => void (handled += 1));
    await waitFor(
      'both dead letters',
      async () => (await fixture.jsm.streams.info(`${streams.NATS_STREAM_EVENTS}_DLQ`)).state.messages === 2,
    );
    const first = await fixture.jsm.streams.getMessage(`${streams.NATS_STREAM_EVENTS}_DLQ`, { seq: 1 });
    const second = await fixture.jsm.streams.getMessage(`${streams.NATS_STREAM_EVENTS}_DLQ`, { seq: 2 });
    expect(first!.header.get(DEAD_LETTER_HEADERS.reason)).toMatch(/^payload_schema: the message.created payload does not match its schema/);
    // one dead letter per consumer and stream message; the event id travels on for a requeue
    expect(first!.header.get(EVENT_HEADERS.id)).toBe(`telemetry:${offSchema}:1`);
    expect(first!.header.get(REQUEUE_HEADERS.eventId)).toBe(offSchema);
    expect(second!.header.get(DEAD_LETTER_HEADERS.reason)).toMatch(/^missing_event_id/);
    expect(first!.header.get(DEAD_LETTER_HEADERS.deliveries)).toBe('1');
    expect(handled).toBe(0);
  });

  it('end to end: outbox → relay → stream → the telemetry consumer process, which stops cleanly on SIGTERM', async () => {
    const { db, streams, sql } = await setUp('consumer_e2e');
    const relay = await startRelay(databaseSettings(db.url), testServices.natsUrl, streams);
    fixture.afterTest(() => relay.stop());
    for (let n = 0; n < 4; n += 1) await enqueue(db.sql, { type: 'message.created', aggregateId: `m-${n}`, payload: messageCreated() });
    await enqueue(db.sql, { type: 'channel.archived', aggregateId: 'c-1', payload: channelArchived() });

    const consumer = spawnWorker('workers/consumers/telemetry/main.ts', databaseSettings(db.url), testServices.natsUrl, streams, {
      NATS_CONSUMER_TELEMETRY: 'telemetry-e2e',
    });
    fixture.afterTest(async () => consumer.child.kill('SIGKILL'));
    await waitFor(
      'the counts',
      async () =>
        JSON.stringify(await readEventCounts(sql)) ===
        JSON.stringify([
          { eventType: 'channel.archived', events: 1 },
          { eventType: 'message.created', events: 4 },
        ]),
      20_000,
    );
    consumer.child.kill('SIGTERM');
    expect(await consumer.exited).toBe(0);
    const info = await fixture.jsm.consumers.info(streams.NATS_STREAM_EVENTS, 'telemetry-e2e');
    expect(info.num_pending + info.num_ack_pending).toBe(0);
  });

  it('holds its messages through a database outage longer than its retry budget: each is handled once, none dead-lettered', async () => {
    const { db, streams } = await fixture.setUp('consumer_db_outage');
    const direct = databaseSettings(db.url);
    const proxy = await startTcpProxy({ host: direct.DB_HOST, port: direct.DB_PORT });
    fixture.afterTest(async () => proxy.close());
    const sql = connectWorkerDatabase({ ...direct, DB_PORT: proxy.port }, { applicationName: 'consumer-outage', max: 2 });
    fixture.afterTest(() => sql.end({ timeout: 1 }));
    const { reporter, reports } = recordingReporter();
    const availability: boolean[] = [];
    const counted = async () => (await readEventCounts(db.sql)).reduce((n, c) => n + c.events, 0);
    // 3 handler failures with nak delays of 100 and 200 ms: before, a 300 ms blip dead-lettered a message
    await startConsumer(streams, sql, countEvent, {
      ackWaitMs: 1500,
      databaseProbeMaxMs: 200,
      reporter,
      hooks: { databaseAvailable: (available) => availability.push(available) },
    });
    for (let n = 0; n < 3; n += 1) await publishEvent(streams, 'message.created', messageCreated());
    await waitFor('the first events to be counted', async () => (await counted()) === 3);

    // the database restarts: open connections terminated (57P01), new ones told it is starting up (57P03)
    proxy.answerWith(startingUp);
    await db.sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'consumer-outage'`;
    for (let n = 0; n < 20; n += 1) await publishEvent(streams, 'message.created', messageCreated());
    await waitFor('the consumer to find the database away', () => availability.includes(false));
    // the outage lasts longer than the old retry budget and than the ack wait of the message held
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await deadLetterCount(streams)).toBe(0);
    await proxy.accept();

    await waitFor('every event to be counted', async () => (await counted()) === 23);
    const [processed] = await db.sql<{ n: number }[]>`select count(distinct event_id)::int as n from public.consumer_processed_events`;
    expect(processed!.n).toBe(23);
    expect(await deadLetterCount(streams)).toBe(0);
    expect(availability).toEqual([false, true]);
    // one report for the outage, however many times the consumer found the database away
    expect(reports.map((r) => r.tags.incident)).toEqual(['database_unavailable']);
    expect(reports[0]!.tags).toMatchObject({ consumer: 'telemetry', event_type: 'message.created' });
    await waitFor('nothing to be left unacknowledged', async () => {
      const info = await fixture.jsm.consumers.info(streams.NATS_STREAM_EVENTS, 'telemetry');
      return info.num_pending + info.num_ack_pending === 0;
    });
  });

  it('leaves an event type it does not know for a newer version: offered again after a delay, logged once, never dead-lettered', async () => {
    const { streams, sql } = await setUp('consumer_unknown_type');
    // a newer relay provisioned the stream with a type this consumer's catalog lacks
    const { config } = await fixture.jsm.streams.info(streams.NATS_STREAM_EVENTS);
    await fixture.jsm.streams.update(streams.NATS_STREAM_EVENTS, {
      subjects: [...config.subjects, `${streams.NATS_SUBJECT_PREFIX}.wallet.minted`],
    });
    for (let n = 0; n < 2; n += 1) {
      const h = natsHeaders();
      h.set(EVENT_HEADERS.id, randomUUID());
      h.set(EVENT_HEADERS.type, 'wallet.minted');
      await jetstream(fixture.nc).publish(`${streams.NATS_SUBJECT_PREFIX}.wallet.minted`, JSON.stringify({ amount: 5 }), { headers: h });
    }
    await publishEvent(streams, 'message.created', messageCreated());
    const logs: LogRecord[] = [];
    const deferred: string[] = [];
    await startConsumer(streams, sql, countEvent, {
      unknownTypeDelayMs: 300,
      logger: createLogger({ level: 'warn', sink: (line) => logs.push(JSON.parse(line) as LogRecord) }),
      hooks: { deferredUnknownType: ({ type }) => deferred.push(type) },
    });
    await waitFor('both messages to be offered again after their delay', () => deferred.length >= 4);

    expect(new Set(deferred)).toEqual(new Set(['wallet.minted']));
    expect(logs.filter((l) => l.event_type === 'wallet.minted').map((l) => l.msg)).toEqual([
      'event type unknown to this consumer version; leaving its messages for a newer one',
    ]);
    expect(await deadLetterCount(streams)).toBe(0);
    expect(await readEventCounts(sql)).toEqual([{ eventType: 'message.created', events: 1 }]);
  });

  it('consumer:requeue-dlq puts dead letters back for their consumer alone, since a time, after a dry run', async () => {
    const { db, streams, sql } = await setUp('consumer_requeue_dlq');
    let broken = true;
    const handle: EventHandler = async (event, tx) => {
      if (broken) throw new Error('the wallet ledger is read-only');
      await countEvent(event, tx);
    };
    const bystanderHandled: string[] = [];
    await startConsumer(streams, sql, handle, { maxDeliver: 1 });
    await startConsumer(streams, sql, async () => {}, { name: 'bystander', hooks: { handled: ({ type }) => bystanderHandled.push(type) } });
    const before = await publishEvent(streams, 'message.created', messageCreated());
    await waitFor('the first dead letter', async () => (await deadLetterCount(streams)) === 1);
    const between = new Date();
    const after = await publishEvent(streams, 'channel.archived', channelArchived());
    await waitFor('the second dead letter', async () => (await deadLetterCount(streams)) === 2);
    await waitFor('the bystander to handle both', () => bystanderHandled.length === 2);
    broken = false;

    const settings = databaseSettings(db.url);
    const requeue = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'workers/consumers/cli.ts', 'requeue-dlq', ...args], {
          env: {
            PATH: process.env.PATH,
            ENV_FILE: '/nonexistent/.env',
            APP_ENV: 'test',
            DB_HOST: settings.DB_HOST,
            NATS_URL: testServices.natsUrl,
            NATS_STREAM_EVENTS: streams.NATS_STREAM_EVENTS,
            NATS_SUBJECT_PREFIX: streams.NATS_SUBJECT_PREFIX,
          },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('exit', (code) => resolve({ code, stdout, stderr }));
      });

    const usage = await requeue('--since', '1h');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--consumer <name> is required');
    const nobody = await requeue('--consumer', 'nobody');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("has no consumer 'nobody'");

    const dry = await requeue('--consumer', 'telemetry', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`would requeue message.created ${before}`);
    expect(dry.stdout).toContain('would requeue 2 of 2 dead letters');
    expect(await deadLetterCount(streams)).toBe(2);

    // within the stream's duplicate window: the copies must not be dropped as duplicates of the originals
    const since = await requeue('--consumer', 'telemetry', '--since', between.toISOString());
    expect(since.code, since.stderr).toBe(0);
    expect(since.stdout).toContain(`requeued channel.archived ${after}`);
    expect(since.stdout).toContain('requeued 1 of 1 dead letters');
    // the copy goes consumer → stream → consumer (it once seemed slow under load: the original dead letter was
    // being redelivered, and counted, because nats-server 2.9 ignored `+TERM <reason>`; see durable-consumer.ts)
    await waitFor('the requeued event to be counted', async () => (await readEventCounts(sql)).length === 1, 45_000);
    expect(await readEventCounts(sql)).toEqual([{ eventType: 'channel.archived', events: 1 }]);

    const rest = await requeue('--consumer', 'telemetry');
    expect(rest.stdout).toContain('requeued 1 of 1 dead letters');
    await waitFor('both events to be counted', async () => (await readEventCounts(sql)).length === 2, 45_000);
    expect(await deadLetterCount(streams)).toBe(0);
    const processed = await sql<{ event_id: string }[]>`
      select event_id from public.consumer_processed_events where consumer = 'telemetry' order by event_id`;
    expect(processed.map((p) => p.event_id)).toEqual([before, after].sort());
    // the other consumer of the stream skipped the copies instead of handling them again
    const bystander = await fixture.jsm.consumers.info(streams.NATS_STREAM_EVENTS, 'bystander');
    expect(bystander.delivered.stream_seq).toBe(4);
    expect(bystanderHandled).toHaveLength(2);
  }, 150_000);
});
