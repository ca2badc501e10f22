-- Rollback of 20261205001600_approved_safe_payouts_stay_payable.sql: approved Safe payouts can be cancelled
-- again, and app.cancel_payout is as 20261205000700 made it.
drop trigger if exists payouts_guard_approved_safe on public.payouts;
drop function if exists app.guard_approved_safe_payout();

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
  update public.payouts set status = 'cancelled' where id = payout.id;
  insert into public.audit_log (actor_id, team_id, action, target_type, target_id, request_id)
  values ((select auth.uid()), payout.team_id, 'payout.cancelled', 'payout', payout.id::text,
          (select auth.jwt()) ->> 'request_id');
  return 'cancelled';
end
$$;
