// Reads JetStream's state from a NATS server's monitoring endpoint (/jsz?consumers=true) and mirrors it
// into the exporter's gauges. Stands in for prometheus-nats-exporter, which is not installable here.
import { z } from 'zod';
import type { NatsExporterMetrics } from '../../functions/_shared/metrics.ts';

const sequencePair = z.object({ stream_seq: z.number().default(0) }).loose();

const consumerDetail = z
  .object({
    stream_name: z.string(),
    name: z.string(),
    num_pending: z.number().default(0),
    num_ack_pending: z.number().default(0),
    num_redelivered: z.number().default(0),
    num_waiting: z.number().default(0),
    ack_floor: sequencePair.optional(),
  })
  .loose();

const streamDetail = z
  .object({
    name: z.string(),
    state: z.object({ messages: z.number().default(0), bytes: z.number().default(0), last_seq: z.number().default(0) }).loose(),
    consumer_detail: z.array(consumerDetail).default([]),
  })
  .loose();

const jszResponse = z
  .object({
    account_details: z.array(z.object({ name: z.string(), stream_detail: z.array(streamDetail).default([]) }).loose()).default([]),
  })
  .loose();

export type JetStreamState = z.infer<typeof jszResponse>;

export class MonitoringEndpointError extends Error {
  override name = 'MonitoringEndpointError';
}

/** Fetches /jsz with stream and consumer details; throws a MonitoringEndpointError saying what went wrong. */
export async function readJetStreamState(monitoringUrl: string, timeoutMs = 3000): Promise<JetStreamState> {
  const url = new URL('/jsz', monitoringUrl);
  url.searchParams.set('accounts', 'true');
  url.searchParams.set('streams', 'true');
  url.searchParams.set('consumers', 'true');
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new MonitoringEndpointError(
      `NATS monitoring endpoint ${url.origin} did not answer (${(error as Error).message}); start nats-server with -m <port> and point NATS_MONITORING_URL at it`,
    );
  }
  if (!response.ok)
    throw new MonitoringEndpointError(`${url.origin}/jsz answered ${response.status}; is NATS_MONITORING_URL a NATS monitoring port?`);
  const parsed = jszResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success)
    throw new MonitoringEndpointError(`${url.origin}/jsz did not return JetStream details (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

/** Replaces every stream and consumer series with the given state, so deleted streams disappear. */
export function recordJetStreamState(metrics: NatsExporterMetrics, state: JetStreamState | undefined): void {
  const perStream = [metrics.streamMessages, metrics.streamBytes, metrics.streamLastSequence];
  const perConsumer = [
    metrics.consumerPending,
    metrics.consumerAckPending,
    metrics.consumerRedelivered,
    metrics.consumerWaiting,
    metrics.consumerAckFloor,
  ];
  for (const gauge of [...perStream, ...perConsumer]) gauge.reset();
  metrics.up.set(state ? 1 : 0);
  if (!state) return;
  for (const account of state.account_details) {
    for (const stream of account.stream_detail) {
      const streamLabels = { account: account.name, stream: stream.name };
      metrics.streamMessages.set(streamLabels, stream.state.messages);
      metrics.streamBytes.set(streamLabels, stream.state.bytes);
      metrics.streamLastSequence.set(streamLabels, stream.state.last_seq);
      for (const consumer of stream.consumer_detail) {
        const labels = { account: account.name, stream: stream.name, consumer: consumer.name };
        metrics.consumerPending.set(labels, consumer.num_pending);
        metrics.consumerAckPending.set(labels, consumer.num_ack_pending);
        metrics.consumerRedelivered.set(labels, consumer.num_redelivered);
        metrics.consumerWaiting.set(labels, consumer.num_waiting);
        metrics.consumerAckFloor.set(labels, consumer.ack_floor?.stream_seq ?? 0);
      }
    }
  }
}
