// The Agent Orchestrator: takes run messages from JetStream (one durable pull consumer shared by every agent
// worker, so they split the load), claims each run in Postgres with a lease, executes it with the agent kind's
// code through the gateway, and settles it.
// - Never twice at once: a claim succeeds only without a live lease (app.claim_agent_run); the lease and the
//   message's ack deadline are renewed together while the run executes.
// - Never lost: the message is acknowledged only once the run left the worker's hands (settled, or in someone
//   else's); a SIGKILLed worker's message is redelivered after the ack wait, and its lease has run out by then,
//   so another worker takes the run over (attempts counts takeovers; past AGENT_MAX_ATTEMPTS it fails).
// - Cancel and expiry: a renewal that finds the run no longer in progress aborts the execution; the sweeper
//   expires runs past their deadline; the team limit is checked under a per-team lock at every claim.
// - The agent's key: minted per run (app.mint_agent_run_key stores its hash; the key lives only in this
//   process's memory), expiring with the run and revoked when it settles.
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { generateAccessKey } from '../../functions/_shared/access-keys.ts';
import type { AppEnv } from '../../functions/_shared/config.ts';
import type { Logger } from '../../functions/_shared/log.ts';
import type { Sql } from '../lib/postgres.ts';
import { RunLost, type AgentKind, type RunForWorker, type RunOutcome, type RunSteps } from './agent-kind.ts';
import type { AgentMetrics } from './agent-metrics.ts';
import { GatewayCallFailed, GatewayClient } from './gateway-client.ts';
import { createLlmAgent } from './kinds/llm-agent.ts';
import { summarizer } from './kinds/summarizer.ts';
import { LlmCallFailed } from './llm/chat-completions.ts';

/** The kinds without settings; main.ts passes the llm kind with its endpoint (LLM_*). */
export const AGENT_KINDS: Record<string, AgentKind> = { summarizer, llm: createLlmAgent(undefined) };

export interface OrchestratorOptions {
  nc: NatsConnection;
  jsm: JetStreamManager;
  sql: Sql;
  stream: string;
  subjectPrefix: string;
  consumerName: string;
  /** Unique per process: the lease owner. */
  workerId: string;
  gatewayUrl: string;
  environment: AppEnv;
  leaseSeconds: number;
  teamLimit: number;
  maxAttempts: number;
  /** Runs this process executes at once (default 4). */
  parallelRuns?: number;
  /** How often the sweeper expires overdue runs (default 5 s). */
  sweepIntervalMs?: number;
  logger: Logger;
  metrics?: AgentMetrics;
  kinds?: Record<string, AgentKind>;
  fetch?: typeof fetch;
}

type ClaimResult = 'claimed' | 'leased' | 'busy' | 'waiting' | 'expired' | 'exhausted' | 'gone';

/** The message's ack deadline: a little longer than a lease, so a dead worker's lease is over when it comes back. */
const ackWaitSeconds = (leaseSeconds: number) => leaseSeconds + 2;

export async function ensureAgentConsumer(
  jsm: JetStreamManager,
  options: Pick<OrchestratorOptions, 'stream' | 'subjectPrefix' | 'consumerName' | 'leaseSeconds'>,
): Promise<void> {
  const config = {
    durable_name: options.consumerName,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    // every transition: queued starts a run, in_progress after an approval resumes one; others are acknowledged
    filter_subject: `${options.subjectPrefix}.agent_run.>`,
    ack_wait: nanos(ackWaitSeconds(options.leaseSeconds) * 1000),
    max_deliver: -1,
    max_ack_pending: 10_000,
  };
  try {
    await jsm.consumers.info(options.stream, options.consumerName);
    await jsm.consumers.update(options.stream, options.consumerName, {
      ack_wait: config.ack_wait,
      max_ack_pending: config.max_ack_pending,
    });
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound)) throw error;
    await jsm.consumers.add(options.stream, config);
  }
}

export class AgentOrchestrator {
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly aborts = new Set<AbortController>();
  private stopping = false;

  constructor(private readonly options: OrchestratorOptions) {}

  async start(): Promise<void> {
    const { jsm, stream, consumerName } = this.options;
    await ensureAgentConsumer(jsm, this.options);
    const consumer = await jetstream(this.options.nc).consumers.get(stream, consumerName);
    const parallel = this.options.parallelRuns ?? 4;
    this.messages = await consumer.consume({ max_messages: parallel });
    this.loop = this.takeMessages(this.messages, parallel);
    this.sweeper = setInterval(() => void this.expireOverdueRuns(), this.options.sweepIntervalMs ?? 5000);
    this.sweeper.unref?.();
    this.options.logger.info('agent orchestrator started', { worker: this.options.workerId, consumer: consumerName, parallel });
  }

  /** Stops taking messages and waits for the runs in flight (their messages are acknowledged or left to redeliver). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sweeper);
    await this.messages?.close();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Marks runs past their deadline expired; several workers may do it at once (skip locked). */
  async expireOverdueRuns(): Promise<number> {
    try {
      const [row] = await this.options.sql<{ expired: number }[]>`select app.expire_agent_runs(100) as expired`;
      if (row!.expired) this.options.logger.info('expired overdue agent runs', { runs: row!.expired });
      return row!.expired;
    } catch (error) {
      this.options.logger.warn('could not expire overdue agent runs', { error: (error as Error).message });
      return 0;
    }
  }

  private async takeMessages(messages: ConsumerMessages, parallel: number): Promise<void> {
    for await (const message of messages) {
      while (this.inFlight.size >= parallel) await Promise.race(this.inFlight);
      const handling = this.handle(message).catch((error: Error) => {
        this.options.logger.error('agent run message failed; it will be redelivered', { error: error.message });
        message.nak(1000);
      });
      this.inFlight.add(handling);
      void handling.finally(() => this.inFlight.delete(handling));
      if (this.stopping) break;
    }
  }

  private async handle(message: JsMsg): Promise<void> {
    const { run_id: runId } = message.json<{ run_id?: string }>();
    const status = message.subject.slice(`${this.options.subjectPrefix}.agent_run.`.length);
    if (!runId || (status !== 'queued' && status !== 'in_progress')) {
      message.ack();
      return;
    }
    const { workerId, leaseSeconds, teamLimit, maxAttempts, metrics } = this.options;
    const [claim] = await this.options.sql<{ result: ClaimResult }[]>`
      select app.claim_agent_run(${runId}, ${workerId}, ${leaseSeconds}, ${teamLimit}, ${maxAttempts}) as result`;
    const result = claim!.result;
    if (result !== 'claimed') metrics?.refusedClaims.inc({ reason: result });
    if (result === 'busy') return void message.nak(1000); // the team is at its limit: offer it again shortly
    // held by a worker whose lease still runs: look again when it would have run out (it will be 'gone' if done)
    if (result === 'leased') return void message.nak(leaseSeconds * 1000);
    if (result !== 'claimed') return void message.ack();
    await this.execute(runId, message);
    message.ack();
  }

  private async execute(runId: string, message: JsMsg): Promise<void> {
    const { sql, workerId, leaseSeconds, logger, metrics } = this.options;
    const [run] = await sql<RunForWorker[]>`select * from app.agent_run_for_worker(${runId})`;
    const kind = this.options.kinds?.[run!.agent_kind] ?? AGENT_KINDS[run!.agent_kind];
    const started = performance.now();
    const abort = new AbortController();
    this.aborts.add(abort);
    metrics?.claimed.inc({ kind: run!.agent_kind });
    const log = logger.child({ run_id: runId, correlation_id: run!.correlation_id, agent: run!.agent_name });
    const heartbeat = setInterval(
      () => {
        message.working();
        sql<{ status: string | null }[]>`select app.renew_agent_run_lease(${runId}, ${workerId}, ${leaseSeconds}) as status`
          .then(([row]) => {
            if (!row?.status) abort.abort(new RunLost('the run is no longer held by this worker'));
          })
          .catch((error: Error) => log.warn('could not renew the lease of an agent run', { error: error.message }));
      },
      (leaseSeconds * 1000) / 3,
    );
    let outcome: RunOutcome | 'lost';
    try {
      outcome = kind
        ? await this.runKind(kind, run!, abort.signal)
        : { status: 'failed', error: { code: 'unknown_agent_kind', message: `No worker code for agent kind ${run!.agent_kind}.` } };
    } catch (error) {
      if (error instanceof RunLost || abort.signal.aborted) {
        outcome = 'lost';
      } else if (error instanceof LlmCallFailed) {
        metrics?.toolErrors.inc({ kind: run!.agent_kind, code: error.code });
        outcome = { status: 'failed', error: { code: error.code, message: error.message.slice(0, 500) }, usage: error.usage };
      } else if (error instanceof GatewayCallFailed) {
        metrics?.toolErrors.inc({ kind: run!.agent_kind, code: error.code });
        outcome = { status: 'failed', error: { code: `gateway_${error.code}`, message: error.message.slice(0, 500) } };
      } else {
        metrics?.toolErrors.inc({ kind: run!.agent_kind, code: 'internal' });
        outcome = { status: 'failed', error: { code: 'agent_error', message: (error as Error).message.slice(0, 500) } };
      }
    } finally {
      clearInterval(heartbeat);
      this.aborts.delete(abort);
    }
    let settled = false;
    if (outcome !== 'lost') {
      const [row] = await sql<{ settled: boolean }[]>`
        select app.settle_agent_run(${runId}, ${workerId}, ${outcome.status}::public.agent_run_status,
          ${outcome.status === 'completed' ? sql.json(outcome.output as never) : null}::jsonb,
          ${outcome.status === 'failed' ? sql.json(outcome.error as never) : null}::jsonb,
          ${sql.json((outcome.usage ?? {}) as never)}::jsonb,
          ${outcome.status === 'requires_action' ? sql.json(outcome.action as never) : null}::jsonb) as settled`;
      settled = row!.settled;
    }
    const label = settled && outcome !== 'lost' ? outcome.status : 'lost';
    metrics?.settled.inc({ kind: run!.agent_kind, outcome: label });
    metrics?.duration.observe({ kind: run!.agent_kind }, (performance.now() - started) / 1000);
    log.info('agent run executed', { outcome: label, attempt: run!.attempts, ms: Math.round(performance.now() - started) });
  }

  private async runKind(kind: AgentKind, run: RunForWorker, signal: AbortSignal): Promise<RunOutcome> {
    const { sql, workerId, environment } = this.options;
    const made = await generateAccessKey(environment);
    const [minted] = await sql<{ key_id: string | null }[]>`
      select app.mint_agent_run_key(${run.run_id}, ${workerId}, decode(${made.hash}, 'hex'), ${made.displayPrefix}, ${environment}) as key_id`;
    if (!minted?.key_id) throw new RunLost('the run was lost before it started');
    const gateway = new GatewayClient({
      baseUrl: this.options.gatewayUrl,
      accessKey: made.key,
      correlationId: run.correlation_id ?? run.run_id,
      signal,
      fetch: this.options.fetch,
    });
    return kind.execute(run, gateway, this.stepsOf(run), signal);
  }

  private stepsOf(run: RunForWorker): RunSteps {
    const { sql, workerId } = this.options;
    const insert = async (kind: string, status: string, detail: Record<string, unknown>): Promise<number> => {
      const [row] = await sql<{ id: string | null }[]>`
        select app.record_agent_run_step(${run.run_id}, ${workerId}, ${kind}, ${status}, ${sql.json(detail as never)}::jsonb) as id`;
      if (!row?.id) throw new RunLost('the run is no longer held by this worker');
      return Number(row.id);
    };
    return {
      record: async (kind, status, detail) => void (await insert(kind, status, detail)),
      start: async (kind, detail) => {
        const id = await insert(kind, 'started', detail);
        return async (status, more) => {
          await sql`select app.finish_agent_run_step(${id}, ${status}, ${sql.json(more as never)}::jsonb)`;
        };
      },
      unfinishedFromEarlierAttempt: async (kind) => {
        const rows = await sql`
          select 1 from public.agent_run_steps where run_id = ${run.run_id} and kind = ${kind} and status = 'started'
            and attempt < (select attempts from public.agent_runs where id = ${run.run_id})`;
        return rows.length > 0;
      },
    };
  }
}
