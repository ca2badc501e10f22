// Teams, channels, messages and followups through the real app on real Postgres: what each role may do, what
// each write leaves in the outbox and the audit log (same transaction, request id as correlation id).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from './helpers.ts';

let gateway: TestGateway;
let owner: Session;
let admin: Session;
let member: Session;
let outsider: Session;
let teamId: string;

interface Message {
  id: string;
  body: string | null;
  parent_id: string | null;
  created_at: string;
  edited_at: string | null;
  deleted_at: string | null;
  followup_count: number;
}
interface Page {
  items: Message[];
  next_cursor: string | null;
}

const outboxFor = (aggregateId: string) =>
  gateway.database.sql<{ event_type: string; correlation_id: string; payload: Record<string, unknown> }[]>`
    select event_type, correlation_id, payload from public.outbox_events where aggregate_id = ${aggregateId} order by seq`;
const auditFor = (targetId: string) =>
  gateway.database.sql<{ action: string; actor_id: string; request_id: string }[]>`
    select action, actor_id, request_id from public.audit_log where target_id = ${targetId} order by id`;

async function createChannel(session: Session, name: string): Promise<string> {
  const answer = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
    token: session.token,
    body: { team_id: teamId, name },
  });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

async function post(session: Session, channelId: string, body: string): Promise<Message> {
  const answer = await call<Message>(gateway.app, 'POST', '/api/messages', { token: session.token, body: { channel_id: channelId, body } });
  expect(answer.status).toBe(201);
  return answer.body;
}

beforeAll(async () => {
  gateway = await startTestGateway('api_messaging', { seed: false });
  [owner, admin, member, outsider] = await Promise.all([
    devLogin(gateway.app, 'olga@team.test', 'Olga'),
    devLogin(gateway.app, 'adam@team.test', 'Adam'),
    devLogin(gateway.app, 'mia@team.test', 'Mia'),
    devLogin(gateway.app, 'otto@elsewhere.test', 'Otto'),
  ]);
});
afterAll(async () => {
  await gateway?.close();
});

describe('teams', () => {
  it('creates a team owned by its creator, with its team.created event and audit entry', async () => {
    const created = await call<{ id: string; name: string; role: string }>(gateway.app, 'POST', '/api/teams', {
      token: owner.token,
      headers: { 'X-Request-ID': 'create-team-1' },
      body: { name: '  Solar Co-op  ' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Solar Co-op', role: 'owner' });
    teamId = created.body.id;
    expect(await outboxFor(teamId)).toEqual([
      {
        event_type: 'team.created',
        correlation_id: 'create-team-1',
        payload: { team_id: teamId, name: 'Solar Co-op', created_by: owner.userId },
      },
    ]);
    expect(await auditFor(teamId)).toEqual([{ action: 'team.created', actor_id: owner.userId, request_id: 'create-team-1' }]);
  });

  it('lets the owner invite an admin and the admin invite a member; each joins by accepting', async () => {
    const inviteAdmin = await call<{ id: string }>(gateway.app, 'POST', `/api/teams/${teamId}/invitations`, {
      token: owner.token,
      body: { email: 'ADAM@team.test', role: 'admin' },
    });
    expect(inviteAdmin.status).toBe(201);
    expect(inviteAdmin.body).toMatchObject({ team_id: teamId, email: 'adam@team.test', role: 'admin', status: 'pending' });
    const adamsInvitations = await call<{ items: unknown[] }>(gateway.app, 'GET', '/api/invitations/mine', { token: admin.token });
    expect(adamsInvitations.body.items).toEqual([
      expect.objectContaining({ id: inviteAdmin.body.id, team_name: 'Solar Co-op', invited_by_name: 'Olga', role: 'admin' }),
    ]);
    const accepted = await call(gateway.app, 'POST', `/api/invitations/${inviteAdmin.body.id}/accept`, { token: admin.token });
    expect(accepted).toMatchObject({ status: 200, body: { invitation_id: inviteAdmin.body.id, status: 'accepted' } });

    const inviteMember = await call<{ id: string }>(gateway.app, 'POST', `/api/teams/${teamId}/invitations`, {
      token: admin.token,
      body: { email: 'mia@team.test' },
    });
    expect(inviteMember.status).toBe(201);
    const joined = await call(gateway.app, 'POST', `/api/invitations/${inviteMember.body.id}/accept`, {
      token: member.token,
      headers: { 'X-Request-ID': 'accept-mia' },
    });
    expect(joined.status).toBe(200);
    const events = await outboxFor(teamId);
    expect(events.slice(-2)).toEqual([
      {
        event_type: 'team.invitation_accepted',
        correlation_id: 'accept-mia',
        payload: { team_id: teamId, invitation_id: inviteMember.body.id, user_id: member.userId },
      },
      {
        event_type: 'team.member_added',
        correlation_id: 'accept-mia',
        payload: { team_id: teamId, user_id: member.userId, role: 'member', added_by: admin.userId },
      },
    ]);
    expect(await auditFor(member.userId)).toEqual([{ action: 'team.member_added', actor_id: member.userId, request_id: 'accept-mia' }]);
  });

  it('refuses inviting to plain members, owners to admins, and members again', async () => {
    const byMember = await call(gateway.app, 'POST', `/api/teams/${teamId}/invitations`, {
      token: member.token,
      body: { email: 'otto@elsewhere.test' },
    });
    expect(byMember.status).toBe(403);
    expect(expectErrorShape(byMember)).toMatchObject({ code: 'capability_missing', message: expect.stringContaining('member.invite') });

    const ownerByAdmin = await call(gateway.app, 'POST', `/api/teams/${teamId}/invitations`, {
      token: admin.token,
      body: { email: 'otto@elsewhere.test', role: 'owner' },
    });
    expect(ownerByAdmin.status).toBe(403);
    expect(expectErrorShape(ownerByAdmin)).toMatchObject({
      code: 'capability_missing',
      message: expect.stringContaining('member.role.manage'),
    });

    const duplicate = await call(gateway.app, 'POST', `/api/teams/${teamId}/invitations`, {
      token: owner.token,
      body: { email: 'mia@team.test' },
    });
    expect(duplicate.status).toBe(409);
    expect(expectErrorShape(duplicate).code).toBe('already_member');
  });

  it('lists my teams with my role, and the members of a team', async () => {
    const mine = await call<{ items: { id: string; role: string }[] }>(gateway.app, 'GET', '/api/teams', { token: admin.token });
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([expect.objectContaining({ id: teamId, role: 'admin' })]);

    const members = await call<{ items: { user_id: string; role: string }[] }>(gateway.app, 'GET', `/api/teams/${teamId}/members`, {
      token: member.token,
    });
    expect(members.body.items.map((m) => [m.user_id, m.role])).toEqual([
      [owner.userId, 'owner'],
      [admin.userId, 'admin'],
      [member.userId, 'member'],
    ]);
  });
});

describe('channels', () => {
  it('creates a channel with its event, refuses a duplicate name, lists by name', async () => {
    const created = await call<{ id: string }>(gateway.app, 'POST', '/api/channels', {
      token: member.token,
      headers: { 'X-Request-ID': 'create-channel' },
      body: { team_id: teamId, name: 'roofs', topic: 'Panels to share' },
    });
    expect(created.status).toBe(201);
    expect((await outboxFor(created.body.id)).map((e) => [e.event_type, e.correlation_id])).toEqual([
      ['channel.created', 'create-channel'],
    ]);

    const duplicate = await call(gateway.app, 'POST', '/api/channels', { token: owner.token, body: { team_id: teamId, name: 'roofs' } });
    expect(duplicate.status).toBe(409);
    expect(expectErrorShape(duplicate).code).toBe('channel_name_taken');

    await createChannel(owner, 'batteries');
    const listed = await call<{ items: { name: string }[] }>(gateway.app, 'GET', `/api/channels?team_id=${teamId}`, {
      token: member.token,
    });
    expect(listed.body.items.map((c) => c.name)).toEqual(['batteries', 'roofs']);
  });

  it('archives: a plain member may not archive an owner’s channel, an admin may; archived channels are read-only', async () => {
    const channelId = await createChannel(owner, 'to-archive');
    const message = await post(member, channelId, 'before archiving');

    const byMember = await call(gateway.app, 'POST', `/api/channels/${channelId}/archive`, { token: member.token });
    expect(byMember.status).toBe(403);
    expect(expectErrorShape(byMember)).toMatchObject({ code: 'capability_missing', message: expect.stringContaining('channel.manage') });

    const byAdmin = await call<{ archived_at: string | null }>(gateway.app, 'POST', `/api/channels/${channelId}/archive`, {
      token: admin.token,
    });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.archived_at).not.toBeNull();
    expect((await outboxFor(channelId)).map((e) => e.event_type)).toEqual(['channel.created', 'channel.archived']);

    const again = await call(gateway.app, 'POST', `/api/channels/${channelId}/archive`, { token: owner.token });
    expect(expectErrorShape(again).code).toBe('channel_archived');

    const posting = await call(gateway.app, 'POST', '/api/messages', {
      token: member.token,
      body: { channel_id: channelId, body: 'late' },
    });
    expect(posting.status).toBe(409);
    expect(expectErrorShape(posting).code).toBe('channel_archived');
    const editing = await call(gateway.app, 'PATCH', `/api/messages/${message.id}`, { token: member.token, body: { body: 'edited' } });
    expect(expectErrorShape(editing).code).toBe('channel_archived');

    const open = await call<{ items: { id: string }[] }>(gateway.app, 'GET', `/api/channels?team_id=${teamId}`, { token: member.token });
    expect(open.body.items.map((c) => c.id)).not.toContain(channelId);
    const all = await call<{ items: { id: string }[] }>(gateway.app, 'GET', `/api/channels?team_id=${teamId}&include_archived=true`, {
      token: member.token,
    });
    expect(all.body.items.map((c) => c.id)).toContain(channelId);
  });
});

describe('messages', () => {
  it('lists newest first in cursor pages that neither skip nor repeat, with messages posted in the same instant', async () => {
    const channelId = await createChannel(owner, 'paging');
    const posted: string[] = [];
    for (let i = 0; i < 5; i += 1) posted.push((await post(member, channelId, `message ${i}`)).id);
    // two rows with the same created_at (same transaction): the id breaks the tie
    const [twin] = await gateway.database.sql<{ created_at: Date }[]>`select created_at from public.messages where id = ${posted[4]!}`;
    await gateway.database.sql`
      insert into public.messages (channel_id, team_id, author_id, body, created_at)
      values (${channelId}, ${teamId}, ${member.userId}, 'twin', ${twin!.created_at})`;

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/messages?channel_id=${channelId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { status: number; body: Page } = await call<Page>(gateway.app, 'GET', query, { token: admin.token });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((m) => m.id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);

    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
    expect(seen.slice(2)).toEqual([posted[3], posted[2], posted[1], posted[0]]);
    expect(pages).toBe(3);
  });

  it('edits and soft-deletes only one’s own message, each with its event and audit entry', async () => {
    const channelId = await createChannel(owner, 'editing');
    const message = await post(member, channelId, 'first draft');

    const byOther = await call(gateway.app, 'PATCH', `/api/messages/${message.id}`, { token: owner.token, body: { body: 'hijacked' } });
    expect(byOther.status).toBe(403);
    expect(expectErrorShape(byOther).code).toBe('not_message_author');

    const edited = await call<Message>(gateway.app, 'PATCH', `/api/messages/${message.id}`, {
      token: member.token,
      headers: { 'X-Request-ID': 'edit-1' },
      body: { body: 'second draft' },
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ body: 'second draft', edited_at: expect.any(String) });

    const deleteByOther = await call(gateway.app, 'DELETE', `/api/messages/${message.id}`, { token: admin.token });
    expect(expectErrorShape(deleteByOther).code).toBe('not_message_author');

    const deleted = await call<Message>(gateway.app, 'DELETE', `/api/messages/${message.id}`, {
      token: member.token,
      headers: { 'X-Request-ID': 'delete-1' },
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ id: message.id, body: null, deleted_at: expect.any(String) });

    const [row] = await gateway.database.sql<{ body: string; deleted_at: Date | null }[]>`
      select body, deleted_at from public.messages where id = ${message.id}`;
    expect(row).toMatchObject({ body: 'second draft', deleted_at: expect.any(Date) });

    const listed = await call<Page>(gateway.app, 'GET', `/api/messages?channel_id=${channelId}`, { token: owner.token });
    expect(listed.body.items).toEqual([expect.objectContaining({ id: message.id, body: null })]);

    expect((await outboxFor(message.id)).map((e) => [e.event_type, e.correlation_id])).toEqual([
      ['message.created', expect.any(String)],
      ['message.edited', 'edit-1'],
      ['message.deleted', 'delete-1'],
    ]);
    expect((await auditFor(message.id)).map((a) => [a.action, a.actor_id])).toEqual([
      ['message.edited', member.userId],
      ['message.deleted', member.userId],
    ]);

    const editDeleted = await call(gateway.app, 'PATCH', `/api/messages/${message.id}`, { token: member.token, body: { body: 'back' } });
    expect(expectErrorShape(editDeleted).code).toBe('message_deleted');
  });

  it('threads followups under a top-level message, oldest first, and refuses nesting', async () => {
    const channelId = await createChannel(owner, 'threads');
    const root = await post(owner, channelId, 'Who has a ladder?');
    const replies: Message[] = [];
    for (const text of ['I do', 'Me too', 'Mine is tall']) {
      const reply = await call<Message>(gateway.app, 'POST', `/api/messages/${root.id}/followups`, {
        token: member.token,
        body: { body: text },
      });
      expect(reply.status).toBe(201);
      expect(reply.body.parent_id).toBe(root.id);
      replies.push(reply.body);
    }
    const events = await outboxFor(replies[0]!.id);
    expect(events[0]).toMatchObject({ event_type: 'message.created', payload: { parent_id: root.id } });

    const first = await call<Page>(gateway.app, 'GET', `/api/messages/${root.id}/followups?limit=2`, { token: admin.token });
    expect(first.body.items.map((m) => m.body)).toEqual(['I do', 'Me too']);
    const second = await call<Page>(gateway.app, 'GET', `/api/messages/${root.id}/followups?limit=2&cursor=${first.body.next_cursor}`, {
      token: admin.token,
    });
    expect(second.body).toEqual({ items: [expect.objectContaining({ body: 'Mine is tall' })], next_cursor: null });

    const top = await call<Page>(gateway.app, 'GET', `/api/messages?channel_id=${channelId}`, { token: admin.token });
    expect(top.body.items).toEqual([expect.objectContaining({ id: root.id, followup_count: 3 })]);

    const nested = await call(gateway.app, 'POST', `/api/messages/${replies[0]!.id}/followups`, {
      token: member.token,
      body: { body: 'nested' },
    });
    expect(nested.status).toBe(409);
    expect(expectErrorShape(nested)).toMatchObject({ code: 'followup_of_followup', message: expect.stringContaining(root.id) });
  });

  it('answers 404 with an actionable code for ids that exist nowhere', async () => {
    const missing = '7d1c9f1e-3a4b-4c5d-8e6f-0a1b2c3d4e5f';
    const cases = [
      ['GET', `/api/messages?channel_id=${missing}`, undefined, 'channel_not_found'],
      ['POST', '/api/messages', { channel_id: missing, body: 'x' }, 'channel_not_found'],
      ['PATCH', `/api/messages/${missing}`, { body: 'x' }, 'message_not_found'],
      ['GET', `/api/teams/${missing}/members`, undefined, 'team_not_found'],
    ] as const;
    for (const [method, path, body, code] of cases) {
      const answer = await call(gateway.app, method, path, { token: outsider.token, body });
      expect([answer.status, expectErrorShape(answer).code]).toEqual([404, code]);
    }
  });
});
