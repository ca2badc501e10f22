-- Feature flags (20261205000600): only a platform admin signed in as a person changes a flag, through
-- app.put_feature_flag; each change is one audit entry with the before and after, a version one higher and a
-- NOTIFY; a change on a stale expected version writes nothing; the table's checks refuse a flag that serves what it cannot.
begin;
\ir helpers/authenticate.sql
select plan(13);

insert into auth.users (id, email) values
  ('f0000000-0000-4000-8000-000000000001', 'root@flags.test'),
  ('f0000000-0000-4000-8000-000000000002', 'member@flags.test');

/** Signs in as a platform admin (app_metadata.platform_admin, which only the auth service sets). */
create function tests.authenticate_as_platform_admin(user_id uuid) returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims', json_build_object('sub', user_id, 'role', 'authenticated', 'aud', 'authenticated',
    'app_metadata', json_build_object('platform_admin', true))::text, true);
  set local role authenticated;
end
$$;

select is((select scope from public.capabilities where name = 'flag.manage'), 'platform', 'flag.manage is a platform capability');
select is_empty($$select bundle from public.bundle_capabilities where capability = 'flag.manage'$$, 'no team bundle holds flag.manage');

-- a member of a team, not a platform admin
select tests.authenticate_as('f0000000-0000-4000-8000-000000000002');
select throws_ok(
  $$select app.put_feature_flag('city.announcement', '{"kind": "boolean", "enabled": true, "default_value": true}', null, 'req-1')$$,
  '42501', 'changing a feature flag needs the flag.manage capability (platform admins)', 'a person who is not a platform admin cannot change a flag');
select throws_ok($$select * from public.feature_flags$$, '42501', null, 'nor read the flags table directly');

select tests.authenticate_as_platform_admin('f0000000-0000-4000-8000-000000000001');
listen feature_flags;
select is(
  app.put_feature_flag('city.announcement', '{"kind": "boolean", "enabled": true, "default_value": false, "rules": [{"percentage": 10, "value": true}]}', 1, 'req-2'),
  2::bigint, 'a platform admin changes a flag: its version goes from 1 to 2');
select is(
  app.put_feature_flag('ops.new_flag', '{"kind": "variant", "enabled": true, "variants": ["a", "b"], "default_value": "a"}', null, 'req-3'),
  1::bigint, 'and creates one at version 1');
select is(
  app.put_feature_flag('city.announcement', '{"kind": "boolean", "enabled": false, "default_value": false}', 1, 'req-4'),
  null, 'a change made on a stale version writes nothing');
select throws_ok(
  $$select app.put_feature_flag('ops.bad', '{"kind": "variant", "enabled": true, "variants": ["a"], "default_value": "z"}', null, 'req-5')$$,
  '23514', null, 'a variant flag whose default is not one of its variants is refused by the table');
select throws_ok(
  $$select app.put_feature_flag('ops.bad', '{"kind": "boolean", "enabled": true, "default_value": "yes"}', null, 'req-6')$$,
  '23514', null, 'so is a boolean flag whose default is not a boolean');

select tests.clear_authentication();
select is(
  (select details -> 'before' ->> 'version' || '→' || (details -> 'after' ->> 'version') from public.audit_log
   where action = 'flag.changed' and target_id = 'city.announcement' and request_id = 'req-2'),
  '1→2', 'the change is audited with the flag before and after');
select is(
  (select actor_id from public.audit_log where action = 'flag.changed' and request_id = 'req-3'),
  'f0000000-0000-4000-8000-000000000001'::uuid, 'by the platform admin who made it');
select is(
  (select count(*)::int from public.audit_log where action = 'flag.changed' and request_id in ('req-4', 'req-5', 'req-6')),
  0, 'a refused change leaves no audit entry');

-- a platform admin acting through an access key cannot: keys never hold platform capabilities
select set_config('request.jwt.claims', json_build_object('sub', 'f0000000-0000-4000-8000-000000000001', 'role', 'authenticated',
  'key_id', 'f0000000-0000-4000-8000-0000000000ee', 'app_metadata', json_build_object('platform_admin', true))::text, true);
set local role authenticated;
select throws_ok(
  $$select app.put_feature_flag('city.announcement', '{"kind": "boolean", "enabled": false, "default_value": false}', null, 'req-7')$$,
  '42501', null, 'an access key cannot change a flag, whatever its claims say');

select * from finish();
rollback;
