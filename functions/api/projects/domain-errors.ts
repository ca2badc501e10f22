// The projects domain's answers to the database's refusals that the shared error handler does not know:
// a step the task workflow does not allow (55000, raised by app.guard_task with a sentence written for people)
// and an assignee outside the team (23514 from app.guard_task_assignee).
import { ApiError, conflict } from '../../_shared/errors.ts';

const sqlState = (error: unknown): string | undefined => (error as { code?: unknown } | null)?.code as string | undefined;

/** Rethrows a workflow refusal as 409 task_transition_refused (with the database's sentence and the allowed
    steps) and a foreign assignee as 400 assignee_not_in_team; anything else unchanged. */
export function translateTaskRefusal(error: unknown): never {
  if (sqlState(error) === '55000') {
    const reason = (error as Error).message;
    throw conflict(
      'task_transition_refused',
      `Refused: ${reason}. Tasks go todo → in_progress → review → done, one step back, or to cancelled from an open status.`,
    );
  }
  if (sqlState(error) === '23514' && /assignee/.test((error as Error).message)) {
    throw new ApiError(
      400,
      'assignee_not_in_team',
      'An assignee is not a member or agent of the task’s team; list members with GET /api/teams/{teamId}/members.',
    );
  }
  throw error;
}
