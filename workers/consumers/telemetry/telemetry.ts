// The telemetry consumer: counts every event per type in telemetry_event_counts, exactly once per event id
// (the durable consumer records the id in the same transaction as the count).
import type postgres from 'postgres';
import type { ConsumedEvent, EventHandler } from '../durable-consumer.ts';

export const countEvent: EventHandler = async (event: ConsumedEvent, tx: postgres.TransactionSql) => {
  const occurredAt = event.occurredAt || null;
  await tx`
    insert into public.telemetry_event_counts (event_type, events, last_occurred_at, updated_at)
    values (${event.type}, 1, ${occurredAt}::timestamptz, now())
    on conflict (event_type) do update set
      events = telemetry_event_counts.events + 1,
      last_occurred_at = greatest(telemetry_event_counts.last_occurred_at, excluded.last_occurred_at),
      updated_at = now()`;
};

export interface EventCount {
  eventType: string;
  events: number;
}

export async function readEventCounts(sql: postgres.Sql): Promise<EventCount[]> {
  return [
    ...(await sql<EventCount[]>`
      select event_type as "eventType", events::int as events from public.telemetry_event_counts order by event_type`),
  ];
}
