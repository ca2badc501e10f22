-- Embassy (partner webhooks in and out) and the real-world-asset (RWA) inventory.
--
-- - `embassies`: the integration partners (Energy Union, GREENFOOD, Water Union, Essence Stream), their status,
--   outbound endpoint, the event types they may send and subscribe to, and the NAME of the configuration
--   variable holding their webhook secret (EMBASSY_WEBHOOK_SECRET_<PARTNER>) — never a secret value.
-- - `embassy_team_links`: which teams a partner may act for; a team admin links a partner (embassy.manage), and
--   a partner event naming an unlinked team changes nothing.
-- - `embassy_webhook_deliveries`: every inbound webhook whose signature verified, with the answer it got, so a
--   replayed webhook id gets the first answer; the consumer records when and how it was applied.
-- - `embassy_outbound_deliveries`: platform events sent to partners: attempts, status, response code, next attempt.
-- - `rwa_inventory`: each team's assets per partner (energy in kWh, food lots in kg, water in m3), exact numerics,
--   with a version every update must bump by one (optimistic concurrency); `rwa_movements`: the append-only
--   history, one movement per inbound delivery at most (exactly-once application).
-- - capabilities `embassy.manage` (link partners) and `rwa.read` (read the inventory); the Embassy events.
--
-- Rolled back by supabase/rollbacks/20261205000300_embassy_and_rwa.sql.

-- =========================================================================================================
-- Capabilities and events
-- =========================================================================================================

set local lock_timeout = '5s';
set local statement_timeout = '60s';

insert into public.capabilities (name, scope, privileged, description) values
  ('embassy.manage', 'team', true, 'Link integration partners (Embassies) to the team'),
  ('rwa.read', 'team', false, 'Read the team''s real-world-asset inventory');

insert into public.bundle_capabilities (bundle, capability) values
  ('member', 'rwa.read'),
  ('admin', 'rwa.read'),
  ('admin', 'embassy.manage'),
  ('owner', 'rwa.read'),
  ('owner', 'embassy.manage'),
  ('read-only', 'rwa.read');

insert into app.event_types (event_type, aggregate_type) values
  ('embassy.webhook_received', 'embassy_delivery'),
  ('embassy.partner_linked', 'team'),
  ('rwa.inventory_changed', 'rwa_inventory')
on conflict do nothing;

-- =========================================================================================================
-- Partners
-- =========================================================================================================

/** An integration partner. `secret_ref` names the configuration variable that holds its webhook secret(s):
    the gateway and the Embassy consumer read it from their configuration, the database never sees a secret. */
create table public.embassies (
  partner text primary key check (partner ~ '^[a-z][a-z0-9-]{1,39}$'),
  display_name text not null check (char_length(display_name) between 1 and 80),
  status text not null default 'active' check (status in ('active', 'paused', 'retired')),
  -- where outbound webhooks go (null: the partner subscribes to nothing yet)
  endpoint_url text check (endpoint_url ~ '^https?://[^\s]{1,500}$'),
  -- event types the partner may send us, and platform events it receives
  inbound_event_types text[] not null default '{}',
  outbound_event_types text[] not null default '{}',
  secret_ref text not null check (secret_ref ~ '^EMBASSY_WEBHOOK_SECRET_[A-Z0-9_]{1,40}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

insert into public.embassies (partner, display_name, inbound_event_types, outbound_event_types, secret_ref) values
  ('energy-union', 'Energy Union', array['energy.produced', 'energy.consumed'], array['rwa.inventory_changed'],
   'EMBASSY_WEBHOOK_SECRET_ENERGY_UNION'),
  ('greenfood', 'GREENFOOD', array['food.lot_received', 'food.lot_shipped'], array['rwa.inventory_changed'],
   'EMBASSY_WEBHOOK_SECRET_GREENFOOD'),
  ('water-union', 'Water Union', array['water.allocated', 'water.consumed'], array['rwa.inventory_changed'],
   'EMBASSY_WEBHOOK_SECRET_WATER_UNION'),
  ('essence-stream', 'Essence Stream', array['essence.ping'], array[]::text[],
   'EMBASSY_WEBHOOK_SECRET_ESSENCE_STREAM');

/** Which teams a partner acts for. Only a linked team's inventory changes through that partner's webhooks. */
create table public.embassy_team_links (
  partner text not null references public.embassies (partner) on delete cascade,
  team_id uuid not null references public.teams (id) on delete cascade,
  linked_by uuid references public.profiles (id) on delete set null,
  linked_at timestamptz not null default now(),
  primary key (partner, team_id)
);
create index embassy_team_links_team_idx on public.embassy_team_links (team_id);

-- =========================================================================================================
-- Deliveries
-- =========================================================================================================

/** An inbound webhook whose signature verified (refused ones are never stored: the sender is unknown).
    (partner, webhook_id) is unique: a replay finds the row and gets `answer_status`/`answer_body` again. */
create table public.embassy_webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  partner text not null references public.embassies (partner),
  webhook_id text not null check (char_length(webhook_id) between 1 and 200),
  event_type text not null check (char_length(event_type) between 1 and 100),
  -- the team the payload names, when it names a well-formed one
  team_id uuid,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  -- which configured secret verified it: the current one, or one kept during a rotation
  signature_outcome text not null check (signature_outcome in ('verified', 'verified_previous_secret')),
  -- accepted: queued for the consumer; unknown_type / invalid_payload: stored, answered 422, never applied
  status text not null check (status in ('accepted', 'unknown_type', 'invalid_payload')),
  answer_status integer not null check (answer_status between 200 and 599),
  answer_body jsonb not null,
  processed_at timestamptz,
  -- what the consumer did: applied, or why nothing changed
  result text check (result in ('applied', 'team_not_linked', 'insufficient_quantity', 'no_effect')),
  unique (partner, webhook_id),
  check ((processed_at is null) = (result is null))
);
create index embassy_webhook_deliveries_received_idx on public.embassy_webhook_deliveries (received_at desc);

/** What was received stays as received; a delivery is processed once. */
create function app.guard_embassy_webhook_delivery() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.partner, new.webhook_id, new.event_type, new.payload, new.received_at, new.signature_outcome, new.status,
      new.answer_status, new.answer_body)
     is distinct from
     (old.partner, old.webhook_id, old.event_type, old.payload, old.received_at, old.signature_outcome, old.status,
      old.answer_status, old.answer_body) then
    raise exception 'an inbound webhook delivery is kept as received' using errcode = '42501';
  end if;
  if old.processed_at is not null then
    raise exception 'webhook delivery % was already processed (%)', old.id, old.result using errcode = '55000';
  end if;
  if new.processed_at is not null and old.status <> 'accepted' then
    raise exception 'only accepted webhook deliveries are processed' using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger embassy_webhook_deliveries_guard before update on public.embassy_webhook_deliveries
  for each row execute function app.guard_embassy_webhook_delivery();

/** A platform event sent to a partner as a Standard Webhook (webhook-id = the event id, so the partner can
    deduplicate). pending → delivered, or pending (retried with backoff) → dead after the last attempt;
    dead → pending again by a manual redeliver. */
create table public.embassy_outbound_deliveries (
  id uuid primary key default gen_random_uuid(),
  partner text not null references public.embassies (partner),
  event_id uuid not null,
  event_type text not null check (char_length(event_type) between 1 and 100),
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'dead')),
  attempts integer not null default 0 check (attempts >= 0),
  last_response_code integer,
  last_error text check (char_length(last_error) <= 500),
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  unique (partner, event_id),
  check ((status = 'delivered') = (delivered_at is not null))
);
create index embassy_outbound_deliveries_due_idx on public.embassy_outbound_deliveries (next_attempt_at)
  where status = 'pending';

/** The outbound state machine: delivered is final; dead only goes back to pending (a manual redeliver). */
create function app.guard_embassy_outbound_delivery() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.partner, new.event_id, new.event_type, new.payload) is distinct from (old.partner, old.event_id, old.event_type, old.payload) then
    raise exception 'an outbound delivery keeps its event' using errcode = '42501';
  end if;
  if old.status = 'delivered' and new.status <> 'delivered' then
    raise exception 'outbound delivery % was delivered; it cannot become %', old.id, new.status using errcode = '55000';
  end if;
  if old.status = 'dead' and new.status = 'delivered' then
    raise exception 'a dead outbound delivery is redelivered through pending' using errcode = '55000';
  end if;
  if new.attempts < old.attempts then
    raise exception 'attempts only grow' using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger embassy_outbound_deliveries_guard before update on public.embassy_outbound_deliveries
  for each row execute function app.guard_embassy_outbound_delivery();

-- =========================================================================================================
-- Real-world-asset inventory
-- =========================================================================================================

/** A team's holding of one asset of one partner: exact quantities with their unit. Every update bumps
    `version` by exactly one, so a writer that read version n and updates `where version = n` loses cleanly
    to a concurrent writer instead of overwriting it. */
create table public.rwa_inventory (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  partner text not null references public.embassies (partner),
  asset_kind text not null check (asset_kind in ('energy', 'food_lot', 'water')),
  -- the partner's id of the asset (a meter, a lot number, a water right); one row per team and asset
  asset_ref text not null check (char_length(asset_ref) between 1 and 120),
  unit text not null check (unit in ('kWh', 'kg', 'm3')),
  quantity numeric(38, 6) not null default 0 check (quantity >= 0),
  location text check (char_length(location) <= 200),
  version bigint not null default 1 check (version >= 1),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (team_id, partner, asset_kind, asset_ref),
  check ((asset_kind, unit) in (('energy', 'kWh'), ('food_lot', 'kg'), ('water', 'm3')))
);

/** Optimistic versioning held by the database: version + 1 on every update, the identity of a row fixed. */
create function app.guard_rwa_inventory() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.version <> old.version + 1 then
    raise exception 'rwa_inventory % is at version %; an update must set version %', old.id, old.version, old.version + 1
      using errcode = '40001';
  end if;
  if (new.team_id, new.partner, new.asset_kind, new.asset_ref, new.unit) is distinct from
     (old.team_id, old.partner, old.asset_kind, old.asset_ref, old.unit) then
    raise exception 'an inventory row keeps its team, partner, asset and unit' using errcode = '42501';
  end if;
  new.updated_at := now();
  return new;
end
$$;
create trigger rwa_inventory_guard before update on public.rwa_inventory
  for each row execute function app.guard_rwa_inventory();

/** The inventory's history: one row per change, never updated or deleted. A delivery moves the inventory at
    most once (unique delivery_id), whatever the consumer's redeliveries. */
create table public.rwa_movements (
  id uuid primary key default gen_random_uuid(),
  inventory_id uuid not null references public.rwa_inventory (id) on delete cascade,
  team_id uuid not null references public.teams (id) on delete cascade,
  delivery_id uuid unique references public.embassy_webhook_deliveries (id),
  kind text not null check (kind in ('produced', 'consumed', 'received', 'shipped', 'allocated')),
  delta numeric(38, 6) not null check (delta <> 0),
  quantity_after numeric(38, 6) not null check (quantity_after >= 0),
  version_after bigint not null,
  occurred_at timestamptz not null,
  recorded_at timestamptz not null default now()
);
create index rwa_movements_inventory_idx on public.rwa_movements (inventory_id, recorded_at desc);
create index rwa_movements_team_idx on public.rwa_movements (team_id, recorded_at desc);

create function app.refuse_rwa_movement_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'rwa_movements is append-only' using errcode = '42501';
end
$$;
create trigger rwa_movements_append_only before update or delete on public.rwa_movements
  for each row when (pg_trigger_depth() = 0) execute function app.refuse_rwa_movement_change();

-- =========================================================================================================
-- Row-level security and privileges
-- =========================================================================================================

alter table public.embassies enable row level security;
alter table public.embassy_team_links enable row level security;
alter table public.embassy_webhook_deliveries enable row level security;
alter table public.embassy_outbound_deliveries enable row level security;
alter table public.rwa_inventory enable row level security;
alter table public.rwa_movements enable row level security;

create policy "Every signed-in principal sees the partner catalog" on public.embassies
  for select to authenticated
  using (true);

create policy "Holders of rwa.read see which partners their team is linked to" on public.embassy_team_links
  for select to authenticated
  using (team_id in (select app.teams_with_capability('rwa.read')));
create policy "Holders of embassy.manage link partners to their team" on public.embassy_team_links
  for insert to authenticated
  with check (team_id in (select app.teams_with_capability('embassy.manage')) and linked_by = (select auth.uid()));
create policy "Holders of embassy.manage unlink partners from their team" on public.embassy_team_links
  for delete to authenticated
  using (team_id in (select app.teams_with_capability('embassy.manage')));

create policy "Holders of rwa.read see their team's inventory" on public.rwa_inventory
  for select to authenticated
  using (team_id in (select app.teams_with_capability('rwa.read')));
create policy "Holders of rwa.read see their team's inventory history" on public.rwa_movements
  for select to authenticated
  using (team_id in (select app.teams_with_capability('rwa.read')));

-- Deliveries are the platform's bookkeeping (the gateway's webhook route and the Embassy consumer, as
-- service_role; the admin console through the admin API): RLS on and no policy for authenticated.

revoke all on public.embassies, public.embassy_team_links, public.embassy_webhook_deliveries,
  public.embassy_outbound_deliveries, public.rwa_inventory, public.rwa_movements from public, anon, authenticated;
grant select on public.embassies to authenticated;
grant select, delete on public.embassy_team_links to authenticated;
grant insert (partner, team_id, linked_by) on public.embassy_team_links to authenticated;
grant select on public.rwa_inventory, public.rwa_movements to authenticated;
grant all on public.embassies, public.embassy_team_links, public.embassy_webhook_deliveries,
  public.embassy_outbound_deliveries, public.rwa_inventory, public.rwa_movements to service_role;

revoke all on function app.guard_embassy_webhook_delivery(), app.guard_embassy_outbound_delivery(),
  app.guard_rwa_inventory(), app.refuse_rwa_movement_change() from public, anon, authenticated;
