-- Safe multi-sig treasuries (issue 12): a team's treasury on a chain is either the hot signer (the default) or a
-- Safe (safe-global/safe-contracts 1.4.1) whose owners are members' wallets, with its own on-chain threshold.
-- - `chain_contracts`: the Safe singleton and proxy factory deployed once per chain (genesis hash as in
--   chain_tokens, migration 20261205001100), recorded by the launcher / wallet set-up.
-- - `wallets` kind 'member': a member registers their own address (app.register_member_wallet).
-- - `wallet_settings.safe_address/safe_chain_id`: the team's Safe (app.set_safe_treasury, wallet.manage, audited).
-- - A payout requested on the Safe's chain gets the Safe and the Safe nonce it will execute with, assigned on
--   insert under a lock per Safe (deterministic: the lowest nonce no live payout holds), so approvers can sign
--   the SafeTx hash before the payout is approved. Neither ever changes.
-- - `payout_approvals.signer_address/signature`: the approver's EIP-712 signature of that SafeTx, made with a
--   wallet of their own (app.approve_safe_payout; the gateway has checked that the signature recovers to it).
-- The wallet worker executes `execTransaction` once the Safe's owners' signatures reach the Safe's threshold.
--
-- Rolled back by supabase/rollbacks/20261205001110_safe_treasury.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** Contracts the wallet deployed once per chain (the Safe singleton and proxy factory, the local demo Safe). */
create table if not exists public.chain_contracts (
  chain_id bigint not null check (chain_id > 0),
  -- dev_safe: the local chain's demo Safe (scripts/wallet/local-chain.ts), owned by anvil's accounts 1-3
  name text not null check (name in ('safe_singleton', 'safe_proxy_factory', 'dev_safe')),
  address text not null check (address ~ '^0x[0-9a-f]{40}$'),
  genesis_hash text not null check (genesis_hash ~ '^0x[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  primary key (chain_id, name)
);
alter table public.chain_contracts enable row level security;
create policy "Chain contracts are visible to signed-in people" on public.chain_contracts
  for select to authenticated using ((select auth.uid()) is not null);
revoke all on public.chain_contracts from public, anon, authenticated;
grant select on public.chain_contracts to authenticated;
grant all on public.chain_contracts to service_role;

alter table public.wallet_settings
  add column safe_chain_id bigint check (safe_chain_id > 0),
  add column safe_address text check (safe_address ~ '^0x[0-9a-f]{40}$');

alter table public.payouts
  add column safe_address text check (safe_address ~ '^0x[0-9a-f]{40}$'),
  add column safe_nonce bigint check (safe_nonce >= 0);

alter table public.payout_approvals
  add column signer_address text check (signer_address ~ '^0x[0-9a-f]{40}$'),
  add column signature text check (signature ~ '^0x[0-9a-f]{130}$');

/** A payout on the chain of its team's Safe is paid by that Safe, with the lowest Safe nonce no live payout holds. */
create function app.assign_payout_safe() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  safe text;
begin
  select s.safe_address into safe from public.wallet_settings s
  where s.team_id = new.team_id and s.safe_chain_id = new.chain_id;
  if safe is null then
    new.safe_address := null;
    new.safe_nonce := null;
    return new;
  end if;
  -- one nonce sequence per Safe, however many requests arrive at once
  perform pg_advisory_xact_lock(hashtextextended('safe-nonce/' || new.chain_id || '/' || safe, 0));
  new.safe_address := safe;
  -- a nonce is held by a payout still alive, or by one that was approved (its SafeTx may carry enough signatures)
  select min(n) into new.safe_nonce
  from generate_series(0::bigint, (select coalesce(max(p.safe_nonce) + 1, 0) from public.payouts p
                                   where p.chain_id = new.chain_id and p.safe_address = safe)) as n
  where not exists (
    select 1 from public.payouts p
    where p.chain_id = new.chain_id and p.safe_address = safe and p.safe_nonce = n
      and (p.status not in ('cancelled', 'failed') or p.approved_at is not null));
  return new;
end
$$;
create trigger payouts_assign_safe before insert on public.payouts
  for each row execute function app.assign_payout_safe();

/** The Safe and Safe nonce of a payout are what its approvers signed: they never change. */
create function app.guard_payout_safe() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (new.safe_address, new.safe_nonce) is distinct from (old.safe_address, old.safe_nonce) then
    raise exception 'payout % is paid by Safe % with nonce %; that never changes', old.id, old.safe_address, old.safe_nonce
      using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger payouts_guard_safe before update of safe_address, safe_nonce on public.payouts
  for each row execute function app.guard_payout_safe();

/** Registers the caller's own wallet address in a team they belong to (a Safe owner signs with it). */
create function app.register_member_wallet(target_team uuid, wallet_chain bigint, wallet_address text) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  wallet_id uuid;
begin
  if not app.has_capability(target_team, 'wallet.read') then
    raise exception 'capability wallet.read is missing in team %', target_team using errcode = '42501';
  end if;
  insert into public.wallets (team_id, kind, owner_id, chain_id, address)
  values (target_team, 'member', (select auth.uid()), wallet_chain, lower(wallet_address))
  on conflict (team_id, chain_id, address) do nothing
  returning id into wallet_id;
  if wallet_id is null then
    select w.id into wallet_id from public.wallets w
    where w.team_id = target_team and w.chain_id = wallet_chain and w.address = lower(wallet_address)
      and w.owner_id = (select auth.uid());
  end if;
  return wallet_id; -- null: the address is registered to somebody else in this team
end
$$;

/** Makes the team's treasury on a chain the Safe at `safe` (holders of wallet.manage), audited. */
create function app.set_safe_treasury(target_team uuid, chain bigint, safe text) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not app.has_capability(target_team, 'wallet.manage') then
    raise exception 'capability wallet.manage is missing in team %', target_team using errcode = '42501';
  end if;
  insert into public.wallet_settings (team_id, safe_chain_id, safe_address, updated_by)
  values (target_team, chain, lower(safe), (select auth.uid()))
  on conflict (team_id) do update set safe_chain_id = excluded.safe_chain_id, safe_address = excluded.safe_address,
    updated_by = excluded.updated_by, updated_at = now();
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id, details)
  values ((select auth.uid()), target_team, 'wallet.safe_set', 'team', target_team::text,
          (select auth.jwt()) ->> 'request_id', jsonb_build_object('chain_id', chain, 'safe_address', lower(safe)));
end
$$;

/** Approves a Safe payout with the caller's signature of its SafeTx hash, made by `signer`, a wallet the caller
    registered in the team. Returns what app.approve_payout returns, or 'not_safe' (the payout is not paid by a
    Safe) or 'not_your_wallet'. An approved payout not yet executed still takes signatures ('recorded'): the
    Safe's threshold may exceed the team's. The gateway has verified that `signature` recovers to `signer`. */
create function app.approve_safe_payout(target_payout uuid, signer text, signature text) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  payout public.payouts;
  outcome text;
begin
  select * into payout from public.payouts where id = target_payout;
  if payout.id is null or not app.has_capability(payout.team_id, 'wallet.read') then
    return 'not_found';
  end if;
  if payout.safe_address is null then
    return 'not_safe';
  end if;
  if not exists (select 1 from public.wallets w where w.team_id = payout.team_id and w.kind = 'member'
                 and w.owner_id = (select auth.uid()) and w.chain_id = payout.chain_id and w.address = lower(signer)) then
    return 'not_your_wallet';
  end if;
  -- approved in SQL but not yet executed: the Safe's own threshold may be higher than the team's, so more owners
  -- may still sign (otherwise such a payout would wait forever); the same checks as app.approve_payout
  if payout.status = 'approved' then
    if not app.has_capability(payout.team_id, 'payout.approve') then
      raise exception 'capability payout.approve is missing in team %', payout.team_id using errcode = '42501';
    end if;
    if payout.requested_by = (select auth.uid()) then
      return 'own_payout';
    end if;
    insert into public.payout_approvals (payout_id, approver_id, team_id, signer_address, signature)
    values (payout.id, (select auth.uid()), payout.team_id, lower(signer), lower(approve_safe_payout.signature))
    on conflict do nothing;
    if not found then
      return 'already_approved';
    end if;
    insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id)
    values ((select auth.uid()), payout.team_id, 'payout.approval_recorded', 'payout', payout.id::text,
            (select auth.jwt()) ->> 'request_id');
    return 'recorded';
  end if;
  outcome := app.approve_payout(target_payout);
  if outcome in ('approved', 'recorded') then
    update public.payout_approvals a set signer_address = lower(signer), signature = lower(approve_safe_payout.signature)
    where a.payout_id = target_payout and a.approver_id = (select auth.uid());
  end if;
  return outcome;
end
$$;

-- the gateway reads which Safe pays a payout, and with which nonce, as the caller
grant select (safe_address, safe_nonce) on public.payouts to authenticated;

revoke all on function app.assign_payout_safe(), app.guard_payout_safe(), app.register_member_wallet(uuid, bigint, text),
  app.set_safe_treasury(uuid, bigint, text), app.approve_safe_payout(uuid, text, text) from public, anon, authenticated;
grant execute on function app.register_member_wallet(uuid, bigint, text), app.set_safe_treasury(uuid, bigint, text),
  app.approve_safe_payout(uuid, text, text) to authenticated, service_role;
