// Team membership by invitation through the real app on real Postgres: the same answer whether or not an
// account uses the address, only the addressee answers, declined/revoked/expired invitations add nobody, every
// step's event matches the catalog, and a member leaves (the last owner cannot).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCatalogPayload } from '../../functions/_shared/outbox.ts';
import { isEventType } from '../../functions/_shared/events/catalog.ts';
import { call, createAccessKey, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from './helpers.ts';

let gateway: TestGateway;
let owner: Session;
let invitee: Session;
let stranger: Session;
let teamId: string;

interface Invitation {
  id: string;
  email: string;
  role: string;
  status: string;
  expires_at: string;
}

const invite = (email: string, token = owner.token, body: Record<string, unknown> = {}) =>
  call<Invitation>(gateway.app, 'POST', `/api/teams/${teamId}/invitations`, { token, body: { email, ...body } });
const answer = (id: string, action: 'accept' | 'decline', token = invitee.token) =>
  call(gateway.app, 'POST', `/api/invitations/${id}/${action}`, { token });
const myTeamIds = async (token: string) =>
  (await call<{ items: { id: string }[] }>(gateway.app, 'GET', '/api/teams', { token })).body.items.map((t) => t.id);

beforeAll(async () => {
  gateway = await startTestGateway('api_invitations', { seed: false });
  [owner, invitee, stranger] = await Promise.all([
    devLogin(gateway.app, 'owen@coop.test', 'Owen'),
    devLogin(gateway.app, 'ivy@coop.test', 'Ivy'),
    devLogin(gateway.app, 'sam@elsewhere.test', 'Sam'),
  ]);
  const team = await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Wind Co-op' } });
  teamId = team.body.id;
});
afterAll(async () => {
  await gateway?.close();
});

describe('inviting', () => {
  it('answers the same whether or not an account uses the address', async () => {
    const known = await invite('ivy@coop.test');
    const unknown = await invite('nobody-yet@coop.test');
    expect(known.status).toBe(201);
    expect(unknown.status).toBe(201);
    // the same fields, the same values but for the invitation's own id, address and times
    const own = new Set(['id', 'email', 'created_at', 'expires_at']);
    const shape = (body: Invitation) => Object.fromEntries(Object.entries(body).map(([k, v]) => [k, own.has(k) ? typeof v : v]));
    expect(shape(known.body)).toEqual(shape(unknown.body));
  });

  it('renews a pending invitation instead of duplicating it, and lists the team’s pending ones', async () => {
    const first = await invite('renew@coop.test');
    const again = await invite('Renew@Coop.test', owner.token, { role: 'admin', expires_in_days: 2 });
    expect(again.body).toMatchObject({ id: first.body.id, role: 'admin' });
    const listed = await call<{ items: Invitation[] }>(gateway.app, 'GET', `/api/teams/${teamId}/invitations`, { token: owner.token });
    expect(listed.body.items.filter((i) => i.email === 'renew@coop.test')).toHaveLength(1);
  });

  it('bounds the input', async () => {
    const tooLong = await invite('ivy@coop.test', owner.token, { expires_in_days: 31 });
    expect(tooLong.status).toBe(400);
    const notEmail = await invite('not an email');
    expect(notEmail.status).toBe(400);
  });

  it('refuses a team the caller is not in', async () => {
    const other = await call(gateway.app, 'POST', `/api/teams/${teamId}/invitations`, {
      token: stranger.token,
      body: { email: 'sam@elsewhere.test' },
    });
    expect([403, 404]).toContain(other.status);
  });
});

describe('answering', () => {
  it('shows an invitation only to its addressee, who accepts it and joins', async () => {
    const mine = await call<{ items: { id: string; team_name: string }[] }>(gateway.app, 'GET', '/api/invitations/mine', {
      token: invitee.token,
    });
    const invitation = mine.body.items.find((i) => i.team_name === 'Wind Co-op')!;
    expect(invitation).toBeDefined();
    const strangers = await call<{ items: unknown[] }>(gateway.app, 'GET', '/api/invitations/mine', { token: stranger.token });
    expect(strangers.body.items).toEqual([]);

    const stolen = await answer(invitation.id, 'accept', stranger.token);
    expect(stolen.status).toBe(404);
    expect(expectErrorShape(stolen).code).toBe('invitation_not_found');
    expect(await myTeamIds(stranger.token)).not.toContain(teamId);

    expect((await answer(invitation.id, 'accept')).status).toBe(200);
    expect(await myTeamIds(invitee.token)).toContain(teamId);
    const twice = await answer(invitation.id, 'decline');
    expect(twice.status).toBe(409);
    expect(expectErrorShape(twice).code).toBe('invitation_not_pending');
  });

  it('adds nobody for a declined, a revoked or an expired invitation', async () => {
    const declined = await invite('sam@elsewhere.test');
    expect((await answer(declined.body.id, 'decline', stranger.token)).status).toBe(200);

    const revoked = await invite('sam@elsewhere.test');
    const revoking = await call<Invitation>(gateway.app, 'POST', `/api/teams/${teamId}/invitations/${revoked.body.id}/revoke`, {
      token: owner.token,
    });
    expect(revoking.body).toMatchObject({ status: 'revoked' });
    const late = await answer(revoked.body.id, 'accept', stranger.token);
    expect(late.status).toBe(409);
    expect(expectErrorShape(late).code).toBe('invitation_not_pending');

    // an invitation whose time ran out (written behind the API: its dates never change once written)
    const [expired] = await gateway.database.sql<{ id: string }[]>`
      insert into public.team_invitations (team_id, email, invited_by, created_at, expires_at)
      values (${teamId}, 'sam@elsewhere.test', ${owner.userId}, now() - interval '2 days', now() - interval '1 second')
      returning id`;
    const tooLate = await answer(expired!.id, 'accept', stranger.token);
    expect(tooLate.status).toBe(409);
    expect(expectErrorShape(tooLate).code).toBe('invitation_expired');
    const [row] = await gateway.database.sql`select status from public.team_invitations where id = ${expired!.id}`;
    expect(row!.status).toBe('expired');

    expect(await myTeamIds(stranger.token)).not.toContain(teamId);
  });

  it('does not let an access key answer or list invitations', async () => {
    const { key } = await createAccessKey(gateway.app, owner.token, teamId, { bundle: 'agent' });
    const listed = await call(gateway.app, 'GET', '/api/invitations/mine', { token: key });
    expect(listed.status).toBe(403);
    expect(expectErrorShape(listed).message).toContain('invitation.respond');
  });
});

describe('leaving', () => {
  it('lets a member leave, and refuses the last owner', async () => {
    const lastOwner = await call(gateway.app, 'POST', `/api/teams/${teamId}/leave`, { token: owner.token });
    expect(lastOwner.status).toBe(409);
    expect(expectErrorShape(lastOwner).code).toBe('last_owner');

    const left = await call(gateway.app, 'POST', `/api/teams/${teamId}/leave`, { token: invitee.token });
    expect(left).toMatchObject({ status: 200, body: { team_id: teamId, left: true } });
    expect(await myTeamIds(invitee.token)).not.toContain(teamId);
    const again = await call(gateway.app, 'POST', `/api/teams/${teamId}/leave`, { token: invitee.token });
    expect(again.status).toBe(404);
    expect(expectErrorShape(again).code).toBe('team_not_found');
  });
});

describe('events', () => {
  it('writes every step as a catalog event whose payload names no address', async () => {
    const rows = await gateway.database.sql<{ event_type: string; payload: Record<string, unknown> }[]>`
      select event_type, payload from public.outbox_events where aggregate_id = ${teamId} order by seq`;
    const types = new Set(rows.map((r) => r.event_type));
    for (const type of [
      'team.invitation_created',
      'team.invitation_accepted',
      'team.invitation_declined',
      'team.invitation_revoked',
      'team.member_added',
      'team.member_left',
    ]) {
      expect(types, type).toContain(type);
    }
    for (const row of rows) {
      expect(isEventType(row.event_type)).toBe(true);
      if (isEventType(row.event_type)) expect(() => assertCatalogPayload(row.event_type as never, row.payload)).not.toThrow();
      expect(JSON.stringify(row.payload)).not.toContain('@');
    }
  });
});
