-- Files and attachments as the database enforces them: a team's files are invisible to other teams, an upload
-- starts pending as its uploader, pending moves to stored or rejected and never back, the object a row names
-- never changes, and only an author's own stored files go on their own messages.
begin;
\ir helpers/authenticate.sql
select plan(14);

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
  ('aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a-general', 'a0000000-0000-4000-8000-000000000001');
insert into public.messages (id, channel_id, team_id, author_id, body) values
  ('aaaaaaaa-e000-4000-8000-000000000001', 'aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'alice here'),
  ('aaaaaaaa-e000-4000-8000-000000000002', 'aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'bob here');

-- Alice starts an upload in team A
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select is(tests.rows_affected($$insert into public.files (team_id, owner_id, bucket, object_key, name, declared_type, size_bytes, sha256, upload_expires_at)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001',
  'microdao-test', 'aaaaaaaa/0123456789abcdef0123', 'cat.png', 'image/png', 100, decode(repeat('ab', 32), 'hex'), now() + interval '5 minutes')$$), 1,
  'a member with storage.write starts an upload of her own');
select throws_ok($$insert into public.files (team_id, owner_id, bucket, object_key, name, declared_type, size_bytes, sha256, upload_expires_at)
  values ('bbbbbbbb-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001',
  'microdao-test', 'bbbbbbbb/0123456789abcdef0123', 'x.png', 'image/png', 100, decode(repeat('ab', 32), 'hex'), now() + interval '5 minutes')$$,
  '42501', null, 'but not in a team she is not in');
select throws_ok($$insert into public.files (team_id, owner_id, bucket, object_key, name, declared_type, size_bytes, sha256, upload_expires_at)
  values ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002',
  'microdao-test', 'aaaaaaaa/0123456789abcdef0999', 'x.png', 'image/png', 100, decode(repeat('ab', 32), 'hex'), now() + interval '5 minutes')$$,
  '42501', null, 'nor in someone else''s name');
select throws_ok($$update public.files set status = 'stored', stored_at = now() where object_key = 'aaaaaaaa/0123456789abcdef0123'$$,
  '23514', null, 'stored needs the sniffed content type');
select is(tests.rows_affected($$update public.files set status = 'stored', stored_at = now(), content_type = 'image/png'
  where object_key = 'aaaaaaaa/0123456789abcdef0123'$$), 1, 'pending → stored');
select throws_ok($$update public.files set status = 'rejected', reject_reason = 'type_not_allowed', stored_at = null, content_type = null
  where object_key = 'aaaaaaaa/0123456789abcdef0123'$$, '23514', null, 'stored never becomes rejected');
select tests.clear_authentication();
select throws_ok($$update public.files set object_key = 'aaaaaaaa/another-key-000000' where object_key = 'aaaaaaaa/0123456789abcdef0123'$$,
  '23514', null, 'the object a row names never changes, not even for the superuser');

-- Bob (same team) sees it; Carol (team B) does not
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select is((select count(*)::int from public.files), 1, 'a teammate with storage.read sees the file');
select is(tests.rows_affected($$update public.files set deleted_at = now() where object_key = 'aaaaaaaa/0123456789abcdef0123'$$), 0,
  'but cannot delete what he did not upload');
select throws_ok($$insert into public.message_attachments (message_id, file_id, team_id) values
  ('aaaaaaaa-e000-4000-8000-000000000002', (select id from public.files where object_key = 'aaaaaaaa/0123456789abcdef0123'), 'aaaaaaaa-0000-4000-8000-000000000000')$$,
  '42501', null, 'nor attach Alice''s file to his message');
select tests.clear_authentication();
select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select is((select count(*)::int from public.files), 0, 'another team sees no file');
select tests.clear_authentication();

-- Alice attaches her stored file to her message, then deletes it; a deleted file stays deleted
select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select is(tests.rows_affected($$insert into public.message_attachments (message_id, file_id, team_id) values
  ('aaaaaaaa-e000-4000-8000-000000000001', (select id from public.files where object_key = 'aaaaaaaa/0123456789abcdef0123'), 'aaaaaaaa-0000-4000-8000-000000000000')$$), 1,
  'the author attaches her own stored file to her own message');
select is(tests.rows_affected($$update public.files set deleted_at = now() where object_key = 'aaaaaaaa/0123456789abcdef0123'$$), 1,
  'the uploader deletes her file');
select throws_ok($$update public.files set deleted_at = null where object_key = 'aaaaaaaa/0123456789abcdef0123'$$,
  '23514', null, 'and a deletion is final');
select tests.clear_authentication();

select * from finish();
rollback;
