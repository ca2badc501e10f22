// SQL of the Embassy pages of the admin console: partners, inbound and outbound deliveries across every
// partner. Reads run as service_role behind the platform.admin check (deliveries have no user policy); the
// redeliver runs as the signed-in admin through app.redeliver_embassy_outbound, which checks and audits.
import type { Tx } from '../../_shared/db.ts';

export interface PartnerRow {
  partner: string;
  display_name: string;
  status: string;
  endpoint_url: string | null;
  inbound_event_types: string[];
  outbound_event_types: string[];
  secret_ref: string;
  linked_teams: number;
  inbound_total: number;
  outbound_pending: number;
  outbound_delivered: number;
  outbound_dead: number;
}

export function listPartners(tx: Tx): Promise<PartnerRow[]> {
  return tx<PartnerRow[]>`
    select e.partner, e.display_name, e.status, e.endpoint_url, e.inbound_event_types, e.outbound_event_types, e.secret_ref,
      (select count(*)::int from public.embassy_team_links l where l.partner = e.partner) as linked_teams,
      (select count(*)::int from public.embassy_webhook_deliveries w where w.partner = e.partner) as inbound_total,
      count(o.id) filter (where o.status = 'pending')::int as outbound_pending,
      count(o.id) filter (where o.status = 'delivered')::int as outbound_delivered,
      count(o.id) filter (where o.status = 'dead')::int as outbound_dead
    from public.embassies e
    left join public.embassy_outbound_deliveries o on o.partner = e.partner
    group by e.partner
    order by e.partner`;
}

export interface InboundRow {
  id: string;
  partner: string;
  webhook_id: string;
  event_type: string;
  team_id: string | null;
  received_at: string;
  signature_outcome: string;
  status: string;
  answer_status: number;
  processed_at: string | null;
  result: string | null;
}

export function listInbound(tx: Tx, filter: { partner?: string; limit: number }): Promise<InboundRow[]> {
  return tx<InboundRow[]>`
    select id, partner, webhook_id, event_type, team_id, received_at, signature_outcome, status, answer_status, processed_at, result
    from public.embassy_webhook_deliveries
    where ${filter.partner ?? null}::text is null or partner = ${filter.partner ?? null}
    order by received_at desc, id desc
    limit ${filter.limit}`;
}

export interface OutboundRow {
  id: string;
  partner: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  last_response_code: number | null;
  last_error: string | null;
  next_attempt_at: string;
  created_at: string;
  delivered_at: string | null;
}

export function listOutbound(tx: Tx, filter: { partner?: string; status?: string; limit: number }): Promise<OutboundRow[]> {
  return tx<OutboundRow[]>`
    select id, partner, event_id, event_type, status, attempts, last_response_code, last_error, next_attempt_at, created_at, delivered_at
    from public.embassy_outbound_deliveries
    where (${filter.partner ?? null}::text is null or partner = ${filter.partner ?? null})
      and (${filter.status ?? null}::text is null or status = ${filter.status ?? null})
    order by created_at desc, id desc
    limit ${filter.limit}`;
}

/** 'dead' when the delivery was made pending again; its other status, or null when there is no such delivery. */
export async function redeliverOutbound(tx: Tx, id: string, requestId: string): Promise<string | null> {
  const [row] = await tx<{ before: string | null }[]>`select app.redeliver_embassy_outbound(${id}::uuid, ${requestId}) as before`;
  return row!.before;
}
