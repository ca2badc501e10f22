// Projects and tasks through the real app on real Postgres: who may create what, the workflow and its refused
// steps (409 with a sentence), assignees from the team only, the message link both ways, isolation between
// teams, and the outbox events the database raises with the request id as correlation id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, devLogin, expectErrorShape, joinByInvitation, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let owner: Session;
let member: Session;
let outsider: Session;
let teamId: string;
let otherTeamId: string;
let projectId: string;

interface Task {
  id: string;
  status: string;
  position: number;
  assignee_ids: string[];
  source_message_id: string | null;
  labels: string[];
}

async function createTeam(session: Session, name: string): Promise<string> {
  const answer = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: session.token, body: { name } });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

const move = (session: Session, taskId: string, status: string) =>
  call<Task>(gateway.app, 'PATCH', `/api/tasks/${taskId}`, { token: session.token, body: { status } });

beforeAll(async () => {
  gateway = await startTestGateway('projects', { seed: false });
  [owner, member, outsider] = await Promise.all([
    devLogin(gateway.app, 'olga@projects.test', 'Olga'),
    devLogin(gateway.app, 'mia@projects.test', 'Mia'),
    devLogin(gateway.app, 'otto@elsewhere.test', 'Otto'),
  ]);
  teamId = await createTeam(owner, 'Roofers');
  otherTeamId = await createTeam(outsider, 'Elsewhere');
  expect(await joinByInvitation(gateway.app, owner, teamId, member)).toBe(200);
});
afterAll(async () => {
  await gateway?.close();
});

describe('projects', () => {
  it('lets an owner create a project and refuses a member (project.manage)', async () => {
    const refused = await call(gateway.app, 'POST', '/api/projects', { token: member.token, body: { team_id: teamId, name: 'Mine' } });
    expect(refused.status).toBe(403);
    expect(expectErrorShape(refused).code).toBe('capability_missing');

    const created = await call<{ id: string; name: string }>(gateway.app, 'POST', '/api/projects', {
      token: owner.token,
      body: { team_id: teamId, name: 'Solar roofs' },
    });
    expect(created.status).toBe(201);
    projectId = created.body.id;

    const again = await call(gateway.app, 'POST', '/api/projects', { token: owner.token, body: { team_id: teamId, name: 'Solar roofs' } });
    expect(again.status).toBe(409);
    expect(expectErrorShape(again).code).toBe('project_name_taken');
  });

  it('hides a team’s projects and tasks from another team (404, not 403)', async () => {
    const list = await call(gateway.app, 'GET', `/api/projects?team_id=${teamId}`, { token: outsider.token });
    expect(list.status).toBe(404);
    const board = await call(gateway.app, 'GET', `/api/projects/${projectId}/tasks`, { token: outsider.token });
    expect(board.status).toBe(404);
    const task = await call(gateway.app, 'POST', '/api/tasks', { token: outsider.token, body: { project_id: projectId, title: 'Sneak' } });
    expect(task.status).toBe(404);
    const own = await call<{ items: unknown[] }>(gateway.app, 'GET', `/api/projects?team_id=${otherTeamId}`, { token: outsider.token });
    expect(own.body.items).toEqual([]);
  });
});

describe('tasks', () => {
  it('creates a task from a message; the message finds its tasks', async () => {
    const channel = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
      token: member.token,
      body: { team_id: teamId, name: 'general' },
    });
    const message = await call<{ id: string }>(gateway.app, 'POST', '/api/messages', {
      token: member.token,
      body: { channel_id: channel.body.id, body: 'the roof on block 4 leaks' },
    });
    const created = await call<Task>(gateway.app, 'POST', '/api/tasks', {
      token: member.token,
      body: {
        project_id: projectId,
        title: 'Fix block 4',
        source_message_id: message.body.id,
        labels: ['roof'],
        assignee_ids: [owner.userId],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'todo',
      source_message_id: message.body.id,
      labels: ['roof'],
      assignee_ids: [owner.userId],
    });

    const fromMessage = await call<{ items: Task[] }>(gateway.app, 'GET', `/api/tasks?source_message_id=${message.body.id}`, {
      token: owner.token,
    });
    expect(fromMessage.body.items.map((task) => task.id)).toEqual([created.body.id]);
  });

  it('walks the workflow and refuses a skipped step with a 409 that names the allowed steps', async () => {
    const task = (
      await call<Task>(gateway.app, 'POST', '/api/tasks', { token: member.token, body: { project_id: projectId, title: 'Order panels' } })
    ).body;

    const skipped = await move(member, task.id, 'done');
    expect(skipped.status).toBe(409);
    const error = expectErrorShape(skipped);
    expect(error.code).toBe('task_transition_refused');
    expect(error.message).toContain('todo to done');

    for (const status of ['in_progress', 'review', 'done']) expect((await move(member, task.id, status)).body.status).toBe(status);
    const reopened = await move(member, task.id, 'todo');
    expect(reopened.status).toBe(409);

    const requestId = 'req-projects-workflow-1';
    const fresh = (
      await call<Task>(gateway.app, 'POST', '/api/tasks', { token: member.token, body: { project_id: projectId, title: 'Cancel me' } })
    ).body;
    const cancelled = await call<Task>(gateway.app, 'PATCH', `/api/tasks/${fresh.id}`, {
      token: member.token,
      body: { status: 'cancelled' },
      headers: { 'x-request-id': requestId },
    });
    expect(cancelled.body.status).toBe('cancelled');
    const events = await gateway.database.sql<{ event_type: string; correlation_id: string; payload: Record<string, unknown> }[]>`
      select event_type, correlation_id, payload from public.outbox_events where aggregate_id = ${fresh.id} order by seq`;
    expect(events.map((event) => event.event_type)).toEqual(['task.created', 'task.status_changed']);
    expect(events[1]).toMatchObject({ correlation_id: requestId, payload: { from: 'todo', to: 'cancelled', changed_by: member.userId } });
  });

  it('refuses an assignee from outside the team with 400 assignee_not_in_team', async () => {
    const task = (
      await call<Task>(gateway.app, 'POST', '/api/tasks', { token: member.token, body: { project_id: projectId, title: 'Ladders' } })
    ).body;
    const refused = await call(gateway.app, 'PATCH', `/api/tasks/${task.id}`, {
      token: member.token,
      body: { assignee_ids: [outsider.userId] },
    });
    expect(refused.status).toBe(400);
    expect(expectErrorShape(refused).code).toBe('assignee_not_in_team');
    const assigned = await call<Task>(gateway.app, 'PATCH', `/api/tasks/${task.id}`, {
      token: member.token,
      body: { assignee_ids: [member.userId] },
    });
    expect(assigned.body.assignee_ids).toEqual([member.userId]);
  });

  it('orders the board by status, then position', async () => {
    const a = (await call<Task>(gateway.app, 'POST', '/api/tasks', { token: member.token, body: { project_id: projectId, title: 'A' } }))
      .body;
    const b = (await call<Task>(gateway.app, 'POST', '/api/tasks', { token: member.token, body: { project_id: projectId, title: 'B' } }))
      .body;
    expect(b.position).toBeGreaterThan(a.position);
    await call(gateway.app, 'PATCH', `/api/tasks/${b.id}`, { token: member.token, body: { position: a.position - 1 } });
    const board = await call<{ items: (Task & { title: string })[] }>(gateway.app, 'GET', `/api/projects/${projectId}/tasks`, {
      token: member.token,
    });
    const todo = board.body.items.filter((task) => task.status === 'todo').map((task) => task.title);
    expect(todo.indexOf('B')).toBeLessThan(todo.indexOf('A'));
  });
});
