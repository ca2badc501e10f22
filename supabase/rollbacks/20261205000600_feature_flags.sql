-- Rolls back supabase/migrations/20261205000600_feature_flags.sql: the flags go, flag.manage is a team
-- capability of the owner bundle again.
drop function app.put_feature_flag(text, jsonb, bigint, text);
drop function app.is_platform_admin();
delete from app.audit_actions_without_team where action = 'flag.changed';
drop table public.feature_flags;
update public.capabilities set scope = 'team', description = 'Change feature flags' where name = 'flag.manage';
insert into public.bundle_capabilities (bundle, capability) values ('owner', 'flag.manage') on conflict do nothing;
