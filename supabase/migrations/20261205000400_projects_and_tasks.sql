-- Projects and tasks: the team's work.
--
-- - `projects` belong to one team; `tasks` belong to one project (and so one team, by a composite key).
-- - A task's status follows todo → in_progress → review → done, with cancelled reachable from every open
--   status and steps back (review → in_progress → todo) allowed; done and cancelled are final. A trigger
--   enforces it for everyone, so no code path can skip a step.
-- - A task may be created from a message (`source_message_id`, same team); the message's tasks are found by
--   that column (indexed), so the link is kept both ways without a second copy.
-- - Assignees are members of the team or its service principals (agents), checked by a trigger.
-- - Every change to a project, task or assignment enqueues an outbox event from a trigger, in the same
--   transaction, with the request id of the claims as correlation id: no path can change work silently.
-- - Capabilities: `project.read` (see), `task.write` (create, edit, move, assign tasks), `project.manage`
--   (create, rename, archive projects).
--
-- Rolled back by supabase/rollbacks/20261205000400_projects_and_tasks.sql.

-- =========================================================================================================
-- Capabilities
-- =========================================================================================================

set local lock_timeout = '5s';
set local statement_timeout = '60s';

insert into public.capabilities (name, scope, privileged, description) values
  ('project.read', 'team', false, 'See the team''s projects and tasks'),
  ('task.write', 'team', false, 'Create, edit, move and assign tasks'),
  ('project.manage', 'team', true, 'Create, rename and archive projects');

insert into public.bundle_capabilities (bundle, capability) values
  ('member', 'project.read'), ('member', 'task.write'),
  ('admin', 'project.read'), ('admin', 'task.write'), ('admin', 'project.manage'),
  ('owner', 'project.read'), ('owner', 'task.write'), ('owner', 'project.manage'),
  ('agent', 'project.read'), ('agent', 'task.write'),
  ('read-only', 'project.read');

insert into app.event_types (event_type, aggregate_type) values
  ('project.created', 'project'),
  ('project.updated', 'project'),
  ('task.created', 'task'),
  ('task.updated', 'task'),
  ('task.status_changed', 'task'),
  ('task.assignees_changed', 'task')
on conflict do nothing;

-- =========================================================================================================
-- Tables
-- =========================================================================================================

create type public.task_status as enum ('todo', 'in_progress', 'review', 'done', 'cancelled');

/** A body of work in a team. Archived projects are read-only. */
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  team_id uuid not null references public.teams (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 120),
  description text check (char_length(description) <= 4000),
  archived_at timestamptz,
  created_by uuid not null references public.profiles (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (team_id, name),
  -- lets tasks reference (project, team), so a task can never sit in another team's project
  unique (id, team_id)
);
create trigger projects_touch_updated_at before update on public.projects
  for each row execute function app.touch_updated_at();

/** A unit of work. `position` orders the tasks of a status column (smaller first; gaps allowed). */
create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  team_id uuid not null,
  title text not null check (char_length(title) between 1 and 200),
  description text check (char_length(description) <= 8000),
  status public.task_status not null default 'todo',
  position double precision not null default 0 check (position > -1e15 and position < 1e15),
  due_on date,
  labels text[] not null default '{}' check (cardinality(labels) <= 20
    and array_to_string(labels, ',') ~ '^([a-z0-9][a-z0-9_-]{0,31}(,|$))*$'),
  source_message_id uuid references public.messages (id) on delete set null,
  created_by uuid not null references public.profiles (id),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, team_id) references public.projects (id, team_id) on delete cascade,
  unique (id, team_id)
);
create index tasks_board_idx on public.tasks (project_id, status, position, id);
create index tasks_team_idx on public.tasks (team_id);
create index tasks_source_message_idx on public.tasks (source_message_id) where source_message_id is not null;
create trigger tasks_touch_updated_at before update on public.tasks
  for each row execute function app.touch_updated_at();

/** Who works on a task: a member of its team or one of the team's agents. */
create table public.task_assignees (
  task_id uuid not null,
  team_id uuid not null,
  assignee_id uuid not null references public.profiles (id) on delete cascade,
  assigned_by uuid references public.profiles (id) on delete set null,
  assigned_at timestamptz not null default now(),
  primary key (task_id, assignee_id),
  foreign key (task_id, team_id) references public.tasks (id, team_id) on delete cascade
);
create index task_assignees_assignee_idx on public.task_assignees (assignee_id);

-- =========================================================================================================
-- Rules enforced for every writer
-- =========================================================================================================

/** Whether a task may go from one status to another: forward one step, back one step, or cancelled from an
    open status. done and cancelled are final. */
create function app.task_transition_allowed(from_status public.task_status, to_status public.task_status) returns boolean
language sql immutable
set search_path = ''
as $$
  select from_status = to_status or (from_status, to_status) in (
    ('todo'::public.task_status, 'in_progress'::public.task_status),
    ('in_progress', 'review'), ('review', 'done'),
    ('in_progress', 'todo'), ('review', 'in_progress'),
    ('todo', 'cancelled'), ('in_progress', 'cancelled'), ('review', 'cancelled'))
$$;

/** Refuses illegal status changes, tasks in archived projects, a source message of another team, and moving
    a task to another project or team. Security definer (like the event triggers below): its helpers stay out
    of the API roles' reach. */
create function app.guard_task() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' and new.status <> 'todo' then
    raise exception 'a new task starts in todo, not %', new.status using errcode = '55000';
  end if;
  if tg_op = 'UPDATE' then
    if new.project_id <> old.project_id or new.team_id <> old.team_id then
      raise exception 'a task stays in its project' using errcode = '55000';
    end if;
    if not app.task_transition_allowed(old.status, new.status) then
      raise exception 'a task cannot go from % to %', old.status, new.status using errcode = '55000',
        hint = 'allowed: todo→in_progress→review→done, one step back, or cancelled from an open status';
    end if;
    if old.status in ('done', 'cancelled') and (new.title, new.description, new.due_on, new.labels)
        is distinct from (old.title, old.description, old.due_on, old.labels) then
      raise exception 'a % task is final and cannot be edited', old.status using errcode = '55000';
    end if;
  end if;
  if exists (select 1 from public.projects p where p.id = new.project_id and p.archived_at is not null) then
    raise exception 'the project is archived' using errcode = '55000';
  end if;
  if new.source_message_id is not null and (tg_op = 'INSERT' or new.source_message_id is distinct from old.source_message_id)
     and not exists (select 1 from public.messages m where m.id = new.source_message_id and m.team_id = new.team_id) then
    raise exception 'the source message is not in the task''s team' using errcode = '42501';
  end if;
  return new;
end
$$;
create trigger tasks_guard before insert or update on public.tasks
  for each row execute function app.guard_task();

/** An assignee is a member of the task's team or one of its service principals. Security definer: the
    check reads membership beyond what the caller may see of other teams. */
create function app.guard_task_assignee() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.team_members where team_id = new.team_id and user_id = new.assignee_id)
     and not exists (select 1 from public.service_principals where team_id = new.team_id and id = new.assignee_id) then
    raise exception 'the assignee is not a member or agent of the task''s team' using errcode = '23514';
  end if;
  return new;
end
$$;
create trigger task_assignees_guard before insert on public.task_assignees
  for each row execute function app.guard_task_assignee();

-- =========================================================================================================
-- Every change is an event (same transaction)
-- =========================================================================================================

/** The correlation id of an event raised by a trigger: the request id the gateway puts in the claims. */
create function app.claims_request_id() returns text
language sql stable
set search_path = ''
as $$
  select coalesce(nullif((select auth.jwt()) ->> 'request_id', ''), 'database')
$$;

create function app.project_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform app.enqueue_event(
    case tg_op when 'INSERT' then 'project.created' else 'project.updated' end, 'project', new.id::text,
    jsonb_build_object('project_id', new.id, 'team_id', new.team_id, 'name', new.name,
      'archived', new.archived_at is not null, 'changed_by', coalesce((select auth.uid()), new.created_by)),
    app.claims_request_id());
  return null;
end
$$;
create trigger projects_events after insert or update on public.projects
  for each row execute function app.project_events();

create function app.task_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  actor uuid := coalesce((select auth.uid()), new.created_by);
begin
  if tg_op = 'INSERT' then
    perform app.enqueue_event('task.created', 'task', new.id::text,
      jsonb_build_object('task_id', new.id, 'project_id', new.project_id, 'team_id', new.team_id,
        'source_message_id', new.source_message_id, 'created_by', new.created_by), app.claims_request_id());
  elsif new.status <> old.status then
    perform app.enqueue_event('task.status_changed', 'task', new.id::text,
      jsonb_build_object('task_id', new.id, 'project_id', new.project_id, 'team_id', new.team_id,
        'from', old.status, 'to', new.status, 'changed_by', actor), app.claims_request_id());
  elsif (new.title, new.description, new.due_on, new.labels, new.position, new.source_message_id)
        is distinct from (old.title, old.description, old.due_on, old.labels, old.position, old.source_message_id) then
    perform app.enqueue_event('task.updated', 'task', new.id::text,
      jsonb_build_object('task_id', new.id, 'project_id', new.project_id, 'team_id', new.team_id, 'changed_by', actor),
      app.claims_request_id());
  end if;
  return null;
end
$$;
create trigger tasks_events after insert or update on public.tasks
  for each row execute function app.task_events();

create function app.task_assignee_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  row_ public.task_assignees := coalesce(new, old);
begin
  -- a task deleted with its project takes its assignments along: no event for each of those
  if tg_op = 'DELETE' and not exists (select 1 from public.tasks where id = row_.task_id) then
    return null;
  end if;
  perform app.enqueue_event('task.assignees_changed', 'task', row_.task_id::text,
    jsonb_build_object('task_id', row_.task_id, 'team_id', row_.team_id, 'assignee_id', row_.assignee_id,
      'assigned', tg_op = 'INSERT', 'changed_by', coalesce((select auth.uid()), row_.assigned_by)),
    app.claims_request_id());
  return null;
end
$$;
create trigger task_assignees_events after insert or delete on public.task_assignees
  for each row execute function app.task_assignee_events();

-- =========================================================================================================
-- Row-level security
-- =========================================================================================================

alter table public.projects enable row level security;
alter table public.tasks enable row level security;
alter table public.task_assignees enable row level security;

create policy "Holders of project.read see their team's projects" on public.projects
  for select to authenticated
  using (team_id in (select app.teams_with_capability('project.read')));
create policy "Holders of project.manage create projects" on public.projects
  for insert to authenticated
  with check (created_by = (select auth.uid()) and team_id in (select app.teams_with_capability('project.manage')));
create policy "Holders of project.manage rename and archive projects" on public.projects
  for update to authenticated
  using (team_id in (select app.teams_with_capability('project.manage')))
  with check (team_id in (select app.teams_with_capability('project.manage')));

create policy "Holders of project.read see their team's tasks" on public.tasks
  for select to authenticated
  using (team_id in (select app.teams_with_capability('project.read')));
create policy "Holders of task.write create tasks as themselves" on public.tasks
  for insert to authenticated
  with check (created_by = (select auth.uid()) and team_id in (select app.teams_with_capability('task.write')));
create policy "Holders of task.write edit and move tasks" on public.tasks
  for update to authenticated
  using (team_id in (select app.teams_with_capability('task.write')))
  with check (team_id in (select app.teams_with_capability('task.write')));

create policy "Holders of project.read see who works on their team's tasks" on public.task_assignees
  for select to authenticated
  using (team_id in (select app.teams_with_capability('project.read')));
create policy "Holders of task.write assign tasks" on public.task_assignees
  for insert to authenticated
  with check (assigned_by = (select auth.uid()) and team_id in (select app.teams_with_capability('task.write')));
create policy "Holders of task.write unassign tasks" on public.task_assignees
  for delete to authenticated
  using (team_id in (select app.teams_with_capability('task.write')));

-- Supabase grants everything on new tables to anon and authenticated; grant exactly what the policies need
revoke all on public.projects, public.tasks, public.task_assignees from anon, authenticated;
grant select on public.projects, public.tasks, public.task_assignees to authenticated;
grant insert (team_id, name, description, created_by) on public.projects to authenticated;
grant update (name, description, archived_at) on public.projects to authenticated;
grant insert (project_id, team_id, title, description, position, due_on, labels, source_message_id, created_by)
  on public.tasks to authenticated;
grant update (title, description, status, position, due_on, labels) on public.tasks to authenticated;
grant insert (task_id, team_id, assignee_id, assigned_by), delete on public.task_assignees to authenticated;
grant select, insert, update, delete on public.projects, public.tasks, public.task_assignees to service_role;

revoke all on function app.task_transition_allowed(public.task_status, public.task_status), app.guard_task(),
  app.guard_task_assignee(), app.claims_request_id(), app.project_events(), app.task_events(),
  app.task_assignee_events() from public, anon, authenticated;
