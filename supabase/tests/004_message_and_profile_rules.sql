-- Rules the database keeps even when a write bypasses the gateway: a deleted message stays deleted and
-- unedited, an archived channel is read-only, and profiles follow auth.users (email optional, changes synced).
begin;
\ir helpers/authenticate.sql
select plan(9);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'alice@a.test');
insert into public.teams (id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001');
insert into public.channels (id, team_id, name, created_by) values
  ('aaaaaaaa-c000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'open', 'a0000000-0000-4000-8000-000000000001'),
  ('aaaaaaaa-c000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'closing', 'a0000000-0000-4000-8000-000000000001');
insert into public.messages (id, channel_id, team_id, author_id, body, deleted_at) values
  ('aaaaaaaa-e000-4000-8000-000000000001', 'aaaaaaaa-c000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'live', null),
  ('aaaaaaaa-e000-4000-8000-000000000002', 'aaaaaaaa-c000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'gone', now()),
  ('aaaaaaaa-e000-4000-8000-000000000003', 'aaaaaaaa-c000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'frozen', null);
update public.channels set archived_at = now() where id = 'aaaaaaaa-c000-4000-8000-000000000002';

select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select is(
  tests.rows_affected($$update public.messages set body = 'edited', edited_at = now() where id = 'aaaaaaaa-e000-4000-8000-000000000001'$$),
  1, 'an author edits her live message in an open channel (control)');
select throws_ok(
  $$update public.messages set deleted_at = null where id = 'aaaaaaaa-e000-4000-8000-000000000002'$$,
  '42501', null, 'a deleted message cannot be undeleted');
select throws_ok(
  $$update public.messages set body = 'revived' where id = 'aaaaaaaa-e000-4000-8000-000000000002'$$,
  '42501', null, 'a deleted message cannot be edited');
select throws_ok(
  $$update public.messages set body = 'thawed' where id = 'aaaaaaaa-e000-4000-8000-000000000003'$$,
  '42501', null, 'a message of an archived channel cannot be edited');
select throws_ok(
  $$insert into public.messages (channel_id, team_id, author_id, body) values
    ('aaaaaaaa-c000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'late')$$,
  '42501', null, 'nobody posts into an archived channel');

select tests.clear_authentication();
insert into auth.users (id, email, raw_user_meta_data) values
  ('c0000000-0000-4000-8000-000000000001', null, '{}'),
  ('c0000000-0000-4000-8000-000000000002', null, '{"display_name": "Phone User"}');
select is((select count(*)::int from public.profiles where id::text like 'c0000000%' and email is null), 2,
  'accounts without an email (phone, anonymous) each get a profile');
select is((select display_name from public.profiles where id = 'c0000000-0000-4000-8000-000000000001'), 'user',
  'a profile without email or display name is called "user"');
update auth.users set email = 'alice@new.test' where id = 'a0000000-0000-4000-8000-000000000001';
select is((select email from public.profiles where id = 'a0000000-0000-4000-8000-000000000001'), 'alice@new.test',
  'a changed sign-in email reaches the profile');
select throws_ok(
  $$insert into auth.users (id, email) values ('c0000000-0000-4000-8000-000000000003', 'ALICE@new.test')$$,
  '23505', null, 'two profiles cannot share an email, whatever its case');

select * from finish();
rollback;
