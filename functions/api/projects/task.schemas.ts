// The task as the API shows it, shared by the projects board and the tasks routes.
import { z } from '@hono/zod-openapi';
import { Timestamp, Uuid } from '../core/route.ts';

export const TaskStatus = z.enum(['todo', 'in_progress', 'review', 'done', 'cancelled']).openapi('TaskStatus');

export const Task = z
  .object({
    id: Uuid,
    project_id: Uuid,
    team_id: Uuid,
    title: z.string(),
    description: z.string().nullable(),
    status: TaskStatus,
    position: z.number(),
    due_on: z.string().nullable().openapi({ format: 'date', example: '2026-12-24' }),
    labels: z.array(z.string()),
    source_message_id: Uuid.nullable(),
    assignee_ids: z.array(Uuid),
    created_by: Uuid,
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('Task');
