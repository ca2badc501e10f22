-- Feature flags: boolean and variant flags kept in the database, evaluated by the gateway and the workers
-- (functions/_shared/flags/) and served through OpenFeature providers. A flag has a kill switch (`enabled`:
-- off, everyone gets its default), ordered rules by environment, team, user and percentage (bucketed as
-- Unleash's gradual rollout buckets, so a user who is in at 10 % stays in at 20 %), and a default. Every change
-- goes through app.put_feature_flag: one audited row per change, a version that only grows, and a NOTIFY on
-- channel `feature_flags` that every process listens to.
--
-- Flags are platform-wide, so `flag.manage` becomes a platform capability (platform admins), taken out of the
-- owner bundle where 20261204000100 put it as a team capability.
--
-- Rolled back by supabase/rollbacks/20261205000600_feature_flags.sql.

set local lock_timeout = '5s';
set local statement_timeout = '60s';

delete from public.bundle_capabilities where capability = 'flag.manage';
update public.capabilities set scope = 'platform', description = 'Change feature flags (platform-wide)'
where name = 'flag.manage';

create table public.feature_flags (
  key text primary key check (key ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$' and length(key) <= 64),
  description text not null default '' check (length(description) <= 500),
  kind text not null check (kind in ('boolean', 'variant')),
  -- the kill switch: false serves the default to everyone, whatever the rules say
  enabled boolean not null default false,
  -- variant flags: the names a rule or the default may serve
  variants text[] not null default '{}',
  -- true/false for a boolean flag, a variant name for a variant flag
  default_value jsonb not null,
  -- [{environments?, teams?, users?, percentage?, value}], first match wins (shape checked by the gateway's zod schema)
  rules jsonb not null default '[]' check (jsonb_typeof(rules) = 'array' and jsonb_array_length(rules) <= 50),
  version bigint not null default 1,
  updated_at timestamptz not null default now(),
  updated_by uuid references auth.users (id) on delete set null,
  check (
    (kind = 'boolean' and jsonb_typeof(default_value) = 'boolean' and variants = '{}')
    or (kind = 'variant' and jsonb_typeof(default_value) = 'string' and (default_value #>> '{}') = any (variants))
  )
);
alter table public.feature_flags enable row level security;
-- no policy: read by the gateway and the workers as service_role, written only through app.put_feature_flag
revoke all on public.feature_flags from public, anon, authenticated;
grant select on public.feature_flags to service_role;

insert into app.audit_actions_without_team (action, reason) values
  ('flag.changed', 'feature flags are platform-wide; the platform admin who changed one is the actor');

/** Whether the caller is a platform admin signed in as a person (app_metadata is set by the auth service only). */
create function app.is_platform_admin() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(((select auth.jwt()) -> 'app_metadata' ->> 'platform_admin')::boolean, false)
    and not app.acting_as_key()
$$;

/** Creates or replaces a flag as a platform admin: audited (before and after), version + 1, NOTIFY. Returns
    the new version, or null without writing anything when `expected_version` (null: any) is not the flag's
    version (the change was made on a stale copy). */
create function app.put_feature_flag(
  flag_key text, definition jsonb, expected_version bigint, request_id text
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  before jsonb;
  after public.feature_flags;
begin
  if not app.is_platform_admin() then
    raise exception 'changing a feature flag needs the flag.manage capability (platform admins)' using errcode = '42501';
  end if;
  select to_jsonb(f) - 'updated_at' - 'updated_by' into before from public.feature_flags f where f.key = flag_key for update;
  if expected_version is not null and (before ->> 'version')::bigint is distinct from expected_version then
    return null; -- changed by someone else meanwhile: nothing written, the caller reloads
  end if;
  insert into public.feature_flags as f (key, description, kind, enabled, variants, default_value, rules, updated_by)
  values (
    flag_key,
    coalesce(definition ->> 'description', ''),
    definition ->> 'kind',
    coalesce((definition ->> 'enabled')::boolean, false),
    coalesce(array(select jsonb_array_elements_text(definition -> 'variants')), '{}'),
    definition -> 'default_value',
    coalesce(definition -> 'rules', '[]'),
    (select auth.uid())
  )
  on conflict (key) do update set
    description = excluded.description, kind = excluded.kind, enabled = excluded.enabled,
    variants = excluded.variants, default_value = excluded.default_value, rules = excluded.rules,
    version = f.version + 1, updated_at = now(), updated_by = excluded.updated_by
  returning * into after;
  perform app.record_audit('flag.changed', 'feature_flag', flag_key, null, request_id,
    jsonb_build_object('before', before, 'after', to_jsonb(after) - 'updated_at' - 'updated_by'));
  perform pg_notify('feature_flags', json_build_object('key', flag_key, 'version', after.version)::text);
  return after.version;
end
$$;
revoke all on function app.is_platform_admin() from public, anon;
grant execute on function app.is_platform_admin() to authenticated, service_role;
revoke all on function app.put_feature_flag(text, jsonb, bigint, text) from public, anon;
grant execute on function app.put_feature_flag(text, jsonb, bigint, text) to authenticated;

-- The seed's risky features start behind their flags: on where people develop and test, off elsewhere until
-- a platform admin ramps them. city.announcement is the city's banner (a harmless flag to try the switch on).
insert into public.feature_flags (key, description, kind, enabled, default_value, rules) values
  ('agents', 'Agents: registering agents and starting runs', 'boolean', true, 'false',
   '[{"environments": ["local", "test", "dev"], "value": true}]'),
  ('gift_fabric', 'Gift Fabric: the consumer that turns events into gifts', 'boolean', true, 'false',
   '[{"environments": ["local", "test", "dev"], "value": true}]'),
  ('rwa', 'Real-world assets: Embassy events applied to the RWA inventory', 'boolean', true, 'false',
   '[{"environments": ["local", "test", "dev"], "value": true}]'),
  ('city.announcement', 'A banner at the top of the city workspace', 'boolean', false, 'false', '[]');
