-- Projects and tasks in the database itself: the status workflow and its illegal steps, isolation between
-- teams on every new table, who may create what (project.manage, task.write), assignees from the team only,
-- the message link, and an outbox event for every change.
begin;
\ir helpers/authenticate.sql
select plan(25);

-- Arrange, as the superuser: team A (Alice owner, Bob member) with a message; team B (Carol owner).
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
  ('aaaaaaaa-e000-4000-8000-000000000000', 'aaaaaaaa-c000-4000-8000-000000000000', 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'fix the roof'),
  ('bbbbbbbb-e000-4000-8000-000000000000', 'bbbbbbbb-c000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'team B note');
insert into public.projects (id, team_id, name, created_by) values
  ('bbbbbbbb-d000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'B work', 'b0000000-0000-4000-8000-000000000003');
insert into public.tasks (id, project_id, team_id, title, created_by) values
  ('bbbbbbbb-f000-4000-8000-000000000000', 'bbbbbbbb-d000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'B task', 'b0000000-0000-4000-8000-000000000003');

-- ---------------------------------------------------------------------------------------------------------
-- Who creates projects and tasks
-- ---------------------------------------------------------------------------------------------------------
select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select throws_ok($$insert into public.projects (team_id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Bob''s', 'a0000000-0000-4000-8000-000000000002')$$,
  '42501', null, 'a member (no project.manage) cannot create a project');
select tests.clear_authentication();

select tests.authenticate_as('a0000000-0000-4000-8000-000000000001');
select lives_ok($$insert into public.projects (team_id, name, created_by) values
  ('aaaaaaaa-0000-4000-8000-000000000000', 'Roofs', 'a0000000-0000-4000-8000-000000000001')$$,
  'the owner creates a project');
select tests.clear_authentication();
-- ids are the database's (the API roles cannot choose them): remembered in settings the statements below read
select set_config('tests.project_a', (select id::text from public.projects where name = 'Roofs'), true);

select tests.authenticate_as('a0000000-0000-4000-8000-000000000002');
select lives_ok($$insert into public.tasks (project_id, team_id, title, source_message_id, labels, created_by) values
  (current_setting('tests.project_a')::uuid, 'aaaaaaaa-0000-4000-8000-000000000000',
   'Fix the roof', 'aaaaaaaa-e000-4000-8000-000000000000', '{roof,urgent}', 'a0000000-0000-4000-8000-000000000002')$$,
  'a member (task.write) creates a task from a message of her team');
select set_config('tests.task_a', (select id::text from public.tasks where title = 'Fix the roof'), true);
select is((select count(*)::int from public.tasks where source_message_id = 'aaaaaaaa-e000-4000-8000-000000000000'), 1,
  'the message finds its task (the link read the other way)');
select throws_ok($$insert into public.tasks (project_id, team_id, title, source_message_id, created_by) values
  (current_setting('tests.project_a')::uuid, 'aaaaaaaa-0000-4000-8000-000000000000', 'Leak', 'bbbbbbbb-e000-4000-8000-000000000000',
   'a0000000-0000-4000-8000-000000000002')$$,
  '42501', null, 'a task cannot point at a message of another team');
select throws_ok($$insert into public.tasks (project_id, team_id, title, created_by) values
  ('bbbbbbbb-d000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000', 'Sneaky', 'a0000000-0000-4000-8000-000000000002')$$,
  '42501', null, 'nor be created in another team''s project');
select throws_ok($$insert into public.tasks (project_id, team_id, title, labels, created_by) values
  (current_setting('tests.project_a')::uuid, 'aaaaaaaa-0000-4000-8000-000000000000', 'Bad labels', '{"Not A Label"}',
   'a0000000-0000-4000-8000-000000000002')$$,
  '23514', null, 'labels are short lowercase words');

-- ---------------------------------------------------------------------------------------------------------
-- The workflow
-- ---------------------------------------------------------------------------------------------------------
select throws_ok($$update public.tasks set status = 'done' where id = current_setting('tests.task_a')::uuid$$,
  '55000', null, 'todo cannot jump to done');
select throws_ok($$update public.tasks set status = 'review' where id = current_setting('tests.task_a')::uuid$$,
  '55000', null, 'nor to review');
select is(tests.rows_affected($$update public.tasks set status = 'in_progress' where id = current_setting('tests.task_a')::uuid$$), 1,
  'todo → in_progress');
select is(tests.rows_affected($$update public.tasks set status = 'review' where id = current_setting('tests.task_a')::uuid$$), 1,
  'in_progress → review');
select is(tests.rows_affected($$update public.tasks set status = 'in_progress' where id = current_setting('tests.task_a')::uuid$$), 1,
  'review → in_progress (one step back)');
select is(tests.rows_affected($$update public.tasks set status = 'review' where id = current_setting('tests.task_a')::uuid$$)
  + tests.rows_affected($$update public.tasks set status = 'done' where id = current_setting('tests.task_a')::uuid$$), 2,
  'review → done');
select throws_ok($$update public.tasks set status = 'todo' where id = current_setting('tests.task_a')::uuid$$,
  '55000', null, 'done is final: no way back');
select throws_ok($$update public.tasks set title = 'Rewritten' where id = current_setting('tests.task_a')::uuid$$,
  '55000', null, 'and a done task is not edited');
select throws_ok($$update public.tasks set project_id = 'bbbbbbbb-d000-4000-8000-000000000000' where id = current_setting('tests.task_a')::uuid$$,
  '42501', null, 'a task cannot be moved to another project by the API (no column grant)');

-- ---------------------------------------------------------------------------------------------------------
-- Assignees and isolation
-- ---------------------------------------------------------------------------------------------------------
select lives_ok($$insert into public.task_assignees (task_id, team_id, assignee_id, assigned_by) values
  (current_setting('tests.task_a')::uuid, 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002')$$,
  'a teammate can be assigned');
select throws_ok($$insert into public.task_assignees (task_id, team_id, assignee_id, assigned_by) values
  (current_setting('tests.task_a')::uuid, 'aaaaaaaa-0000-4000-8000-000000000000', 'b0000000-0000-4000-8000-000000000003', 'a0000000-0000-4000-8000-000000000002')$$,
  '23514', null, 'someone outside the team cannot');
select is((select count(*)::int from public.projects where team_id = 'bbbbbbbb-0000-4000-8000-000000000000'), 0,
  'team B''s projects are invisible to a member of team A');
select is((select count(*)::int from public.tasks where team_id = 'bbbbbbbb-0000-4000-8000-000000000000'), 0,
  'so are its tasks');
select is(tests.rows_affected($$update public.tasks set title = 'taken over' where id = 'bbbbbbbb-f000-4000-8000-000000000000'$$), 0,
  'and cannot be changed');
select tests.clear_authentication();

select tests.authenticate_as('b0000000-0000-4000-8000-000000000003');
select is((select count(*)::int from public.task_assignees), 0, 'team A''s assignments are invisible to team B');
select tests.clear_authentication();

-- ---------------------------------------------------------------------------------------------------------
-- Every change is an event
-- ---------------------------------------------------------------------------------------------------------
select is(
  (select array_agg(event_type order by seq) from public.outbox_events where aggregate_id = current_setting('tests.task_a')),
  array['task.created', 'task.status_changed', 'task.status_changed', 'task.status_changed', 'task.status_changed',
        'task.status_changed', 'task.assignees_changed'],
  'the task''s creation, each status step and its assignment are outbox events');
select is(
  (select payload ->> 'to' from public.outbox_events where aggregate_id = current_setting('tests.task_a')
     and event_type = 'task.status_changed' order by seq desc limit 1), 'done',
  'a status event says where the task went');
select is((select count(*)::int from public.outbox_events where event_type = 'project.created'
  and payload ->> 'team_id' = 'aaaaaaaa-0000-4000-8000-000000000000'), 1, 'the project''s creation is an event');

select * from finish();
rollback;
