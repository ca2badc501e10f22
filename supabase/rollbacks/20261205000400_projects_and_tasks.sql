-- Rollback of 20261205000400_projects_and_tasks.sql: the projects, tasks and assignees with their rules,
-- events and policies; the capabilities and event types the migration added.
drop table if exists public.task_assignees;
drop table if exists public.tasks;
drop table if exists public.projects;
drop function if exists app.task_assignee_events();
drop function if exists app.task_events();
drop function if exists app.project_events();
drop function if exists app.claims_request_id();
drop function if exists app.guard_task_assignee();
drop function if exists app.guard_task();
drop function if exists app.task_transition_allowed(public.task_status, public.task_status);
drop type if exists public.task_status;
delete from app.event_types where event_type in
  ('project.created', 'project.updated', 'task.created', 'task.updated', 'task.status_changed', 'task.assignees_changed');
delete from public.capabilities where name in ('project.read', 'task.write', 'project.manage');
