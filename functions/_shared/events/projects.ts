// Events of the projects domain. Raised by triggers in the database (20261205000400), so every change to a
// project, task or assignment has one; these schemas are what consumers parse.
import { z } from 'zod';
import { defineEvents, uuid } from './define.ts';

const taskStatus = z.enum(['todo', 'in_progress', 'review', 'done', 'cancelled']);

export const projectEvents = defineEvents({
  'project.created': {
    version: 1,
    aggregate: 'project',
    payload: z.object({ project_id: uuid, team_id: uuid, name: z.string(), archived: z.boolean(), changed_by: uuid }),
  },
  'project.updated': {
    version: 1,
    aggregate: 'project',
    payload: z.object({ project_id: uuid, team_id: uuid, name: z.string(), archived: z.boolean(), changed_by: uuid }),
  },
  'task.created': {
    version: 1,
    aggregate: 'task',
    payload: z.object({ task_id: uuid, project_id: uuid, team_id: uuid, source_message_id: uuid.nullable(), created_by: uuid }),
  },
  'task.updated': {
    version: 1,
    aggregate: 'task',
    payload: z.object({ task_id: uuid, project_id: uuid, team_id: uuid, changed_by: uuid }),
  },
  'task.status_changed': {
    version: 1,
    aggregate: 'task',
    payload: z.object({ task_id: uuid, project_id: uuid, team_id: uuid, from: taskStatus, to: taskStatus, changed_by: uuid }),
  },
  'task.assignees_changed': {
    version: 1,
    aggregate: 'task',
    payload: z.object({ task_id: uuid, team_id: uuid, assignee_id: uuid, assigned: z.boolean(), changed_by: uuid }),
  },
});
