// The second half of outbound webhooks: posts due embassy_outbound_deliveries to their partner's endpoint as
// Standard Webhooks signed with the partner's secret(s), and records each outcome.
// - webhook-id is the platform event's id on every attempt, so a partner that saw an attempt succeed (its
//   answer lost on the way back) can drop the repeat; the signature's timestamp is the attempt's own.
// - A claimed row's next_attempt_at moves past the attempt's timeout first (a lease): another instance, or a
//   poll that overlaps, skips it while the POST is in flight — one attempt at a time per delivery.
// - A failure (non-2xx, timeout, refused connection, no secret) is retried after base × 2^(attempt-1), capped,
//   ±20 % jitter; the attempt that reaches the maximum makes the delivery `dead`. A manual redeliver
//   (admin) makes it pending again for ONE more attempt: success → delivered, failure → dead again.
import type { Webhook } from 'standardwebhooks';
import { signWebhook } from '../../../functions/_shared/embassy/signatures.ts';
import type { Logger } from '../../../functions/_shared/log.ts';
import type { EmbassyMetrics } from '../../../functions/_shared/metrics.ts';
import type { Sql } from '../../lib/postgres.ts';

export interface OutboundSenderOptions {
  sql: Sql;
  /** The partner's signing secrets, current first (empty: not configured, the attempt fails). */
  secretsOf: (partner: string) => readonly Webhook[];
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  timeoutMs: number;
  batchSize?: number;
  logger: Logger;
  metrics?: EmbassyMetrics;
  /** For tests: a fixed jitter factor in [0.8, 1.2]. */
  jitter?: () => number;
}

interface DueDelivery {
  id: string;
  partner: string;
  event_id: string;
  event_type: string;
  payload: unknown;
  attempts: number;
  endpoint_url: string | null;
  partner_status: string;
}

export interface AttemptOutcome {
  id: string;
  partner: string;
  outcome: 'delivered' | 'retried' | 'dead_lettered';
  responseCode: number | null;
}

const MAX_ERROR_CHARS = 500;

export class OutboundSender {
  constructor(private readonly options: OutboundSenderOptions) {}

  /** Claims the due deliveries (up to the batch size), posts them concurrently, records the outcomes. */
  async deliverDue(): Promise<AttemptOutcome[]> {
    const { sql, batchSize = 20, timeoutMs } = this.options;
    const due = await sql<DueDelivery[]>`
      with due as (
        select id from public.embassy_outbound_deliveries
        where status = 'pending' and next_attempt_at <= now()
        order by next_attempt_at
        limit ${batchSize}
        for update skip locked
      )
      update public.embassy_outbound_deliveries d
      set next_attempt_at = now() + ${timeoutMs + 30_000} * interval '1 millisecond'
      from due, public.embassies e
      where d.id = due.id and e.partner = d.partner
      returning d.id, d.partner, d.event_id, d.event_type, d.payload, d.attempts, e.endpoint_url, e.status as partner_status`;
    return Promise.all(due.map((delivery) => this.attempt(delivery)));
  }

  /** Deliveries in the dead-letter state now (the gauge of the dashboard). */
  async countDead(): Promise<number> {
    const [row] = await this.options.sql<{ n: number }[]>`
      select count(*)::int as n from public.embassy_outbound_deliveries where status = 'dead'`;
    return row!.n;
  }

  private async attempt(delivery: DueDelivery): Promise<AttemptOutcome> {
    const started = performance.now();
    const result = await this.post(delivery);
    this.options.metrics?.outboundDuration.observe({ partner: delivery.partner }, (performance.now() - started) / 1000);
    const outcome = result.ok ? await this.recordDelivered(delivery, result.code!) : await this.recordFailed(delivery, result);
    this.options.metrics?.outboundAttempts.inc({ partner: delivery.partner, outcome });
    const log = { delivery_id: delivery.id, partner: delivery.partner, event_id: delivery.event_id, attempt: delivery.attempts + 1 };
    if (outcome === 'delivered') this.options.logger.info('outbound webhook delivered', { ...log, status: result.code });
    else
      this.options.logger.warn(outcome === 'dead_lettered' ? 'outbound webhook dead-lettered' : 'outbound webhook failed; retrying later', {
        ...log,
        status: result.code,
        error: result.error,
      });
    return { id: delivery.id, partner: delivery.partner, outcome, responseCode: result.code };
  }

  private async post(delivery: DueDelivery): Promise<{ ok: boolean; code: number | null; error?: string }> {
    if (delivery.partner_status !== 'active') return { ok: false, code: null, error: `the partner is ${delivery.partner_status}` };
    if (!delivery.endpoint_url) return { ok: false, code: null, error: 'the partner has no endpoint_url' };
    const secrets = this.options.secretsOf(delivery.partner);
    if (secrets.length === 0) return { ok: false, code: null, error: 'no webhook secret is configured for the partner' };
    const body = JSON.stringify(delivery.payload);
    try {
      const response = await fetch(delivery.endpoint_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'microdao-embassy', ...signWebhook(secrets, delivery.event_id, body) },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await response.text().catch(() => '');
      if (response.status >= 200 && response.status < 300) return { ok: true, code: response.status };
      return { ok: false, code: response.status, error: `answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}` };
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : describe(error);
      return { ok: false, code: null, error: reason };
    }
  }

  private async recordDelivered(delivery: DueDelivery, code: number): Promise<'delivered'> {
    await this.options.sql`
      update public.embassy_outbound_deliveries
      set status = 'delivered', delivered_at = now(), attempts = attempts + 1, last_response_code = ${code}, last_error = null
      where id = ${delivery.id} and status = 'pending'`;
    return 'delivered';
  }

  private async recordFailed(delivery: DueDelivery, result: { code: number | null; error?: string }): Promise<'retried' | 'dead_lettered'> {
    const attempts = delivery.attempts + 1;
    const dead = attempts >= this.options.maxAttempts;
    const delayMs = this.backoffMs(attempts);
    await this.options.sql`
      update public.embassy_outbound_deliveries
      set attempts = attempts + 1, last_response_code = ${result.code}, last_error = ${(result.error ?? 'failed').slice(0, MAX_ERROR_CHARS)},
        status = ${dead ? 'dead' : 'pending'}, next_attempt_at = now() + ${delayMs} * interval '1 millisecond'
      where id = ${delivery.id} and status = 'pending'`;
    return dead ? 'dead_lettered' : 'retried';
  }

  /** The wait after the `attempts`-th failure. */
  backoffMs(attempts: number): number {
    const { backoffBaseMs, backoffMaxMs, jitter = () => 0.8 + Math.random() * 0.4 } = this.options;
    return Math.round(Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempts - 1)) * jitter());
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${error.message} (${cause.code})` : error.message;
}
