// Tasks: create one (optionally from a message), read one, the tasks made from a message, and change one —
// edit, move along the workflow or within its column, assign. The database refuses illegal steps.
import { z } from '@hono/zod-openapi';
import { notFound } from '../../_shared/errors.ts';
import { inRequestTransaction } from '../core/context.ts';
import { requireTeamCapability } from '../core/pep.ts';
import { createRouter, errorResponses, jsonBody, jsonResponse, Name, securedRoute, Text, Uuid } from '../core/route.ts';
import { translateTaskRefusal } from './domain-errors.ts';
import { projectNotFound } from './projects.routes.ts';
import { findProject, findTask, insertTask, listTasksFromMessage, replaceAssignees, updateTask } from './projects.queries.ts';
import { Task, TaskStatus } from './task.schemas.ts';

const Label = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, { message: 'must be 1–32 lowercase letters, digits, "-" or "_"' });
const Labels = z.array(Label).max(20, { message: 'must have at most 20 labels' });
const DueOn = z.iso.date({ message: 'must be a date such as 2026-12-24' }).nullable();
const AssigneeIds = z.array(Uuid).max(20, { message: 'must have at most 20 assignees' });

const CreateTaskBody = z
  .strictObject({
    project_id: Uuid,
    title: Name(200),
    description: Text(8000).nullable().optional(),
    due_on: DueOn.optional(),
    labels: Labels.optional(),
    source_message_id: Uuid.nullable().optional(),
    assignee_ids: AssigneeIds.optional(),
  })
  .openapi('CreateTask', { example: { project_id: '00000000-0000-4000-8000-0000000d3a01', title: 'Fix the roof', labels: ['roof'] } });
const UpdateTaskBody = z
  .strictObject({
    title: Name(200).optional(),
    description: Text(8000).nullable().optional(),
    status: TaskStatus.optional(),
    position: z.number().min(-1e12).max(1e12).optional(),
    due_on: DueOn.optional(),
    labels: Labels.optional(),
    assignee_ids: AssigneeIds.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'must change at least one field' })
  .openapi('UpdateTask', { example: { status: 'in_progress', position: 1.5 } });
const TaskPath = z.strictObject({ taskId: Uuid.openapi({ param: { name: 'taskId', in: 'path' } }) });
const FromMessageQuery = z.strictObject({ source_message_id: Uuid });

const taskNotFound = () =>
  notFound('task_not_found', "No task with this id is visible to you; a project's tasks are at GET /api/projects/{projectId}/tasks.");

const createTask = securedRoute('task.write', {
  method: 'post',
  path: '/',
  tags: ['tasks'],
  summary: 'Create a task in a project (at the end of its todo column), optionally from a message',
  request: { body: jsonBody(CreateTaskBody, 'The new task') },
  responses: { 201: jsonResponse(Task, 'The task'), ...errorResponses(404, 409) },
});

const tasksFromMessage = securedRoute('project.read', {
  method: 'get',
  path: '/',
  tags: ['tasks'],
  summary: 'The tasks made from a message',
  request: { query: FromMessageQuery },
  responses: { 200: jsonResponse(z.object({ items: z.array(Task) }), 'The tasks'), ...errorResponses(400) },
});

const readTask = securedRoute('project.read', {
  method: 'get',
  path: '/{taskId}',
  tags: ['tasks'],
  summary: 'One task',
  request: { params: TaskPath },
  responses: { 200: jsonResponse(Task, 'The task'), ...errorResponses(400, 404) },
});

const changeTask = securedRoute('task.write', {
  method: 'patch',
  path: '/{taskId}',
  tags: ['tasks'],
  summary: 'Edit a task, move it (status and position) or set its assignees',
  request: { params: TaskPath, body: jsonBody(UpdateTaskBody, 'What changes') },
  responses: { 200: jsonResponse(Task, 'The task'), ...errorResponses(404, 409) },
});

export const taskRoutes = createRouter()
  .openapi(createTask, async (c) => {
    const body = c.req.valid('json');
    const task = await inRequestTransaction(c, async (tx) => {
      const project = await findProject(tx, body.project_id);
      if (!project) throw projectNotFound();
      await requireTeamCapability(tx, project.team_id, 'task.write');
      if (body.source_message_id) {
        const [message] = await tx`select 1 from public.messages where id = ${body.source_message_id} and team_id = ${project.team_id}`;
        if (!message) throw notFound('message_not_found', 'No message with this id is visible to you in the project’s team.');
      }
      const taskId = await insertTask(tx, {
        projectId: project.id,
        teamId: project.team_id,
        title: body.title,
        description: body.description ?? null,
        dueOn: body.due_on ?? null,
        labels: body.labels ?? [],
        sourceMessageId: body.source_message_id ?? null,
      });
      if (body.assignee_ids?.length) await replaceAssignees(tx, taskId, project.team_id, body.assignee_ids);
      return (await findTask(tx, taskId))!;
    }).catch(translateTaskRefusal);
    return c.json(task, 201);
  })
  .openapi(tasksFromMessage, async (c) => {
    const { source_message_id: messageId } = c.req.valid('query');
    const items = await inRequestTransaction(c, (tx) => listTasksFromMessage(tx, messageId));
    return c.json({ items }, 200);
  })
  .openapi(readTask, async (c) => {
    const { taskId } = c.req.valid('param');
    const task = await inRequestTransaction(c, (tx) => findTask(tx, taskId));
    if (!task) throw taskNotFound();
    return c.json(task, 200);
  })
  .openapi(changeTask, async (c) => {
    const { taskId } = c.req.valid('param');
    const { assignee_ids: assigneeIds, ...change } = c.req.valid('json');
    const task = await inRequestTransaction(c, async (tx) => {
      const current = await findTask(tx, taskId);
      if (!current) throw taskNotFound();
      await requireTeamCapability(tx, current.team_id, 'task.write');
      if (Object.keys(change).length > 0) await updateTask(tx, taskId, change);
      if (assigneeIds) await replaceAssignees(tx, taskId, current.team_id, assigneeIds);
      return (await findTask(tx, taskId))!;
    }).catch(translateTaskRefusal);
    return c.json(task, 200);
  });
