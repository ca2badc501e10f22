// The outbox relay: claims batches of outbox rows in commit order, publishes them to JetStream with the
// event id as Nats-Msg-Id, and marks them processed once the stream acknowledged them. Up to
// `maxBatchesInFlight` batches are in the pipe at once: while one publishes, the next is claimed and the
// previous is marked. See README.md in this folder for the design and its guarantees.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Config } from '../../functions/_shared/config.ts';
import type { Logger } from '../../functions/_shared/log.ts';
import { noErrorReporter, type ErrorReporter } from '../../functions/_shared/sentry.ts';
import { JetStreamAsyncPublisher } from '../lib/jetstream-publisher.ts';
import { connectWorkerDatabase, type Sql } from '../lib/postgres.ts';
import { IncidentReporter } from '../lib/sentry.ts';
import type { RelayHooks } from './hooks.ts';
import { LaneLeases, LEASE_APPLICATION_NAME } from './lanes.ts';
import { publishBatch, type PublishOutcome } from './publish.ts';
import { pruneProcessedEvents } from './retention.ts';
import {
  aggregateKey,
  findClaimCandidates,
  findClaimRows,
  loadEvents,
  markProcessed,
  NOTIFY_CHANNEL,
  recordFailedAttempts,
  releaseWaitsOnNats,
  type ClaimCandidate,
  type FailedAttempt,
  type OutboxRow,
} from './store.ts';

export const RELAY_APPLICATION_NAME = 'microdao-outbox-relay';

type DatabaseSettings = Pick<Config, 'DB_HOST' | 'DB_PORT' | 'DB_NAME' | 'DB_USER' | 'DB_PASSWORD' | 'DB_SSLMODE' | 'DB_POOL_MAX'>;

export interface OutboxRelayOptions {
  database: DatabaseSettings;
  nc: NatsConnection;
  jsm: JetStreamManager;
  subjectPrefix: string;
  batchSize: number;
  pollIntervalMs: number;
  publishTimeoutMs: number;
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  leaseIntervalMs: number;
  /** Batches published or being marked at the same time (default 4). */
  maxBatchesInFlight?: number;
  /** Delete processed rows older than this (hours); 0 turns the relay's own retention off. */
  retentionHours: number;
  /** How often retention runs (default hourly). */
  retentionIntervalMs?: number;
  logger: Logger;
  hooks?: RelayHooks;
  /** Sentry: claim and record failures, NATS outages (once per outage) and dead-lettered events. */
  reporter?: ErrorReporter;
}

/** What the relay reports to Sentry: never a payload, only where and why. */
export class OutboxRelayFailure extends Error {
  override name = 'OutboxRelayFailure';
}

/** How long, in notify intervals, the relay keeps looking after it last found events: covers transactions
    that take up to that long from their insert (whose notification was skipped) to their commit. */
const ACTIVE_WINDOW_NOTIFY_INTERVALS = 20;

/** Resolves after `ms`, or earlier when the signal fires. */
class Signal {
  generation = 0;
  private readonly waiters = new Set<() => void>();

  fire(): void {
    this.generation += 1;
    for (const wake of [...this.waiters]) wake();
  }

  /** Waits unless the signal fired since `since` was read. */
  wait(ms: number, since = this.generation): Promise<void> {
    if (this.generation !== since) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}

export class OutboxRelay {
  private readonly sql: Sql;
  private readonly session: Sql;
  private readonly hooks: RelayHooks;
  private readonly log: Logger;
  private readonly incidents: IncidentReporter;
  private readonly maxBatchesInFlight: number;
  /** NOTIFY, polling, lane changes: there may be work. */
  private readonly work = new Signal();
  /** Stop or NATS back: cut a backoff short. */
  private readonly urgent = new Signal();
  private readonly batches = new Set<Promise<void>>();
  /** Aggregates with an event in a batch in flight, and the events in flight. */
  private readonly busyAggregates = new Map<string, object>();
  private readonly inFlightIds = new Set<string>();
  private readonly settledDuringClaim = new Set<string>();
  private eventsWaitForBusyAggregates = false;
  private readonly inFlightByLane: number[] = [];
  private publisher: JetStreamAsyncPublisher | undefined;
  private leases: LaneLeases | undefined;
  private loop: Promise<void> | undefined;
  private timers: ReturnType<typeof setInterval>[] = [];
  private claiming = false;
  private stopping = false;
  private failureStreak = 0;
  private pausedUntil = 0;
  private notifyIntervalMs = 5;
  /** Until when the relay keeps looking at the notify interval after it last found events. */
  private activeUntil = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.hooks = options.hooks ?? {};
    this.log = options.logger;
    this.incidents = new IncidentReporter(options.reporter ?? noErrorReporter);
    this.maxBatchesInFlight = options.maxBatchesInFlight ?? 4;
    // the relay needs a direct or session-mode connection anyway (advisory locks, LISTEN), so it can keep
    // prepared statements; a lost mark only means a republish the stream deduplicates, hence async commit
    this.sql = connectWorkerDatabase(options.database, {
      applicationName: RELAY_APPLICATION_NAME,
      max: Math.max(4, this.maxBatchesInFlight + 2),
      prepare: true,
      asynchronousCommit: true,
    });
    this.session = connectWorkerDatabase(options.database, {
      applicationName: LEASE_APPLICATION_NAME,
      session: true,
      onNotify: () => this.work.fire(),
    });
  }

  /** Lanes this relay currently publishes. */
  get lanes(): number[] {
    return this.leases?.claimable() ?? [];
  }

  async start(): Promise<void> {
    const [lanes] = await this.sql<{ count: number; lockClass: number; notifyIntervalMs: number }[]>`
      select app.outbox_lane_count() as count, app.outbox_lane_lock_class() as "lockClass",
        app.outbox_notify_interval_ms() as "notifyIntervalMs"`;
    for (let lane = 0; lane < lanes!.count; lane += 1) this.inFlightByLane[lane] = 0;
    this.notifyIntervalMs = lanes!.notifyIntervalMs;
    this.publisher = new JetStreamAsyncPublisher(this.options.nc, this.options.publishTimeoutMs);
    this.leases = new LaneLeases(this.session, {
      laneCount: lanes!.count,
      lockClass: lanes!.lockClass,
      inFlight: (lane) => (this.claiming ? 1 : (this.inFlightByLane[lane] ?? 0)),
      onNewSession: async (session) => {
        await session`listen ${session(NOTIFY_CHANNEL)}`;
        this.work.fire(); // notifications sent while nobody listened are lost: look once
      },
      onChange: (claimable) => {
        this.log.info('lanes changed', { lanes: claimable });
        this.hooks.lanesChanged?.(claimable);
        this.work.fire();
      },
      logger: this.log,
    });
    await this.leases.rebalance();
    this.every(this.options.leaseIntervalMs, () => this.leases!.rebalance());
    if (this.options.retentionHours > 0) {
      this.every(this.options.retentionIntervalMs ?? 3_600_000, () => this.runRetention(), true);
    }
    void this.watchNats();
    this.loop = this.run();
    this.log.info('relay started', { lanes: this.lanes, batch_size: this.options.batchSize });
  }

  /** Stops claiming, lets the batches in flight publish and be marked, gives the lanes back. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.work.fire();
    this.urgent.fire();
    for (const timer of this.timers) clearInterval(timer);
    await this.loop;
    await Promise.allSettled([...this.batches]);
    this.publisher?.close('the relay stopped');
    await this.leases?.releaseAll().catch(() => {});
    // nothing runs on them any more; the timeout only cuts short postgres.js waiting on a connection the
    // server had closed (it would wait the whole timeout)
    await Promise.allSettled([this.session.end({ timeout: 1 }), this.sql.end({ timeout: 1 })]);
    this.log.info('relay stopped');
  }

  private every(ms: number, task: () => Promise<void>, runNow = false): void {
    let running = false;
    const tick = () => {
      if (running || this.stopping) return;
      running = true;
      task()
        .catch((error: Error) => this.log.warn('periodic task failed', { error: error.message }))
        .finally(() => (running = false));
    };
    this.timers.push(setInterval(tick, ms));
    if (runNow) tick();
  }

  private async watchNats(): Promise<void> {
    for await (const status of this.options.nc.status()) {
      if (status.type === 'disconnect') this.log.warn('NATS connection lost; publishing pauses', { server: status.server });
      if (status.type === 'reconnect') {
        this.log.info('NATS connection back', { server: status.server });
        this.failureStreak = 0;
        this.pausedUntil = 0;
        await releaseWaitsOnNats(this.sql, this.lanes).catch((error: Error) =>
          this.log.warn('could not release the events waiting for NATS; they retry at their backoff', { error: error.message }),
        );
        this.urgent.fire();
        this.work.fire();
      }
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const pause = this.pausedUntil - Date.now();
      if (pause > 0) {
        await this.urgent.wait(pause);
        continue;
      }
      if (this.batches.size >= this.maxBatchesInFlight) {
        await Promise.race(this.batches);
        continue;
      }
      const since = this.work.generation;
      const lanes = this.leases!.claimable();
      if (lanes.length === 0) {
        await this.work.wait(this.options.pollIntervalMs, since);
        continue;
      }
      let claim: { rows: OutboxRow[]; blocked: boolean };
      this.claiming = true;
      try {
        claim = await this.claim(lanes);
      } catch (error) {
        this.log.warn('could not claim from the outbox; backing off', { error: (error as Error).message });
        this.incidents.report('claim', error, { stage: 'claim' });
        this.backOff();
        continue;
      } finally {
        this.claiming = false;
      }
      if (this.incidents.recovered('claim')) this.log.info('claiming from the outbox again');
      if (claim.rows.length > 0) {
        this.startBatch(claim.rows);
        this.activeUntil = Date.now() + ACTIVE_WINDOW_NOTIFY_INTERVALS * this.notifyIntervalMs;
      }
      if (claim.rows.length >= this.options.batchSize) continue; // there is more: claim the next batch now
      if (claim.blocked && this.batches.size > 0) {
        // what is left waits for an aggregate in flight; its release fires the signal
        await this.work.wait(this.options.pollIntervalMs, since);
        continue;
      }
      // Writers skip the NOTIFY within app.outbox_notify_interval_ms() of the last one, so a notification can
      // arrive before the commits it stood for: while events keep coming, look again at that interval.
      const active = Date.now() < this.activeUntil;
      await this.work.wait(active ? this.notifyIntervalMs : this.options.pollIntervalMs, since);
    }
  }

  /**
   * Picks the next batch: the oldest publishable events, minus those in flight and those of an aggregate
   * with an event in flight (they follow once it is in the stream). `blocked`: events were left for an
   * aggregate in flight.
   */
  private async claim(lanes: number[]): Promise<{ rows: OutboxRow[]; blocked: boolean }> {
    this.settledDuringClaim.clear();
    const limit = this.options.batchSize + this.inFlightIds.size;
    // little in flight (steady traffic): one query with payloads; a lot (draining a backlog): ids first
    const oneRoundTrip = this.inFlightIds.size <= this.options.batchSize / 4;
    const candidates: ClaimCandidate[] = oneRoundTrip
      ? await findClaimRows(this.sql, lanes, limit)
      : await findClaimCandidates(this.sql, lanes, limit);
    const picked: ClaimCandidate[] = [];
    let blocked = false;
    for (const candidate of candidates) {
      if (this.inFlightIds.has(candidate.id) || this.settledDuringClaim.has(candidate.id)) continue;
      if (this.busyAggregates.has(aggregateKey(candidate))) {
        blocked = true;
        continue;
      }
      picked.push(candidate);
      if (picked.length === this.options.batchSize) break;
    }
    this.eventsWaitForBusyAggregates ||= blocked;
    if (picked.length === 0) return { rows: [], blocked };
    const rows = oneRoundTrip
      ? (picked as OutboxRow[])
      : await loadEvents(
          this.sql,
          picked.map((c) => c.id),
        );
    return { rows, blocked };
  }

  private startBatch(rows: OutboxRow[]): void {
    const owner = {};
    const keys = new Set<string>();
    for (const row of rows) {
      keys.add(aggregateKey(row));
      this.inFlightIds.add(row.id);
      this.inFlightByLane[row.lane] = (this.inFlightByLane[row.lane] ?? 0) + 1;
    }
    for (const key of keys) this.busyAggregates.set(key, owner);
    // An aggregate whose events are all in the stream may go on before the batch is marked: its next event
    // can only land behind them. One that failed stays busy until the failure (and its backoff) is recorded.
    const release = (key: string) => {
      if (this.busyAggregates.get(key) !== owner) return;
      this.busyAggregates.delete(key);
      if (this.eventsWaitForBusyAggregates) {
        this.eventsWaitForBusyAggregates = false;
        this.work.fire(); // events held back for this aggregate can go now
      }
    };
    const batch: Promise<void> = this.processBatch(rows, release)
      .catch((error: Error) => {
        this.log.error('batch failed unexpectedly', { error });
        this.incidents.report('batch', error, { stage: 'batch' });
      })
      .finally(() => {
        for (const row of rows) {
          // a claim running now may have read these rows before they were marked: it must not take them
          if (this.claiming) this.settledDuringClaim.add(row.id);
          this.inFlightIds.delete(row.id);
          this.inFlightByLane[row.lane] = (this.inFlightByLane[row.lane] ?? 1) - 1;
        }
        for (const key of keys) release(key);
        this.batches.delete(batch);
      });
    this.batches.add(batch);
  }

  private async processBatch(rows: OutboxRow[], releaseAggregate: (key: string) => void): Promise<void> {
    this.hooks.batchClaimed?.(rows.length);
    const started = performance.now();
    const outcomes = await publishBatch(rows, {
      publisher: this.publisher!,
      subjectPrefix: this.options.subjectPrefix,
      streamTakesSubject: (subject) => this.streamTakesSubject(subject),
      hooks: this.hooks,
      aggregatePublished: releaseAggregate,
    });
    const published: string[] = [];
    const failures: FailedAttempt[] = [];
    let transient = false;
    for (const outcome of outcomes) {
      if (outcome.status === 'published') published.push(outcome.row.id);
      else if (outcome.status === 'failed') {
        failures.push({ id: outcome.row.id, error: `${outcome.reason}: ${outcome.detail}`, poison: outcome.poison });
        transient ||= !outcome.poison;
      }
    }
    // nothing got through and NATS was the reason: NATS is away, not one event wrong — pause the whole relay
    const natsAway = transient && published.length === 0;
    const publishedAt = performance.now();
    if (await this.persist('mark published events processed', () => markProcessed(this.sql, published))) {
      if (published.length > 0) this.hooks.eventsMarkedProcessed?.(published.length);
    }
    let deadLettered: { id: string; attempts: number }[] = [];
    await this.persist('record failed attempts', async () => {
      deadLettered = await recordFailedAttempts(this.sql, failures, this.options);
    });
    this.reportFailures(outcomes, deadLettered);
    this.log.debug('batch done', {
      events: rows.length,
      published: published.length,
      failed: failures.length,
      publish_ms: Math.round(publishedAt - started),
      record_ms: Math.round(performance.now() - publishedAt),
    });
    if (natsAway) this.backOff();
    else if (published.length > 0) this.failureStreak = 0;
  }

  /** Retries a write until it succeeds; once the relay is stopping, gives up after 10 s more (the events are
      then published again by whoever claims them next, and the stream drops the duplicates). */
  private async persist(what: string, write: () => Promise<void>): Promise<boolean> {
    let deadline = Infinity;
    for (let attempt = 0; ; attempt += 1) {
      try {
        await write();
        if (this.incidents.recovered(`record:${what}`)) this.log.info(`could ${what} again`);
        return true;
      } catch (error) {
        this.incidents.report(`record:${what}`, error, { stage: 'record' });
        if (this.stopping && deadline === Infinity) deadline = Date.now() + 10_000;
        if (Date.now() >= deadline) {
          this.log.error(`could not ${what}; giving up, the events will be published again`, { error: (error as Error).message });
          return false;
        }
        this.log.warn(`could not ${what}; retrying`, { error: (error as Error).message, attempt });
        await new Promise((resolve) => setTimeout(resolve, this.backoffDelay(attempt)));
      }
    }
  }

  /** Logs a batch's failures; reports to Sentry the first of a NATS outage and every dead-lettered event
      (one per event type and reason within the report interval: a flood of bad events is one report). */
  private reportFailures(outcomes: PublishOutcome[], deadLettered: { id: string; attempts: number }[]): void {
    const failed = outcomes.flatMap((o) => (o.status === 'failed' ? [o] : []));
    if (outcomes.some((o) => o.status === 'published')) {
      for (const reason of ['nats_unavailable', 'stream_error'] as const) {
        if (this.incidents.recovered(`publish:${reason}`)) this.log.info('publishing again', { after: reason });
      }
    }
    if (failed.length === 0) return;
    const transient = failed.find((o) => !o.poison);
    if (transient) {
      this.incidents.report(
        `publish:${transient.reason}`,
        new OutboxRelayFailure(`publishing to JetStream failed (${transient.reason}): ${transient.detail}`),
        this.eventTags(transient.row, transient.reason),
      );
    }
    const attemptsOf = new Map(deadLettered.map((d) => [d.id, d.attempts]));
    for (const o of failed) {
      const attempts = attemptsOf.get(o.row.id);
      if (attempts === undefined) continue;
      // the detail may quote the payload (a JSON parse error does): it stays in last_error and the log
      this.incidents.report(
        `dead_letter:${o.reason}:${o.row.eventType}`,
        new OutboxRelayFailure(`an outbox event was dead-lettered after ${attempts} attempts: ${o.reason}`),
        { ...this.eventTags(o.row, o.reason), attempts },
      );
      this.log.error('event dead-lettered', { event_id: o.row.id, event_type: o.row.eventType, reason: o.reason, attempts });
    }
    const byReason = new Map<string, number>();
    for (const o of failed) byReason.set(o.reason, (byReason.get(o.reason) ?? 0) + 1);
    const first = failed[0]!;
    this.log.warn('events failed to publish', {
      failures: Object.fromEntries(byReason),
      example_event_id: first.row.id,
      example_error: first.detail,
    });
  }

  private eventTags(row: OutboxRow, reason: string) {
    return { event_id: row.id, event_type: row.eventType, correlation_id: row.correlationId ?? undefined, reason };
  }

  private async streamTakesSubject(subject: string): Promise<boolean> {
    try {
      await this.options.jsm.streams.find(subject);
      return true;
    } catch (error) {
      // "no stream matches subject" is the only answer that proves nobody takes it
      return !/no stream matches subject/i.test((error as Error).message);
    }
  }

  private backoffDelay(attempt: number): number {
    const { backoffBaseMs, backoffMaxMs } = this.options;
    return Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.min(attempt, 30)) * (0.75 + Math.random() / 2);
  }

  private backOff(): void {
    const delay = this.backoffDelay(this.failureStreak);
    this.failureStreak += 1;
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
  }

  private async runRetention(): Promise<void> {
    const deleted = await pruneProcessedEvents(this.sql, { olderThanHours: this.options.retentionHours, shouldStop: () => this.stopping });
    if (deleted > 0) this.log.info('deleted published outbox rows past retention', { deleted, hours: this.options.retentionHours });
  }
}
