-- Cross-team isolation, enforced by RLS alone: a member of team B can neither read nor write team A's
-- channels and messages; a signed-in non-member and the anon role see nothing.
begin;
\ir helpers/authenticate.sql
select plan(24);

-- Arrange, as the superuser: team A (Alice owner, Bob member), team B (Carol owner), Dave in no team.
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'),
  ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
  ('b0000000-0000-4000-8000-000000000003', 'carol@b.test'),
  ('d0000000-0000-4000-8000-000000000004', 'dave@nowhere.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-0000-4000-8000-000000000000', 'Team B', 'b0000000-0000-4000-8000-000000000003');
insert into public.team_members (team_id, user_id, role) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'member');
insert into public.channels (id, team_id, name, created_by) values
  ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a-general', 'a0000000-0000-4000-8000-000000000001'),
  ('bbbbbbbb-c000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'b-general', 'b0000000-0000-4000-8000-000000000003');
insert into public.messages (id, channel_id, team_id, author_id, body) values
  ('aaaaaaaa-e000-4000-8000-000000000000', 'aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'team A secret'),
  ('bbbbbbbb-e000-4000-8000-000000000000', 'bbbbbbbb-c000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'team B note');

-- Carol, a member of team B only.
select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');

select is((select count(*)::int from public.channels where team_id = 'bbbbbbbb-0000-4000-8000-000000000000'), 1,
  'a member sees her own team''s channel (control)');
select is((select count(*)::int from public.channels where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 0,
  'a member of team B sees none of team A''s channels');
select is((select count(*)::int from public.messages where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 0,
  'a member of team B sees none of team A''s messages');
select is((select count(*)::int from public.teams where id = 'aaaaaaaa-0000-4000-8000-000000000000'), 0,
  'a member of team B does not see team A');
select is((select count(*)::int from public.team_members where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 0,
  'a member of team B does not see team A''s members');
select is((select count(*)::int from public.profiles where id = 'a0000000-0000-4000-8000-000000000001'), 0,
  'a member of team B does not see the profile of someone she shares no team with');

select throws_ok(
  $$insert into public.messages (channel_id, team_id, author_id, body) values
    ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'intrusion')$$,
  '42501', null, 'a member of team B cannot post into team A''s channel');
select throws_ok(
  $$insert into public.messages (channel_id, team_id, author_id, body) values
    ('aaaaaaaa-c000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'smuggled')$$,
  '42501', null, 'a message cannot claim team B while sitting in team A''s channel');
select throws_ok(
  $$insert into public.channels (team_id, name, created_by) values
    ('aaaaaaaa-0000-4000-8000-000000000000', 'planted', 'b0000000-0000-4000-8000-000000000003')$$,
  '42501', null, 'a member of team B cannot create a channel in team A');
select throws_ok(
  $$insert into public.team_members (team_id, user_id, role) values
    ('aaaaaaaa-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'owner')$$,
  '42501', null, 'a member of team B cannot make herself a member of team A');
select throws_ok(
  $$insert into public.messages (channel_id, team_id, author_id, body) values
    ('bbbbbbbb-c000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'forged')$$,
  '42501', null, 'nobody can post under another user''s name, even in their own channel');
select is(
  tests.rows_affected($$update public.channels set name = 'pwned' where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$), 0,
  'renaming team A''s channels as a member of team B touches no row');
select is(
  tests.rows_affected($$update public.messages set body = 'pwned', deleted_at = now() where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'$$), 0,
  'editing or soft-deleting team A''s messages as a member of team B touches no row');
select throws_ok($$delete from public.messages$$, '42501', null, 'hard deletes of messages are not granted to anyone signed in');

-- Dave, signed in but in no team.
select tests.authenticate_as('d0000000-0000-4000-8000-000000000004');
select is((select count(*)::int from public.channels), 0, 'a signed-in non-member sees no channel');
select is((select count(*)::int from public.messages), 0, 'a signed-in non-member sees no message');
select is((select count(*)::int from public.teams), 0, 'a signed-in non-member sees no team');
select is((select count(*)::int from public.team_members), 0, 'a signed-in non-member sees no membership');

-- The anon role: no privilege at all on the messaging tables.
select tests.authenticate_as_anon();
select throws_ok($$select 1 from public.channels$$, '42501', null, 'anon cannot read channels');
select throws_ok($$select 1 from public.messages$$, '42501', null, 'anon cannot read messages');
select throws_ok($$select 1 from public.teams$$, '42501', null, 'anon cannot read teams');

-- Behind RLS again: nothing the intruders tried left a trace.
select tests.clear_authentication();
select is((select name from public.channels where id = 'aaaaaaaa-c000-4000-8000-000000000000'), 'a-general',
  'team A''s channel kept its name');
select is((select body from public.messages where id = 'aaaaaaaa-e000-4000-8000-000000000000'), 'team A secret',
  'team A''s message kept its body');
select is((select count(*)::int from public.messages where team_id = 'aaaaaaaa-0000-4000-8000-000000000000'), 1,
  'team A still has exactly its one message');

select * from finish();
rollback;
