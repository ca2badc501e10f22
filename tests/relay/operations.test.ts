// Operating the outbox: retention, replay, requeueing dead letters and the status command.
import { execFile } from 'node:child_process';
import postgres from 'postgres';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { TestDatabase } from '../harness/database.ts';
import { testServices } from '../harness/services.ts';
import { connectWorkerDatabase } from '../../workers/lib/postgres.ts';
import { replayRange, requeueDeadLetters } from '../../workers/outbox-relay/replay.ts';
import { pruneProcessedEvents } from '../../workers/outbox-relay/retention.ts';
import { readOutboxStatus } from '../../workers/outbox-relay/status.ts';
import { messageCreated } from './support/events.ts';
import { useSharedNats } from './support/fixture.ts';
import {
  backlog,
  databaseSettings,
  deleteStreams,
  enqueue,
  provision,
  startRelay,
  waitFor,
  type StreamSettings,
} from './support/relay-env.ts';
import { readStream } from './support/stream-reader.ts';

const run = promisify(execFile);
const fixture = useSharedNats();

function cliEnvironment(db: TestDatabase, streams: StreamSettings): NodeJS.ProcessEnv {
  const s = databaseSettings(db.url);
  return {
    PATH: process.env.PATH,
    ENV_FILE: '/nonexistent/.env',
    APP_ENV: 'test',
    DB_HOST: s.DB_HOST,
    DB_PORT: String(s.DB_PORT),
    DB_NAME: s.DB_NAME,
    DB_USER: s.DB_USER,
    NATS_URL: testServices.natsUrl,
    NATS_STREAM_EVENTS: streams.NATS_STREAM_EVENTS,
    NATS_SUBJECT_PREFIX: streams.NATS_SUBJECT_PREFIX,
  };
}

async function outboxCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'workers/outbox-relay/cli.ts', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('outbox operations', () => {
  it('retention deletes published rows past the window in small batches, and keeps the rest', async () => {
    const { db } = await fixture.setUp('relay_retention');
    await db.sql`
      insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload, processed, processed_at)
      select 'message', 'm-' || g, 'message.created', '{}', true, now() - interval '10 days'
      from generate_series(1, 2500) g`;
    await db.sql`
      insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload, processed, processed_at)
      select 'message', 'recent-' || g, 'message.created', '{}', true, now() - interval '1 hour' from generate_series(1, 10) g`;
    await db.sql`insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload) values ('message', 'pending', 'message.created', '{}')`;
    await db.sql`
      insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload, dead_lettered_at, attempts, last_error)
      values ('message', 'dead', 'message.created', '{}', now() - interval '30 days', 5, 'payload_schema: test')`;

    const sql = connectWorkerDatabase(databaseSettings(db.url), { applicationName: 'retention-test', max: 1 });
    fixture.afterTest(() => sql.end());
    const statements: number[] = [];
    const deleted = await pruneProcessedEvents(sql, {
      olderThanHours: 24 * 7,
      batchSize: 1000,
      pauseMs: 0,
      onBatch: (n) => statements.push(n),
    });
    expect(deleted).toBe(2500);
    expect(statements).toEqual([1000, 1000, 500]);
    const rest = await db.sql`select aggregate_id from public.outbox_events order by aggregate_id`;
    expect(rest.map((r) => r.aggregate_id)).toEqual(['dead', 'pending', ...Array.from({ length: 10 }, (_, i) => `recent-${i + 1}`).sort()]);
  });

  it('replay republishes a range: deduplicated within the window, published again once the stream lost it', async () => {
    const { db, streams } = await fixture.setUp('relay_replay');
    const early = await enqueue(db.sql, { type: 'message.created', aggregateId: 'old', payload: messageCreated() });
    await db.sql`update public.outbox_events set created_at = now() - interval '3 hours' where id = ${early}`;
    const recent: string[] = [];
    for (let n = 0; n < 5; n += 1)
      recent.push(await enqueue(db.sql, { type: 'message.created', aggregateId: `m-${n % 2}`, payload: messageCreated() }));
    const relay = await startRelay(databaseSettings(db.url), testServices.natsUrl, streams);
    fixture.afterTest(() => relay.stop());
    await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0);
    const streamLength = async () => (await fixture.jsm.streams.info(streams.NATS_STREAM_EVENTS)).state.messages;
    expect(await streamLength()).toBe(6);

    const sql = connectWorkerDatabase(databaseSettings(db.url), { applicationName: 'replay-test', max: 1 });
    fixture.afterTest(() => sql.end());
    const since = new Date(Date.now() - 3_600_000);
    expect(await replayRange(sql, { since }, { dryRun: true })).toEqual({ inRange: 5, aggregateTails: 0 });
    expect(await replayRange(sql, { since })).toEqual({ inRange: 5, aggregateTails: 0 });
    await waitFor('the replayed events to be published again', async () => (await backlog(db.sql)) === 0);
    expect(await streamLength()).toBe(6); // within the duplicate window: the stream dropped them

    // the stream is lost and created again (a purge would keep its memory of recent ids and drop the replay)
    await deleteStreams(fixture.jsm, streams);
    await provision(fixture.jsm, streams);
    expect(await replayRange(sql, { since })).toEqual({ inRange: 5, aggregateTails: 0 });
    await waitFor('the replayed events to be published again', async () => (await backlog(db.sql)) === 0);
    const stored = await readStream(fixture.nc, streams.NATS_STREAM_EVENTS);
    expect(stored.map((e) => e.id)).toEqual(recent); // the 3-hour-old event is outside the range
  });

  it('replays each aggregate to its tail, so a range past the duplicate window cannot reorder it', async () => {
    const { db, streams } = await fixture.setUp('relay_replay_tail');
    const ids: Record<string, string> = {};
    for (const [name, aggregateId, hoursAgo] of [
      ['a1', 'a', 3],
      ['b1', 'b', 3],
      ['a2', 'a', 1],
      ['c1', 'c', 1],
    ] as const) {
      ids[name] = await enqueue(db.sql, { type: 'message.created', aggregateId, payload: messageCreated() });
      await db.sql`update public.outbox_events set created_at = now() - ${hoursAgo} * interval '1 hour' where id = ${ids[name]!}`;
    }
    const relay = await startRelay(databaseSettings(db.url), testServices.natsUrl, streams);
    fixture.afterTest(() => relay.stop());
    await waitFor('the outbox to drain', async () => (await backlog(db.sql)) === 0);

    // the stream is lost and recreated (as past the window: nothing is dropped as a duplicate), and the
    // operator replays the range holding a1 and b1 only
    await deleteStreams(fixture.jsm, streams);
    await provision(fixture.jsm, streams);
    const sql = connectWorkerDatabase(databaseSettings(db.url), { applicationName: 'replay-test', max: 1 });
    fixture.afterTest(() => sql.end());
    const range = { since: new Date(Date.now() - 4 * 3_600_000), until: new Date(Date.now() - 2 * 3_600_000) };
    expect(await replayRange(sql, range, { dryRun: true })).toEqual({ inRange: 2, aggregateTails: 1 });
    expect(await replayRange(sql, range)).toEqual({ inRange: 2, aggregateTails: 1 });
    await waitFor('the replayed events to be published again', async () => (await backlog(db.sql)) === 0);

    // a's later event follows a1 again; c, with nothing in the range, is left alone
    const stored = await readStream(fixture.nc, streams.NATS_STREAM_EVENTS);
    const order = stored.map((e) => Object.keys(ids).find((name) => ids[name] === e.id));
    expect(order.filter((name) => name!.startsWith('a'))).toEqual(['a1', 'a2']);
    expect([...order].sort()).toEqual(['a1', 'a2', 'b1']);
  });

  it('requeues a dead letter so the relay publishes it once its cause is fixed', async () => {
    const { db, streams } = await fixture.setUp('relay_requeue');
    const id = await enqueue(db.sql, { type: 'message.created', aggregateId: 'm', payload: { message_id: 'broken' } });
    const relay = await startRelay(databaseSettings(db.url), testServices.natsUrl, streams, { maxAttempts: 1 });
    fixture.afterTest(() => relay.stop());
    await waitFor(
      'the event to be dead-lettered',
      async () => (await db.sql`select 1 from public.outbox_dead_letters where id = ${id}`).length === 1,
    );

    await db.sql`update public.outbox_events set payload = ${db.sql.json(messageCreated())} where id = ${id}`;
    const sql = connectWorkerDatabase(databaseSettings(db.url), { applicationName: 'requeue-test', max: 1 });
    fixture.afterTest(() => sql.end());
    expect(await requeueDeadLetters(sql, [id])).toBe(1);
    await waitFor(
      'the event to be published',
      async () => (await db.sql`select 1 from public.outbox_events where id = ${id} and processed`).length === 1,
    );
    const stored = await readStream(fixture.nc, streams.NATS_STREAM_EVENTS);
    expect(stored.map((e) => e.id)).toEqual([id]);
  });

  it('status prints the backlog, the oldest event, dead letters, lanes and each stream and consumer', async () => {
    const { db, streams } = await fixture.setUp('relay_status');
    for (let n = 0; n < 3; n += 1) await enqueue(db.sql, { type: 'message.created', aggregateId: `m-${n}`, payload: messageCreated() });
    await db.sql`
      insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload, dead_lettered_at, attempts, last_error)
      values ('message', 'dead', 'message.created', '{}', now(), 5, 'payload_too_large: 1.1 MB')`;
    await fixture.jsm.consumers.add(streams.NATS_STREAM_EVENTS, { durable_name: 'status-probe', ack_policy: 'explicit' as never });

    const env = cliEnvironment(db, streams);
    const text = await outboxCli(['status'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/backlog\s+3 events/);
    expect(text.stdout).toMatch(/oldest unprocessed\s+[\d.]+ (ms|s) old/);
    expect(text.stdout).toMatch(/dead letters\s+1/);
    expect(text.stdout).toContain('payload_too_large: 1.1 MB');
    expect(text.stdout).toMatch(/lanes\s+0\/16 held/);
    expect(text.stdout).toContain(`stream ${streams.NATS_STREAM_EVENTS}: 0 messages`);
    expect(text.stdout).toContain('consumer status-probe: 0 pending');

    const json = await outboxCli(['status', '--json'], env);
    const parsed = JSON.parse(json.stdout) as { outbox: { backlogEvents: number; deadLetterEvents: number }; streams: { name: string }[] };
    expect(parsed.outbox).toMatchObject({ backlogEvents: 3, deadLetterEvents: 1 });
    expect(parsed.streams.map((s) => s.name)).toEqual([streams.NATS_STREAM_EVENTS, `${streams.NATS_STREAM_EVENTS}_DLQ`]);

    const unreachable = await outboxCli(['status'], { ...env, NATS_URL: 'nats://127.0.0.1:1' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toMatch(/backlog\s+3 events/);
    expect(unreachable.stdout).toContain('cannot reach NATS at nats://127.0.0.1:1');
  });

  it('reads the status from indexes that hold only what it counts, and estimates the published rows', async () => {
    const { db } = await fixture.setUp('relay_status_plans');
    await db.sql`
      insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload, processed, processed_at)
      select 'message', 'm-' || (g % 50), 'message.created', '{}', true, now() from generate_series(1, 20000) g`;
    for (let n = 0; n < 3; n += 1) await enqueue(db.sql, { type: 'message.created', aggregateId: `p-${n}`, payload: messageCreated() });
    await db.sql`
      insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload, attempts, next_attempt_at)
      values ('message', 'waiting', 'message.created', '{}', 1, now() + interval '1 hour')`;
    await db.sql`
      insert into public.outbox_events (aggregate_type, aggregate_id, event_type, payload, dead_lettered_at, attempts, last_error)
      values ('message', 'dead', 'message.created', '{}', now(), 5, 'payload_schema: test')`;
    // statistics as a running system has them: every insert counted, then analyzed (analyzing before the
    // inserting sessions reported their counts would count those rows twice)
    await waitFor('the statistics to count every row', async () => {
      const [row] = await db.sql<{ live: number }[]>`select pg_stat_get_live_tuples('public.outbox_events'::regclass)::int as live`;
      return row!.live >= 20_005;
    });
    await db.sql`analyze public.outbox_events`;

    // auto_explain hands the plan of every statement the status runs back to this session as a notice
    const notices: string[] = [];
    const explained = postgres(db.url, { max: 1, onnotice: (notice) => notices.push(String(notice.message)) });
    fixture.afterTest(() => explained.end());
    const status = await explained.begin(async (tx) => {
      await tx`load 'auto_explain'`;
      await tx`select set_config('auto_explain.log_min_duration', '0', true), set_config('auto_explain.log_level', 'notice', true)`;
      return readOutboxStatus(tx);
    });
    expect(status).toMatchObject({ backlogEvents: 4, waitingForRetryEvents: 1, deadLetterEvents: 1 });
    expect(status.processedEvents).toBe(20_000);

    const scans = notices.flatMap((plan) => plan.split('\n')).filter((line) => /\bon outbox_events\b/.test(line));
    expect(scans.length).toBeGreaterThanOrEqual(5);
    for (const scan of scans) {
      // never a sequential scan, never an index that holds the published rows
      expect(scan).toMatch(/Index (Only )?Scan (Backward )?using outbox_events_(pending|retry_wait|dead_lettered)_idx on outbox_events/);
    }
  });

  it('refuses bad command lines with a sentence saying what to type instead', async () => {
    const { db, streams } = await fixture.setUp('relay_cli');
    const env = cliEnvironment(db, streams);
    const noSince = await outboxCli(['replay'], env);
    expect(noSince).toMatchObject({ code: 2 });
    expect(noSince.stderr).toContain('replay needs --since <time>');
    const badTime = await outboxCli(['replay', '--since', 'yesterday-ish'], env);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain("--since 'yesterday-ish' is not a time");
    const dry = await outboxCli(['replay', '--since', '2h', '--dry-run'], env);
    expect(dry).toMatchObject({ code: 0 });
    expect(dry.stdout).toMatch(/would replay 0 published events/);
  });
});
