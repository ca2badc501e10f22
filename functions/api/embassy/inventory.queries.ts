// SQL of a team's real-world-asset inventory and partner links; runs in the request's transaction, so RLS
// (rwa.read, embassy.manage) scopes every statement to the caller's teams.
import type { Tx } from '../../_shared/db.ts';

export interface InventoryRow {
  id: string;
  partner: string;
  asset_kind: 'energy' | 'food_lot' | 'water';
  asset_ref: string;
  unit: 'kWh' | 'kg' | 'm3';
  quantity: string;
  location: string | null;
  version: number;
  updated_at: string;
}

export function listInventory(tx: Tx, teamId: string): Promise<InventoryRow[]> {
  return tx<InventoryRow[]>`
    select id, partner, asset_kind, asset_ref, unit, trim_scale(quantity)::text as quantity, location, version::int as version, updated_at
    from public.rwa_inventory where team_id = ${teamId}
    order by partner, asset_kind, asset_ref`;
}

export interface MovementRow {
  id: string;
  inventory_id: string;
  kind: string;
  delta: string;
  quantity_after: string;
  version_after: number;
  occurred_at: string;
  recorded_at: string;
}

export function listMovements(tx: Tx, teamId: string, limit: number): Promise<MovementRow[]> {
  return tx<MovementRow[]>`
    select id, inventory_id, kind, trim_scale(delta)::text as delta, trim_scale(quantity_after)::text as quantity_after,
      version_after::int as version_after, occurred_at, recorded_at
    from public.rwa_movements where team_id = ${teamId}
    order by recorded_at desc, id desc limit ${limit}`;
}

export interface LinkRow {
  partner: string;
  display_name: string;
  status: string;
  linked_at: string;
}

export function listLinks(tx: Tx, teamId: string): Promise<LinkRow[]> {
  return tx<LinkRow[]>`
    select l.partner, e.display_name, e.status, l.linked_at
    from public.embassy_team_links l join public.embassies e using (partner)
    where l.team_id = ${teamId} order by l.partner`;
}

/** Links a partner to the team (RLS: embassy.manage); null when it was already linked. */
export async function insertLink(tx: Tx, teamId: string, partner: string): Promise<LinkRow | null> {
  const [row] = await tx<LinkRow[]>`
    with linked as (
      insert into public.embassy_team_links (partner, team_id, linked_by)
      select e.partner, ${teamId}, (select auth.uid()) from public.embassies e where e.partner = ${partner}
      on conflict do nothing
      returning partner, linked_at
    )
    select l.partner, e.display_name, e.status, l.linked_at from linked l join public.embassies e using (partner)`;
  return row ?? null;
}

export async function partnerExists(tx: Tx, partner: string): Promise<boolean> {
  return (await tx`select 1 from public.embassies where partner = ${partner}`).length > 0;
}

export async function deleteLink(tx: Tx, teamId: string, partner: string): Promise<boolean> {
  return (await tx`delete from public.embassy_team_links where team_id = ${teamId} and partner = ${partner} returning 1`).length > 0;
}
