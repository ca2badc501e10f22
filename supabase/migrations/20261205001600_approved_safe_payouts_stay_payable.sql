-- An approved Safe payout holds its owners' signatures of a SafeTx that anyone may execute until the Safe uses
-- that nonce for something else: marking it cancelled here would not stop it, and a retry would then pay twice.
-- So the database refuses to cancel an approved Safe payout; its owners reject it in the Safe (a transaction with
-- the same nonce, as the Safe's own apps do), and the wallet worker, seeing the nonce used, marks it failed.
-- app.cancel_payout answers 'safe_signed' for it, so the routes can say so.
--
-- Rolled back by supabase/rollbacks/20261205001600_approved_safe_payouts_stay_payable.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

/** Refuses approved → cancelled for a Safe payout (see the top of this file). */
create function app.guard_approved_safe_payout() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.status = 'approved' and new.status = 'cancelled' and old.safe_address is not null then
    raise exception 'payout % is an approved Safe payout: its signed SafeTx stays executable until Safe % uses nonce %; reject that nonce in the Safe instead',
      old.id, old.safe_address, old.safe_nonce using errcode = '55000';
  end if;
  return new;
end
$$;
create trigger payouts_guard_approved_safe before update of status on public.payouts
  for each row execute function app.guard_approved_safe_payout();

/** Cancels a payout not yet submitted, for its requester or a holder of payout.approve. Returns 'cancelled',
    'not_found', 'forbidden', 'not_cancellable' or 'safe_signed' (an approved Safe payout). The consumer locks
    the row while it submits, so a cancel either happens before (the consumer then skips the payout) or finds it
    submitted. */
create or replace function app.cancel_payout(target_payout uuid) returns text
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
  if payout.status = 'approved' and payout.safe_address is not null then
    return 'safe_signed';
  end if;
  update public.payouts set status = 'cancelled' where id = payout.id;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id)
  values ((select auth.uid()), payout.team_id, 'payout.cancelled', 'payout', payout.id::text,
          (select auth.jwt()) ->> 'request_id');
  return 'cancelled';
end
$$;

revoke all on function app.guard_approved_safe_payout() from public, anon, authenticated;
