// The first half of outbound webhooks: a platform event that partners subscribe to (embassies.
// outbound_event_types) becomes one embassy_outbound_deliveries row per subscribed partner, written in the
// consumer's transaction — so exactly once per event, whatever NATS redelivers. The sender
// (outbound-sender.ts) posts the rows. A partner hears only about teams it is linked to.
import type postgres from 'postgres';
import type { EventType } from '../../../functions/_shared/events/catalog.ts';
import type { ConsumedEvent } from '../durable-consumer.ts';

/** Catalog events a partner may subscribe to. `rwa.reserved` and `payout.confirmed` join when they exist. */
export const OUTBOUND_EVENT_TYPES = ['rwa.inventory_changed'] as const satisfies readonly EventType[];

export const isOutboundEventType = (type: string): boolean => (OUTBOUND_EVENT_TYPES as readonly string[]).includes(type);

/** The Standard Webhooks body partners receive: `{ type, timestamp, data }`, the event's payload as data. */
export const outboundBody = (event: ConsumedEvent) => ({ type: event.type, timestamp: event.occurredAt, data: event.payload });

/** Queues the event for every active partner subscribed to its type (and linked to its team, if it names one);
    the number of deliveries queued. (partner, event_id) is unique: a redelivered event adds nothing. */
export async function recordOutboundDeliveries(event: ConsumedEvent, tx: postgres.TransactionSql): Promise<number> {
  if (!isOutboundEventType(event.type)) return 0;
  const teamId = (event.payload as { team_id?: unknown }).team_id;
  const rows = await tx`
    insert into public.embassy_outbound_deliveries (partner, event_id, event_type, payload)
    select e.partner, ${event.id}::uuid, ${event.type}, ${tx.json(outboundBody(event) as postgres.JSONValue)}
    from public.embassies e
    where e.status = 'active' and e.endpoint_url is not null and ${event.type} = any (e.outbound_event_types)
      and (${typeof teamId === 'string' ? teamId : null}::uuid is null or exists (
        select 1 from public.embassy_team_links l where l.partner = e.partner and l.team_id = ${typeof teamId === 'string' ? teamId : null}::uuid))
    on conflict (partner, event_id) do nothing
    returning id`;
  return rows.length;
}
