-- Wallet domain: team and member wallets, payouts with multi-approval, RINGK staking and a double-entry ledger
-- of off-chain credits.
--
-- - `payouts` is a state machine enforced here: requested → approved → submitted → confirmed | failed, and
--   requested | approved → cancelled. Amounts are exact integers in base units (numeric(78,0): any uint256).
--   The idempotency key is unique per team; the gateway keeps the hash of the request body beside it, so a
--   replay with another body can be told apart. The fields the chain consumer writes (nonce, signed tx, tx
--   hash) are recorded before broadcast, so a crash resumes from them and never signs a second payment.
-- - `payout_approvals`: one row per approver (distinct by key); the requester cannot approve their own
--   payout; the team's threshold (`wallet_settings`, default 1) of approvals moves it to approved.
-- - `ledger_transactions` / `ledger_entries`: append-only double entry; the entries of a transaction sum to
--   zero (a deferred constraint trigger checks it at commit).
-- - `staking_ringk` (+ `staking_ringk_history`): a stake moves credits from a member's account to their staked
--   account until `locked_until`; withdrawing moves them back, not earlier.
-- Every payout and stake transition enqueues its outbox event in the same transaction (triggers below).
-- API callers change state only through the security-definer functions, which check capabilities.
--
-- Rolled back by supabase/rollbacks/20261205000700_wallet_payouts_staking_ledger.sql.

-- =========================================================================================================
-- Capabilities and event types
-- =========================================================================================================

set local lock_timeout = '5s';
set local statement_timeout = '60s';

insert into public.capabilities (name, scope, privileged, description) values
  ('wallet.read', 'team', false, 'See the team''s wallets, payouts, balances and stakes'),
  ('stake.manage', 'team', false, 'Stake and withdraw one''s own RINGK credits'),
  ('wallet.manage', 'team', true, 'Register wallets, set the payout approval threshold, grant credits');

insert into public.bundle_capabilities (bundle, capability)
select b.bundle, c.capability
from (values
  ('member', array['wallet.read', 'stake.manage']),
  ('admin', array['wallet.read', 'stake.manage']),
  ('owner', array['wallet.read', 'stake.manage', 'wallet.manage'])
) as b (bundle, capabilities), unnest(b.capabilities) as c (capability);

insert into app.event_types (event_type, aggregate_type) values
  ('payout.requested', 'payout'),
  ('payout.approved', 'payout'),
  ('payout.submitted', 'payout'),
  ('payout.confirmed', 'payout'),
  ('payout.failed', 'payout'),
  ('payout.cancelled', 'payout'),
  ('stake.locked', 'stake'),
  ('stake.withdrawn', 'stake'),
  ('credits.granted', 'ledger')
on conflict do nothing;

-- =========================================================================================================
-- Wallets and settings
-- =========================================================================================================

/** An on-chain address the team knows: its treasury (one per chain) or a member's wallet. */
create table public.wallets (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  kind text not null check (kind in ('treasury', 'member')),
  -- the member owning a member wallet; null for the treasury
  owner_id uuid references public.profiles (id) on delete cascade,
  chain_id bigint not null check (chain_id > 0),
  address text not null check (address ~ '^0x[0-9a-f]{40}$'),
  created_at timestamptz not null default now(),
  check ((kind = 'treasury') = (owner_id is null)),
  unique (team_id, chain_id, address)
);
create unique index wallets_one_treasury_per_chain on public.wallets (team_id, chain_id) where kind = 'treasury';

/** Per-team wallet settings; a team without a row uses the defaults (threshold 1). */
create table public.wallet_settings (
  team_id uuid primary key references public.teams (id) on delete cascade,
  approval_threshold integer not null default 1 check (approval_threshold between 1 and 20),
  updated_by uuid references public.profiles (id) on delete set null,
  updated_at timestamptz not null default now()
);

/** How many distinct approvals a payout of the team needs. */
create function app.payout_threshold(target_team uuid) returns integer
language sql stable
security definer
set search_path = ''
as $$
  select coalesce((select approval_threshold from public.wallet_settings where team_id = target_team), 1)
$$;

-- =========================================================================================================
-- Payouts
-- =========================================================================================================

/** A transfer of `amount` base units of the ERC-20 `token` from the team's treasury to `recipient`. */
create table public.payouts (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  requested_by uuid references public.profiles (id) on delete set null,
  chain_id bigint not null check (chain_id > 0),
  token text not null check (token ~ '^0x[0-9a-f]{40}$'),
  recipient text not null check (recipient ~ '^0x[0-9a-f]{40}$'),
  amount numeric(78, 0) not null check (amount > 0 and amount < 2::numeric ^ 256),
  memo text not null default '' check (char_length(memo) <= 280),
  idempotency_key text not null check (char_length(idempotency_key) between 1 and 128),
  -- sha-256 (hex) of the normalised request, to refuse the key's reuse with another body
  request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
  status text not null default 'requested'
    check (status in ('requested', 'approved', 'submitted', 'confirmed', 'failed', 'cancelled')),
  -- written by the chain consumer before broadcast; the signed transaction is re-sent verbatim after a crash
  signer text check (signer ~ '^0x[0-9a-f]{40}$'),
  nonce bigint check (nonce >= 0),
  signed_tx text check (signed_tx ~ '^0x[0-9a-f]+$'),
  tx_hash text check (tx_hash ~ '^0x[0-9a-f]{64}$'),
  block_number bigint,
  confirmations integer not null default 0,
  attempts integer not null default 0,
  last_error text check (char_length(last_error) <= 1000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  approved_at timestamptz,
  submitted_at timestamptz,
  finished_at timestamptz,
  unique (team_id, idempotency_key),
  -- a submitted payout always carries the transaction it was sent as
  check (status not in ('submitted', 'confirmed') or (nonce is not null and signed_tx is not null and tx_hash is not null)),
  -- one chain transaction pays one payout
  unique (chain_id, signer, nonce)
);
create index payouts_team_status_idx on public.payouts (team_id, status, created_at desc);
create index payouts_in_flight_idx on public.payouts (status) where status in ('approved', 'submitted');

/** Which approver approved which payout: one row per person. */
create table public.payout_approvals (
  payout_id uuid not null references public.payouts (id) on delete cascade,
  approver_id uuid not null references public.profiles (id) on delete cascade,
  team_id uuid not null references public.teams (id) on delete cascade,
  approved_at timestamptz not null default now(),
  primary key (payout_id, approver_id)
);

/** The state machine: only the listed transitions, and what identifies a payout never changes. */
create function app.guard_payout_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.team_id, new.chain_id, new.token, new.recipient, new.amount, new.idempotency_key, new.request_hash)
     is distinct from (old.team_id, old.chain_id, old.token, old.recipient, old.amount, old.idempotency_key, old.request_hash) then
    raise exception 'a payout''s team, chain, token, recipient, amount and idempotency key never change' using errcode = '42501';
  end if;
  if old.status in ('confirmed', 'failed', 'cancelled') then
    raise exception 'payout % is % and final', old.id, old.status using errcode = '55000';
  end if;
  if new.status <> old.status and (old.status, new.status) not in (
    ('requested', 'approved'), ('requested', 'cancelled'),
    ('approved', 'submitted'), ('approved', 'cancelled'), ('approved', 'failed'),
    ('submitted', 'confirmed'), ('submitted', 'failed')
  ) then
    raise exception 'payout % cannot go from % to %', old.id, old.status, new.status using errcode = '55000';
  end if;
  -- once recorded, the transaction of a payout is the one it is paid with (re-sent, never replaced)
  if old.signed_tx is not null and new.signed_tx is distinct from old.signed_tx then
    raise exception 'payout % already has a signed transaction; it is re-sent, never replaced', old.id using errcode = '55000';
  end if;
  new.updated_at := now();
  if new.status <> old.status then
    case new.status
      when 'approved' then new.approved_at := now();
      when 'submitted' then new.submitted_at := now();
      else new.finished_at := now();
    end case;
  end if;
  return new;
end
$$;
create trigger payouts_guard_transition before update on public.payouts
  for each row execute function app.guard_payout_transition();

/** New payouts start as requested. */
create function app.guard_payout_insert() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status <> 'requested' or new.signed_tx is not null or new.tx_hash is not null then
    raise exception 'a payout starts as requested, without a transaction' using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger payouts_guard_insert before insert on public.payouts
  for each row execute function app.guard_payout_insert();

/** One outbox event per payout transition, in the transaction that makes it. */
create function app.enqueue_payout_event() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.status = old.status then
    return new;
  end if;
  perform app.enqueue_event('payout.' || new.status, 'payout', new.id::text, jsonb_build_object(
    'payout_id', new.id, 'team_id', new.team_id, 'status', new.status, 'chain_id', new.chain_id,
    'token', new.token, 'recipient', new.recipient, 'amount', new.amount::text, 'tx_hash', new.tx_hash,
    'last_error', new.last_error),
    coalesce((select auth.jwt()) ->> 'request_id', new.id::text));
  return new;
end
$$;
create trigger payouts_enqueue_event after insert or update of status on public.payouts
  for each row execute function app.enqueue_payout_event();

/** Records a payout request for a holder of payout.propose, or finds the one recorded under the same key.
    `replayed` says which; the caller compares `request_hash` to refuse a key reused with another body. */
create function app.request_payout(
  target_team uuid, payout_chain bigint, payout_token text, payout_recipient text, payout_amount numeric,
  payout_memo text, key text, body_hash text
) returns table (payout_id uuid, request_hash text, replayed boolean)
language plpgsql
security definer
set search_path = ''
as $$
declare
  made uuid;
begin
  if not app.has_capability(target_team, 'payout.propose') then
    raise exception 'capability payout.propose is missing in team %', target_team using errcode = '42501';
  end if;
  insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, memo, idempotency_key, request_hash)
  values (target_team, (select auth.uid()), payout_chain, lower(payout_token), lower(payout_recipient), payout_amount,
          coalesce(payout_memo, ''), key, body_hash)
  on conflict (team_id, idempotency_key) do nothing
  returning id into made;
  if made is not null then
    return query select made, body_hash, false;
  else
    return query select p.id, p.request_hash, true from public.payouts p where p.team_id = target_team and p.idempotency_key = key;
  end if;
end
$$;

/** Approves a requested payout as the caller (a holder of payout.approve other than its requester). Returns
    'approved' (the threshold is met), 'recorded' (more approvals needed), or why not: 'not_found',
    'not_requested', 'own_payout', 'already_approved'. */
create function app.approve_payout(target_payout uuid) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  payout public.payouts;
  approvals integer;
begin
  select * into payout from public.payouts where id = target_payout for update;
  if payout.id is null or not app.has_capability(payout.team_id, 'wallet.read') then
    return 'not_found';
  end if;
  if not app.has_capability(payout.team_id, 'payout.approve') then
    raise exception 'capability payout.approve is missing in team %', payout.team_id using errcode = '42501';
  end if;
  if payout.status <> 'requested' then
    return 'not_requested';
  end if;
  if payout.requested_by = (select auth.uid()) then
    return 'own_payout';
  end if;
  insert into public.payout_approvals (payout_id, approver_id, team_id)
  values (payout.id, (select auth.uid()), payout.team_id)
  on conflict do nothing;
  if not found then
    return 'already_approved';
  end if;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id)
  values ((select auth.uid()), payout.team_id, 'payout.approval_recorded', 'payout', payout.id::text,
          (select auth.jwt()) ->> 'request_id');
  select count(*) into approvals from public.payout_approvals where payout_id = payout.id;
  if approvals >= app.payout_threshold(payout.team_id) then
    update public.payouts set status = 'approved' where id = payout.id;
    return 'approved';
  end if;
  return 'recorded';
end
$$;

/** Cancels a payout not yet submitted, for its requester or a holder of payout.approve. Returns 'cancelled',
    'not_found', 'forbidden' or 'not_cancellable'. The consumer locks the row while it submits, so a cancel
    either happens before (the consumer then skips the payout) or finds it submitted. */
create function app.cancel_payout(target_payout uuid) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  payout public.payouts;
begin
  select * into payout from public.payouts where id = target_payout for update;
  if payout.id is null or not app.has_capability(payout.team_id, 'wallet.read') then
    return 'not_found';
  end if;
  if payout.requested_by is distinct from (select auth.uid()) and not app.has_capability(payout.team_id, 'payout.approve') then
    return 'forbidden';
  end if;
  if payout.status not in ('requested', 'approved') then
    return 'not_cancellable';
  end if;
  update public.payouts set status = 'cancelled' where id = payout.id;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id)
  values ((select auth.uid()), payout.team_id, 'payout.cancelled', 'payout', payout.id::text,
          (select auth.jwt()) ->> 'request_id');
  return 'cancelled';
end
$$;

/** Sets the team's approval threshold (holders of wallet.manage). */
create function app.set_payout_threshold(target_team uuid, threshold integer) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not app.has_capability(target_team, 'wallet.manage') then
    raise exception 'capability wallet.manage is missing in team %', target_team using errcode = '42501';
  end if;
  insert into public.wallet_settings (team_id, approval_threshold, updated_by)
  values (target_team, threshold, (select auth.uid()))
  on conflict (team_id) do update set approval_threshold = excluded.approval_threshold,
    updated_by = excluded.updated_by, updated_at = now();
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), target_team, 'wallet.threshold_set', 'team', target_team::text,
          (select auth.jwt()) ->> 'request_id', jsonb_build_object('approval_threshold', threshold));
end
$$;

-- =========================================================================================================
-- Double-entry ledger of off-chain credits
-- =========================================================================================================

/** One balanced movement of credits: its entries sum to zero. */
create table public.ledger_transactions (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  kind text not null check (kind in ('credit_grant', 'stake', 'unstake', 'gift')),
  memo text not null default '' check (char_length(memo) <= 280),
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now()
);

/** A debit (negative) or credit (positive) of one account. Accounts: `issuance` (where granted credits come
    from), `member:<uuid>` (spendable) and `staked:<uuid>` (locked in stakes). Append-only. */
create table public.ledger_entries (
  id bigint generated always as identity primary key,
  transaction_id uuid not null references public.ledger_transactions (id) on delete cascade,
  team_id uuid not null references public.teams (id) on delete cascade,
  account text not null check (account ~ '^(issuance|(member|staked):[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12})$'),
  amount numeric(78, 0) not null check (amount <> 0),
  created_at timestamptz not null default now()
);
create index ledger_entries_team_account_idx on public.ledger_entries (team_id, account);
create index ledger_entries_transaction_idx on public.ledger_entries (transaction_id);

/** At commit: the transaction's entries sum to zero, there are at least two, and all are in its team. */
create function app.check_ledger_transaction_balanced() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  total numeric;
  entries integer;
  foreign_entries integer;
begin
  select coalesce(sum(e.amount), 0), count(*), count(*) filter (where e.team_id <> t.team_id)
  into total, entries, foreign_entries
  from public.ledger_entries e join public.ledger_transactions t on t.id = e.transaction_id
  where e.transaction_id = new.transaction_id;
  if total <> 0 or entries < 2 or foreign_entries > 0 then
    raise exception 'ledger transaction % is unbalanced (sum %, % entries)', new.transaction_id, total, entries
      using errcode = '23514';
  end if;
  return null;
end
$$;
create constraint trigger ledger_entries_balanced after insert on public.ledger_entries
  deferrable initially deferred
  for each row execute function app.check_ledger_transaction_balanced();

/** Ledger rows are never changed or removed: corrections are new transactions. */
create function app.refuse_ledger_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'the ledger is append-only; record a correcting transaction instead' using errcode = '42501';
end
$$;
create trigger ledger_entries_append_only before update or delete on public.ledger_entries
  for each row when (pg_trigger_depth() = 0) execute function app.refuse_ledger_change();
create trigger ledger_transactions_append_only before update on public.ledger_transactions
  for each row execute function app.refuse_ledger_change();

/** The balance of one account of a team. */
create function app.ledger_balance(target_team uuid, target_account text) returns numeric
language sql stable
security definer
set search_path = ''
as $$
  select coalesce(sum(amount), 0) from public.ledger_entries where team_id = target_team and account = target_account
$$;

/** Moves `amount` from one account to another as one balanced transaction; refuses to overdraw `source`
    unless it is `issuance`. Serialised per source account (advisory lock), so two spends cannot both pass the
    balance check. Returns the transaction id. Not callable by API roles: the functions below check rights. */
create function app.post_ledger_transfer(
  target_team uuid, transfer_kind text, source text, destination text, amount numeric, memo text, actor uuid
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  tx_id uuid;
begin
  if amount is null or amount <= 0 then
    raise exception 'the amount must be a positive whole number of base units' using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtextextended(target_team::text || '/' || source, 0));
  if source <> 'issuance' and app.ledger_balance(target_team, source) < amount then
    raise exception 'insufficient credits: % holds %, % needed', source, app.ledger_balance(target_team, source), amount
      using errcode = 'P0001', hint = 'insufficient_credits';
  end if;
  insert into public.ledger_transactions (team_id, kind, memo, created_by)
  values (target_team, transfer_kind, coalesce(memo, ''), actor) returning id into tx_id;
  insert into public.ledger_entries (transaction_id, team_id, account, amount)
  values (tx_id, target_team, source, -amount), (tx_id, target_team, destination, amount);
  return tx_id;
end
$$;

/** Grants credits to a member of the team (holders of wallet.manage). */
create function app.grant_credits(target_team uuid, member uuid, amount numeric, memo text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  tx_id uuid;
begin
  if not app.has_capability(target_team, 'wallet.manage') then
    raise exception 'capability wallet.manage is missing in team %', target_team using errcode = '42501';
  end if;
  if not exists (select 1 from public.team_members where team_id = target_team and user_id = member) then
    raise exception 'credits go to members of the team only' using errcode = '22023';
  end if;
  tx_id := app.post_ledger_transfer(target_team, 'credit_grant', 'issuance', 'member:' || member, amount, memo, (select auth.uid()));
  perform app.enqueue_event('credits.granted', 'ledger', tx_id::text, jsonb_build_object(
    'transaction_id', tx_id, 'team_id', target_team, 'member_id', member, 'amount', amount::text),
    coalesce((select auth.jwt()) ->> 'request_id', tx_id::text));
  return tx_id;
end
$$;

-- =========================================================================================================
-- RINGK staking
-- =========================================================================================================

/** A member's stake of credits, locked until `locked_until`. */
create table public.staking_ringk (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  amount numeric(78, 0) not null check (amount > 0),
  lock_days integer not null check (lock_days between 0 and 3650),
  status text not null default 'locked' check (status in ('locked', 'withdrawn')),
  created_at timestamptz not null default now(),
  locked_until timestamptz not null,
  withdrawn_at timestamptz,
  check ((status = 'withdrawn') = (withdrawn_at is not null))
);
create index staking_ringk_team_user_idx on public.staking_ringk (team_id, user_id, created_at desc);

/** Every state a stake was in: its history. */
create table public.staking_ringk_history (
  id bigint generated always as identity primary key,
  stake_id uuid not null references public.staking_ringk (id) on delete cascade,
  team_id uuid not null references public.teams (id) on delete cascade,
  status text not null,
  amount numeric(78, 0) not null,
  actor_id uuid,
  at timestamptz not null default now()
);
create index staking_ringk_history_stake_idx on public.staking_ringk_history (stake_id, at);

/** A stake only goes locked → withdrawn, not before its lock ends; amount, owner and lock never change. */
create function app.guard_stake_transition() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.team_id, new.user_id, new.amount, new.lock_days, new.locked_until, new.created_at)
     is distinct from (old.team_id, old.user_id, old.amount, old.lock_days, old.locked_until, old.created_at) then
    raise exception 'a stake''s owner, amount and lock never change' using errcode = '42501';
  end if;
  if old.status = 'withdrawn' then
    raise exception 'stake % is already withdrawn', old.id using errcode = '55000';
  end if;
  if new.status = 'withdrawn' and now() < old.locked_until then
    raise exception 'stake % is locked until %', old.id, old.locked_until using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger staking_ringk_guard_transition before update on public.staking_ringk
  for each row execute function app.guard_stake_transition();

/** History row and outbox event of each stake state. */
create function app.record_stake_state() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.status = old.status then
    return new;
  end if;
  insert into public.staking_ringk_history (stake_id, team_id, status, amount, actor_id)
  values (new.id, new.team_id, new.status, new.amount, (select auth.uid()));
  perform app.enqueue_event('stake.' || new.status, 'stake', new.id::text, jsonb_build_object(
    'stake_id', new.id, 'team_id', new.team_id, 'user_id', new.user_id, 'amount', new.amount::text,
    'locked_until', new.locked_until),
    coalesce((select auth.jwt()) ->> 'request_id', new.id::text));
  return new;
end
$$;
create trigger staking_ringk_record_state after insert or update of status on public.staking_ringk
  for each row execute function app.record_stake_state();

/** Stakes the caller's own credits (holders of stake.manage); refuses more than they hold. */
create function app.stake_ringk(target_team uuid, amount numeric, lock_days integer) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := (select auth.uid());
  stake uuid;
begin
  if not app.has_capability(target_team, 'stake.manage') or app.acting_as_key() then
    raise exception 'capability stake.manage is missing in team %', target_team using errcode = '42501';
  end if;
  perform app.post_ledger_transfer(target_team, 'stake', 'member:' || me, 'staked:' || me, amount, '', me);
  insert into public.staking_ringk (team_id, user_id, amount, lock_days, locked_until)
  values (target_team, me, amount, lock_days, now() + make_interval(days => lock_days))
  returning id into stake;
  return stake;
end
$$;

/** Withdraws one of the caller's stakes once its lock has ended. Returns 'withdrawn', 'not_found',
    'locked' or 'already_withdrawn'. */
create function app.unstake_ringk(target_stake uuid) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := (select auth.uid());
  stake public.staking_ringk;
begin
  select * into stake from public.staking_ringk where id = target_stake and user_id = me for update;
  if stake.id is null or not app.has_capability(stake.team_id, 'stake.manage') then
    return 'not_found';
  end if;
  if stake.status = 'withdrawn' then
    return 'already_withdrawn';
  end if;
  if now() < stake.locked_until then
    return 'locked';
  end if;
  update public.staking_ringk set status = 'withdrawn', withdrawn_at = now() where id = stake.id;
  perform app.post_ledger_transfer(stake.team_id, 'unstake', 'staked:' || me, 'member:' || me, stake.amount, '', me);
  return 'withdrawn';
end
$$;

-- =========================================================================================================
-- Row-level security: holders of wallet.read see their team's wallet data; writes go through the functions
-- =========================================================================================================

alter table public.wallets enable row level security;
alter table public.wallet_settings enable row level security;
alter table public.payouts enable row level security;
alter table public.payout_approvals enable row level security;
alter table public.ledger_transactions enable row level security;
alter table public.ledger_entries enable row level security;
alter table public.staking_ringk enable row level security;
alter table public.staking_ringk_history enable row level security;

create policy "Holders of wallet.read see their team's wallets" on public.wallets
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));
create policy "Holders of wallet.read see their team's wallet settings" on public.wallet_settings
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));
create policy "Holders of wallet.read see their team's payouts" on public.payouts
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));
create policy "Holders of wallet.read see who approved their team's payouts" on public.payout_approvals
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));
create policy "Holders of wallet.read see their team's ledger transactions" on public.ledger_transactions
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));
create policy "Holders of wallet.read see their team's ledger entries" on public.ledger_entries
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));
create policy "Holders of wallet.read see their team's stakes" on public.staking_ringk
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));
create policy "Holders of wallet.read see their team's stake history" on public.staking_ringk_history
  for select to authenticated using (team_id in (select app.teams_with_capability('wallet.read')));

-- =========================================================================================================
-- Privileges
-- =========================================================================================================

revoke all on public.wallets, public.wallet_settings, public.payouts, public.payout_approvals,
  public.ledger_transactions, public.ledger_entries, public.staking_ringk, public.staking_ringk_history
  from public, anon, authenticated;
revoke all on all sequences in schema public from anon, authenticated;
grant select on public.wallets, public.wallet_settings, public.payout_approvals, public.ledger_transactions,
  public.ledger_entries, public.staking_ringk, public.staking_ringk_history to authenticated;
-- never the signed transaction: it is the consumer's, and worthless to a reader
grant select (id, team_id, requested_by, chain_id, token, recipient, amount, memo, idempotency_key, request_hash,
  status, signer, nonce, tx_hash, block_number, confirmations, attempts, last_error, created_at, updated_at,
  approved_at, submitted_at, finished_at) on public.payouts to authenticated;
grant all on public.wallets, public.wallet_settings, public.payouts, public.payout_approvals,
  public.ledger_transactions, public.ledger_entries, public.staking_ringk, public.staking_ringk_history to service_role;

revoke all on function app.payout_threshold(uuid), app.guard_payout_transition(), app.guard_payout_insert(),
  app.enqueue_payout_event(), app.request_payout(uuid, bigint, text, text, numeric, text, text, text),
  app.approve_payout(uuid), app.cancel_payout(uuid), app.set_payout_threshold(uuid, integer),
  app.check_ledger_transaction_balanced(), app.refuse_ledger_change(), app.ledger_balance(uuid, text),
  app.post_ledger_transfer(uuid, text, text, text, numeric, text, uuid), app.grant_credits(uuid, uuid, numeric, text),
  app.guard_stake_transition(), app.record_stake_state(), app.stake_ringk(uuid, numeric, integer), app.unstake_ringk(uuid)
  from public, anon, authenticated;
grant execute on function app.request_payout(uuid, bigint, text, text, numeric, text, text, text),
  app.approve_payout(uuid), app.cancel_payout(uuid), app.set_payout_threshold(uuid, integer),
  app.grant_credits(uuid, uuid, numeric, text), app.stake_ringk(uuid, numeric, integer), app.unstake_ringk(uuid)
  to authenticated, service_role;
grant execute on function app.payout_threshold(uuid), app.ledger_balance(uuid, text),
  app.post_ledger_transfer(uuid, text, text, text, numeric, text, uuid) to service_role;
