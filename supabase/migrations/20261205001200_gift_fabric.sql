-- Gift Fabric: members gift RINGK credits to each other. A gift is recorded as `sent` (with its outbox event
-- gift.sent) by app.send_gift, then applied to the double-entry ledger by the gift-fabric consumer through
-- app.apply_gift, which makes it `delivered` (gift.delivered) or `refused` (gift.refused) — never half-applied.
--
-- - `gifts`: sender, recipient (both members of the team), an exact amount in base units, an Idempotency-Key per
--   sender with the hash of its request (a replay with another body is told apart by the gateway).
-- - `ledger_transactions.reference`: a unique reference (`gift:<id>`), so one gift moves credits at most once
--   whatever the consumer receives (a redelivery, an outbox replay under a new event id).
-- - Balances of member and staked accounts never go below zero: a deferred constraint trigger on ledger_entries
--   checks every debited account at commit, whatever path wrote it (the functions check too, under a lock).
-- - "Available" credits at request time are the spendable balance minus the sender's gifts still `sent`.
--
-- Rolled back by supabase/rollbacks/20261205001200_gift_fabric.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

-- =========================================================================================================
-- Capability and event types
-- =========================================================================================================

insert into public.capabilities (name, scope, privileged, description) values
  ('gift.send', 'team', false, 'Gift one''s own RINGK credits to another member of the team');

insert into public.bundle_capabilities (bundle, capability) values
  ('member', 'gift.send'), ('admin', 'gift.send'), ('owner', 'gift.send');

insert into app.event_types (event_type, aggregate_type) values
  ('gift.sent', 'gift'),
  ('gift.delivered', 'gift'),
  ('gift.refused', 'gift')
on conflict do nothing;

-- =========================================================================================================
-- Ledger: a unique reference per transaction, and no member or staked account below zero
-- =========================================================================================================

alter table public.ledger_transactions add column reference text check (reference ~ '^[a-z_]+:[0-9a-f-]{36}$');
create unique index ledger_transactions_reference_key on public.ledger_transactions (reference);

/** At commit: an account debited in this transaction (other than issuance) holds zero or more. */
create function app.check_ledger_account_not_negative() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  balance numeric;
begin
  select coalesce(sum(amount), 0) into balance from public.ledger_entries where team_id = new.team_id and account = new.account;
  if balance < 0 then
    raise exception 'ledger account % would hold % (below zero)', new.account, balance
      using errcode = '23514', hint = 'insufficient_credits';
  end if;
  return null;
end
$$;
create constraint trigger ledger_entries_not_negative after insert on public.ledger_entries
  deferrable initially deferred
  for each row when (new.amount < 0 and new.account <> 'issuance')
  execute function app.check_ledger_account_not_negative();

-- =========================================================================================================
-- Gifts
-- =========================================================================================================

/** A gift of `amount` base units of credits from one member of a team to another. */
create table public.gifts (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  sender_id uuid not null references public.profiles (id) on delete cascade,
  recipient_id uuid not null references public.profiles (id) on delete cascade,
  amount numeric(78, 0) not null check (amount > 0 and amount < 2::numeric ^ 256),
  memo text not null default '' check (char_length(memo) <= 280),
  idempotency_key text not null check (char_length(idempotency_key) between 1 and 128),
  -- sha-256 (hex) of the normalised request, to refuse the key's reuse with another body
  request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
  status text not null default 'sent' check (status in ('sent', 'delivered', 'refused')),
  refusal_reason text check (char_length(refusal_reason) <= 500),
  ledger_transaction_id uuid unique references public.ledger_transactions (id),
  created_at timestamptz not null default now(),
  finished_at timestamptz,
  check (sender_id <> recipient_id),
  check ((status = 'delivered') = (ledger_transaction_id is not null)),
  check ((status = 'refused') = (refusal_reason is not null)),
  check ((status = 'sent') = (finished_at is null)),
  unique (team_id, sender_id, idempotency_key)
);
create index gifts_team_feed_idx on public.gifts (team_id, created_at desc, id desc);
-- what the sender has in flight (the available-credits check)
create index gifts_sender_in_flight_idx on public.gifts (team_id, sender_id) where status = 'sent';

/** sent → delivered | refused, once; what identifies a gift never changes. */
create function app.guard_gift_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.team_id, new.sender_id, new.recipient_id, new.amount, new.memo, new.idempotency_key, new.request_hash, new.created_at)
     is distinct from (old.team_id, old.sender_id, old.recipient_id, old.amount, old.memo, old.idempotency_key, old.request_hash, old.created_at) then
    raise exception 'a gift''s team, sender, recipient, amount, memo and key never change' using errcode = '42501';
  end if;
  if old.status <> 'sent' then
    raise exception 'gift % is % and final', old.id, old.status using errcode = '55000';
  end if;
  if new.status <> old.status then
    new.finished_at := now();
  end if;
  return new;
end
$$;
create trigger gifts_guard_transition before update on public.gifts
  for each row execute function app.guard_gift_transition();

/** New gifts start as sent. */
create function app.guard_gift_insert() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status <> 'sent' or new.ledger_transaction_id is not null then
    raise exception 'a gift starts as sent, before any ledger movement' using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger gifts_guard_insert before insert on public.gifts
  for each row execute function app.guard_gift_insert();

/** gift.sent / gift.delivered / gift.refused in the transaction that makes the state. */
create function app.enqueue_gift_event() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.status = old.status then
    return new;
  end if;
  perform app.enqueue_event('gift.' || new.status, 'gift', new.id::text, jsonb_build_object(
    'gift_id', new.id, 'team_id', new.team_id, 'sender_id', new.sender_id, 'recipient_id', new.recipient_id,
    'amount', new.amount::text, 'status', new.status, 'refusal_reason', new.refusal_reason,
    'created_at', new.created_at),
    coalesce((select auth.jwt()) ->> 'request_id', new.id::text));
  return new;
end
$$;
create trigger gifts_enqueue_event after insert or update of status on public.gifts
  for each row execute function app.enqueue_gift_event();

/** Spendable credits of a member minus their gifts not yet applied. */
create function app.available_credits(target_team uuid, member uuid) returns numeric
language sql stable
security definer
set search_path = ''
as $$
  select app.ledger_balance(target_team, 'member:' || member)
    - coalesce((select sum(amount) from public.gifts where team_id = target_team and sender_id = member and status = 'sent'), 0)
$$;

/** Records a gift from the caller (a holder of gift.send, as a person) to another member, or finds the one
    recorded under the same key (`replayed`; the caller compares `request_hash`). Refuses with hint
    insufficient_credits (P0001) a gift over the caller's available credits, with 22023 and a hint saying
    which a gift to oneself (own_gift) or to a non-member (recipient_not_member). */
create function app.send_gift(
  target_team uuid, recipient uuid, gift_amount numeric, gift_memo text, key text, body_hash text
) returns table (gift_id uuid, request_hash text, replayed boolean)
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := (select auth.uid());
  made uuid;
begin
  if me is null or app.acting_as_key() or not app.has_capability(target_team, 'gift.send') then
    raise exception 'capability gift.send is missing in team %', target_team using errcode = '42501';
  end if;
  select g.id into made from public.gifts g where g.team_id = target_team and g.sender_id = me and g.idempotency_key = key;
  if made is not null then
    return query select g.id, g.request_hash, true from public.gifts g where g.id = made;
    return;
  end if;
  if recipient = me then
    raise exception 'a gift goes to another member, not to oneself' using errcode = '22023', hint = 'own_gift';
  end if;
  if not exists (select 1 from public.team_members where team_id = target_team and user_id = recipient) then
    raise exception 'the recipient is not a member of the team' using errcode = '22023', hint = 'recipient_not_member';
  end if;
  if gift_amount is null or gift_amount <= 0 or gift_amount <> trunc(gift_amount) then
    raise exception 'the amount must be a positive whole number of base units' using errcode = '22023', hint = 'invalid_amount';
  end if;
  -- the same lock as ledger transfers from this account: two gifts (or a gift and a stake) check one after the other
  perform pg_advisory_xact_lock(hashtextextended(target_team::text || '/member:' || me, 0));
  -- the same key may have committed while this request waited for the lock: that gift is the answer
  select g.id into made from public.gifts g where g.team_id = target_team and g.sender_id = me and g.idempotency_key = key;
  if made is not null then
    return query select g.id, g.request_hash, true from public.gifts g where g.id = made;
    return;
  end if;
  if app.available_credits(target_team, me) < gift_amount then
    raise exception 'insufficient credits: % available, % needed', app.available_credits(target_team, me), gift_amount
      using errcode = 'P0001', hint = 'insufficient_credits';
  end if;
  insert into public.gifts (team_id, sender_id, recipient_id, amount, memo, idempotency_key, request_hash)
  values (target_team, me, recipient, gift_amount, coalesce(gift_memo, ''), key, body_hash)
  on conflict (team_id, sender_id, idempotency_key) do nothing
  returning id into made;
  if made is not null then
    return query select made, body_hash, false;
  else
    -- the same key raced in from another request of the sender: its gift is the answer
    return query select g.id, g.request_hash, true from public.gifts g
      where g.team_id = target_team and g.sender_id = me and g.idempotency_key = key;
  end if;
end
$$;

/** Applies a sent gift to the ledger exactly once (the gift-fabric consumer, as service_role): 'delivered'
    (credits moved, reference gift:<id>), 'refused' (the sender no longer holds the amount, or the recipient
    left the team: nothing moved), 'not_found', or 'already_delivered' / 'already_refused' for a gift applied
    before (a duplicate event: nothing happens). */
create function app.apply_gift(target_gift uuid) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  gift public.gifts;
  source text;
  tx_id uuid;
  held numeric;
begin
  select * into gift from public.gifts where id = target_gift for update;
  if gift.id is null then
    return 'not_found';
  end if;
  if gift.status <> 'sent' then
    return 'already_' || gift.status;
  end if;
  source := 'member:' || gift.sender_id;
  perform pg_advisory_xact_lock(hashtextextended(gift.team_id::text || '/' || source, 0));
  if not exists (select 1 from public.team_members where team_id = gift.team_id and user_id = gift.recipient_id) then
    update public.gifts set status = 'refused', refusal_reason = 'recipient_not_member: the recipient left the team before the gift was applied'
    where id = gift.id;
    return 'refused';
  end if;
  held := app.ledger_balance(gift.team_id, source);
  if held < gift.amount then
    update public.gifts set status = 'refused',
      refusal_reason = format('insufficient_credits: the sender held %s when the gift was applied, %s needed', held, gift.amount)
    where id = gift.id;
    return 'refused';
  end if;
  insert into public.ledger_transactions (team_id, kind, memo, created_by, reference)
  values (gift.team_id, 'gift', gift.memo, gift.sender_id, 'gift:' || gift.id)
  on conflict (reference) do nothing
  returning id into tx_id;
  if tx_id is null then
    -- moved before under this reference (cannot happen while the row lock holds the status, kept as the last word)
    raise exception 'gift % was already applied to the ledger', gift.id using errcode = '55000';
  end if;
  insert into public.ledger_entries (transaction_id, team_id, account, amount)
  values (tx_id, gift.team_id, source, -gift.amount), (tx_id, gift.team_id, 'member:' || gift.recipient_id, gift.amount);
  update public.gifts set status = 'delivered', ledger_transaction_id = tx_id where id = gift.id;
  return 'delivered';
end
$$;

-- =========================================================================================================
-- Row-level security and privileges: holders of wallet.read see their team's gifts; writes through functions
-- =========================================================================================================

alter table public.gifts enable row level security;
create policy "Holders of wallet.read see their team's gifts" on public.gifts
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));

revoke all on public.gifts from public, anon, authenticated;
grant select (id, team_id, sender_id, recipient_id, amount, memo, status, refusal_reason, ledger_transaction_id,
  created_at, finished_at) on public.gifts to authenticated;
grant all on public.gifts to service_role;

revoke all on function app.check_ledger_account_not_negative(), app.guard_gift_transition(), app.guard_gift_insert(),
  app.enqueue_gift_event(), app.available_credits(uuid, uuid), app.send_gift(uuid, uuid, numeric, text, text, text),
  app.apply_gift(uuid)
  from public, anon, authenticated;
grant execute on function app.send_gift(uuid, uuid, numeric, text, text, text) to authenticated, service_role;
grant execute on function app.available_credits(uuid, uuid), app.apply_gift(uuid) to service_role;
