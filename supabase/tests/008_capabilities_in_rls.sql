-- Capabilities enforced by the database itself: app.has_capability answers for the request's principal (a user
-- through the bundles their team grants their role, an access key through its bundle while it is live), and the
-- policies use it — so a member whose role loses message.write cannot post, a key reads only what its bundle
-- allows in its own team, and a revoked or expired key is refused by every statement, whatever a cache says.
begin;
\ir helpers/authenticate.sql
select plan(21);

-- Arrange, as the superuser: team A (Alice owner, Bob member) with a channel and a message; team B (Carol).
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'member');
insert into public.channels (id, team_id, name, created_by) values
  ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a-general', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-c000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'b-general', 'b0000000-0000-4000-8000-000000000003');
insert into public.messages (id, channel_id, team_id, author_id, body) values
  ('aaaaaaaa-e000-4000-8000-000000000000', 'aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'team A note'),
  ('bbbbbbbb-e000-4000-8000-000000000000', 'bbbbbbbb-c000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'team B note');

-- Two agents of team A with keys: one with the agent bundle, one with the embassy-partner bundle (no messages).
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select app.create_service_principal('aaaaaaaa-0000-4000-8000-000000000000', 'agent', 'Summarizer') as agent \gset
select app.create_service_principal('aaaaaaaa-0000-4000-8000-000000000000', 'integration', 'Energy Union') as partner \gset
select app.create_access_key('aaaaaaaa-0000-4000-8000-000000000000', :'agent', 'agent', 'worker', 'test',
  decode(repeat('a', 64), 'hex'), 'mdao_test_aaaaaa', now() + interval '30 days') as agent_key \gset
select app.create_access_key('aaaaaaaa-0000-4000-8000-000000000000', :'partner', 'embassy-partner', 'hooks', 'test',
  decode(repeat('b', 64), 'hex'), 'mdao_test_bbbbbb', now() + interval '30 days') as partner_key \gset
select tests.clear_authentication();

/** Act as a key's principal: the claims the gateway sets after checking the key's hash. */
create function tests.authenticate_as_key(principal uuid, key uuid) returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims',
    json_build_object('sub', principal, 'role', 'authenticated', 'aud', 'authenticated', 'key_id', key)::text, true);
  set local role authenticated;
end
$$;
grant execute on function tests.authenticate_as_key(uuid, uuid) to authenticated;

-- ---------------------------------------------------------------------------------------------------------
-- A member, through the bundles the team grants the member role
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select ok(app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'message.write'), 'a member holds message.write in her team');
select ok(not app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'channel.manage'), 'but not channel.manage');
select ok(not app.has_capability('bbbbbbbb-0000-4000-8000-000000000000', 'message.read'), 'and nothing in another team');
select is(tests.rows_affected($$insert into public.messages (channel_id, team_id, author_id, body) values
  ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'hi')$$), 1,
  'so RLS lets her post (control)');
select tests.clear_authentication();

-- the team takes the member bundle away from the member role and grants a read-only role bundle instead
insert into public.bundles (name, granted_to, description) values ('reader', 'role', 'reads only (test)');
insert into public.bundle_capabilities (bundle, capability) values ('reader', 'team.read'), ('reader', 'channel.read'), ('reader', 'message.read');
delete from public.team_role_bundles where team_id = 'aaaaaaaa-0000-4000-8000-000000000000' and role = 'member' and bundle = 'member';
insert into public.team_role_bundles (team_id, role, bundle) values ('aaaaaaaa-0000-4000-8000-000000000000', 'member', 'reader');

select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select ok(not app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'message.write'), 'once her role loses the bundle, she no longer holds message.write');
select throws_ok($$insert into public.messages (channel_id, team_id, author_id, body) values
  ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'hi again')$$,
  '42501', null, 'and RLS refuses her message');
select is((select count(*)::int from public.messages where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 2,
  'while she still reads the team''s messages');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------------------
-- Access keys, through their bundle, in their team only
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as_key(:'agent', :'agent_key');
select ok(app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'message.write'), 'an agent key holds message.write in its team');
select ok(not app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'key.manage'), 'but not key.manage');
select is((select count(*)::int from public.messages where team_id = 'bbbbbbbb-0000-4000-8000-000000000000'), 0,
  'an agent key reads nothing of another team');
select is(tests.rows_affected(format($$insert into public.messages (channel_id, team_id, author_id, body) values
  ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', %L, 'summary')$$, :'agent')), 1,
  'an agent key posts in its team, as its own principal');
select throws_ok($$insert into public.teams (name, created_by) values ('Agent Co', (select auth.uid()))$$,
  '42501', null, 'an agent key cannot create a team (team.create is for people)');
select tests.clear_authentication();

select tests.authenticate_as_key(:'partner', :'partner_key');
select is((select count(*)::int from public.messages), 0, 'a partner key (embassy-partner bundle) reads no messages, not even its team''s');
select is((select count(*)::int from public.channels), 0, 'nor channels');
select tests.clear_authentication();

-- a key presented by another principal than its own (forged claims) holds nothing
select tests.authenticate_as_key('a0000000-0000-4000-8000-000000000002', :'agent_key');
select ok(not app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'message.write'), 'a key id under another principal''s claims holds nothing');
select tests.clear_authentication();

-- revoked and expired keys are refused by the database at once
update public.access_keys set revoked_at = now() where id = :'agent_key';
select tests.authenticate_as_key(:'agent', :'agent_key');
select ok(not app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'message.read'), 'a revoked key holds nothing');
select is((select count(*)::int from public.messages), 0, 'and reads nothing');
select tests.clear_authentication();

update public.access_keys set created_at = now() - interval '2 days', expires_at = now() - interval '1 second' where id = :'partner_key';
select tests.authenticate_as_key(:'partner', :'partner_key');
select ok(not app.has_capability('aaaaaaaa-0000-4000-8000-000000000000', 'embassy.ingest'), 'an expired key holds nothing');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------------------
-- Grants: audited; the owner role keeps the owner bundle; keys cannot take role bundles
-- ---------------------------------------------------------------------------------------------------------
select is((select count(*)::int from public.audit_log where action in ('key.created', 'bundle.revoked')), 3,
  'the two keys created and the bundle revoked are in the audit log');
select throws_ok($$delete from public.team_role_bundles where team_id = 'aaaaaaaa-0000-4000-8000-000000000000' and role = 'owner' and bundle = 'owner'$$,
  '42501', 'the owner role keeps the owner bundle', 'the owner bundle cannot be taken from the owner role');
select throws_ok(format($$update public.access_keys set bundle = 'owner' where id = %L$$, :'agent_key'),
  '22023', null, 'a key cannot carry a role bundle');

select * from finish();
rollback;
