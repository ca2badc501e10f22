// SQL of projects and tasks; runs inside the request's transaction, so RLS scopes every statement to the caller.
// The database enforces the task workflow and raises the events (triggers of 20261205000400).
import type { Tx } from '../../_shared/db.ts';

export type TaskStatus = 'todo' | 'in_progress' | 'review' | 'done' | 'cancelled';

export interface ProjectRow {
  id: string;
  team_id: string;
  name: string;
  description: string | null;
  archived_at: string | null;
  created_by: string;
  created_at: string;
}

export interface TaskRow {
  id: string;
  project_id: string;
  team_id: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  position: number;
  due_on: string | null;
  labels: string[];
  source_message_id: string | null;
  assignee_ids: string[];
  created_by: string;
  created_at: string;
  updated_at: string;
}

const PROJECT_COLUMNS = 'id, team_id, name, description, archived_at, created_by, created_at';

/** Creates a project; null if the team already has one of that name. */
export async function insertProject(
  tx: Tx,
  project: { teamId: string; name: string; description: string | null },
): Promise<ProjectRow | null> {
  const [row] = await tx<ProjectRow[]>`
    insert into public.projects (team_id, name, description, created_by)
    values (${project.teamId}, ${project.name}, ${project.description}, (select auth.uid()))
    on conflict (team_id, name) do nothing
    returning ${tx.unsafe(PROJECT_COLUMNS)}`;
  return row ?? null;
}

export function listProjects(tx: Tx, teamId: string, includeArchived: boolean): Promise<ProjectRow[]> {
  return tx<ProjectRow[]>`
    select ${tx.unsafe(PROJECT_COLUMNS)} from public.projects
    where team_id = ${teamId} and (${includeArchived}::boolean or archived_at is null)
    order by name, id`;
}

export async function findProject(tx: Tx, projectId: string): Promise<ProjectRow | null> {
  const [row] = await tx<ProjectRow[]>`select ${tx.unsafe(PROJECT_COLUMNS)} from public.projects where id = ${projectId}`;
  return row ?? null;
}

export async function updateProject(
  tx: Tx,
  projectId: string,
  change: { name?: string; description?: string | null; archived?: boolean },
): Promise<ProjectRow | null> {
  const [row] = await tx<ProjectRow[]>`
    update public.projects set
      name = coalesce(${change.name ?? null}, name),
      description = case when ${change.description !== undefined}::boolean then ${change.description ?? null} else description end,
      archived_at = case when ${change.archived ?? null}::boolean is null then archived_at
                         when ${change.archived ?? false}::boolean then coalesce(archived_at, now()) else null end
    where id = ${projectId}
    returning ${tx.unsafe(PROJECT_COLUMNS)}`;
  return row ?? null;
}

const TASK_SELECT = `
  select t.id, t.project_id, t.team_id, t.title, t.description, t.status, t.position, t.due_on::text as due_on, t.labels,
         t.source_message_id, t.created_by, t.created_at, t.updated_at,
         coalesce((select array_agg(a.assignee_id order by a.assigned_at, a.assignee_id) from public.task_assignees a
                   where a.task_id = t.id), '{}') as assignee_ids
  from public.tasks t`;

/** A project's tasks in board order: by status column, then position. */
export function listTasks(tx: Tx, projectId: string): Promise<TaskRow[]> {
  return tx<TaskRow[]>`${tx.unsafe(TASK_SELECT)} where t.project_id = ${projectId} order by t.status, t.position, t.created_at, t.id`;
}

/** The tasks made from a message (the link read from the message's side). */
export function listTasksFromMessage(tx: Tx, messageId: string): Promise<TaskRow[]> {
  return tx<TaskRow[]>`${tx.unsafe(TASK_SELECT)} where t.source_message_id = ${messageId} order by t.created_at, t.id`;
}

export async function findTask(tx: Tx, taskId: string): Promise<TaskRow | null> {
  const [row] = await tx<TaskRow[]>`${tx.unsafe(TASK_SELECT)} where t.id = ${taskId}`;
  return row ?? null;
}

export interface NewTask {
  projectId: string;
  teamId: string;
  title: string;
  description: string | null;
  dueOn: string | null;
  labels: string[];
  sourceMessageId: string | null;
}

/** Creates a task at the end of the todo column. */
export async function insertTask(tx: Tx, task: NewTask): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into public.tasks (project_id, team_id, title, description, due_on, labels, source_message_id, position, created_by)
    values (${task.projectId}, ${task.teamId}, ${task.title}, ${task.description}, ${task.dueOn}::date, ${task.labels}::text[],
            ${task.sourceMessageId},
            coalesce((select max(position) + 1 from public.tasks where project_id = ${task.projectId} and status = 'todo'), 0),
            (select auth.uid()))
    returning id`;
  return row!.id;
}

export interface TaskChange {
  title?: string;
  description?: string | null;
  status?: TaskStatus;
  position?: number;
  due_on?: string | null;
  labels?: string[];
}

/** Applies a change; returns whether a row (visible and writable to the caller) was changed. */
export async function updateTask(tx: Tx, taskId: string, change: TaskChange): Promise<boolean> {
  const has = (key: keyof TaskChange) => Object.hasOwn(change, key);
  const rows = await tx`
    update public.tasks set
      title = coalesce(${change.title ?? null}, title),
      description = case when ${has('description')}::boolean then ${change.description ?? null} else description end,
      status = coalesce(${change.status ?? null}::public.task_status, status),
      position = coalesce(${change.position ?? null}::double precision, position),
      due_on = case when ${has('due_on')}::boolean then ${change.due_on ?? null}::date else due_on end,
      labels = coalesce(${change.labels ?? null}::text[], labels)
    where id = ${taskId}
    returning id`;
  return rows.length > 0;
}

/** Makes the task's assignees exactly `assigneeIds` (the triggers raise one event per change). */
export async function replaceAssignees(tx: Tx, taskId: string, teamId: string, assigneeIds: string[]): Promise<void> {
  await tx`delete from public.task_assignees where task_id = ${taskId} and not (assignee_id = any(${assigneeIds}::uuid[]))`;
  if (assigneeIds.length === 0) return;
  await tx`
    insert into public.task_assignees (task_id, team_id, assignee_id, assigned_by)
    select ${taskId}, ${teamId}, a, (select auth.uid()) from unnest(${assigneeIds}::uuid[]) as a
    on conflict do nothing`;
}
