-- Rollback of 20261205001500_safe_is_the_team_treasury.sql: app.set_safe_treasury as 20261205001110 left it
-- (treasury wallets already recorded stay).
create or replace function app.set_safe_treasury(target_team uuid, chain bigint, safe text) returns void
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
