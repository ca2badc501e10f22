// The admin console's payouts through the real app: platform admins see every team's payouts and the stuck
// ones with their last error; cancel works only before a transfer is signed, retry turns a failed payout into a
// new request that needs its approvals again; both are audited with the admin as the actor. Team owners get 403.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedIds } from '../harness/database.ts';
import { call, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let ops: Session;
let alice: Session;
const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
let nextNonce = 1; // one signer's nonces are unique per chain

interface AdminPayout {
  id: string;
  status: string;
  stuck: boolean;
  last_error: string | null;
  memo: string;
}

/** A payout of the demo team in `status`, as the database owner (the API flow is tested in payouts-api.test.ts). */
async function payoutIn(status: 'requested' | 'approved' | 'failed', lastError: string | null = null): Promise<string> {
  const key = `admin-${Math.random().toString(36).slice(2)}`;
  const [row] = await gateway.database.sql<{ id: string }[]>`
    insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, memo, idempotency_key, request_hash)
    values (${seedIds.demoTeam}, ${seedIds.bob}, 31337, ${TOKEN}, ${`0x${'b'.repeat(40)}`}, 9, ${key}, ${key}, ${'a'.repeat(64)})
    returning id`;
  if (status !== 'requested') await gateway.database.sql`update public.payouts set status = 'approved' where id = ${row!.id}`;
  if (status === 'failed')
    await gateway.database.sql`
      update public.payouts set status = 'submitted', signer = ${`0x${'f'.repeat(40)}`}, nonce = ${nextNonce++}, signed_tx = '0x01', tx_hash = ${`0x${'1'.repeat(64)}`}
      where id = ${row!.id}`;
  if (status === 'failed')
    await gateway.database.sql`update public.payouts set status = 'failed', last_error = ${lastError} where id = ${row!.id}`;
  else if (lastError) await gateway.database.sql`update public.payouts set last_error = ${lastError} where id = ${row!.id}`;
  return row!.id;
}

beforeAll(async () => {
  gateway = await startTestGateway('wallet_admin');
  [ops, alice] = await Promise.all([devLogin(gateway.app, 'ops@demo.local'), devLogin(gateway.app, 'alice@demo.local')]);
});
afterAll(async () => {
  await gateway?.close();
});

describe('payouts in the admin console', () => {
  it('refuses a team owner with 403 capability_missing', async () => {
    const answer = await call(gateway.app, 'GET', '/api/admin/payouts', { token: alice.token });
    expect(answer.status).toBe(403);
    expect(expectErrorShape(answer).code).toBe('capability_missing');
  });

  it('lists payouts by status and the stuck ones with their last error', async () => {
    const stuck = await payoutIn('approved', 'the chain does not answer: connect ECONNREFUSED');
    const waiting = await payoutIn('requested');
    const byStatus = await call<{ items: AdminPayout[] }>(gateway.app, 'GET', '/api/admin/payouts?status=requested', { token: ops.token });
    expect(byStatus.status).toBe(200);
    expect(byStatus.body.items.map((p) => p.id)).toContain(waiting);
    expect(byStatus.body.items.every((p) => p.status === 'requested')).toBe(true);
    const stuckOnes = await call<{ items: AdminPayout[] }>(gateway.app, 'GET', '/api/admin/payouts?stuck=true', { token: ops.token });
    expect(stuckOnes.body.items.find((p) => p.id === stuck)).toMatchObject({
      stuck: true,
      last_error: expect.stringContaining('ECONNREFUSED'),
    });
    expect(stuckOnes.body.items.map((p) => p.id)).not.toContain(waiting);
    const bad = await call(gateway.app, 'GET', '/api/admin/payouts?stuck_minutes=0', { token: ops.token });
    expect(bad.status).toBe(400);
  });

  it('cancels a payout not yet sent, audited with the reason; refuses one that was sent', async () => {
    const id = await payoutIn('approved', 'simulated transfer timed out');
    const done = await call<AdminPayout>(gateway.app, 'POST', `/api/admin/payouts/${id}/cancel`, {
      token: ops.token,
      body: { reason: 'wrong recipient (ticket 12)' },
    });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('cancelled');
    const [audit] = await gateway.database.sql<{ actor_id: string; details: { reason: string; status_before: string } }[]>`
      select actor_id, details from public.audit_log where action = 'payout.cancelled_by_admin' and target_id = ${id}`;
    expect(audit).toMatchObject({ actor_id: ops.userId, details: { reason: 'wrong recipient (ticket 12)', status_before: 'approved' } });
    const [event] = await gateway.database
      .sql`select 1 from public.outbox_events where aggregate_id = ${id} and event_type = 'payout.cancelled'`;
    expect(event).toBeDefined();

    const sent = await payoutIn('failed', 'the transfer was mined but reverted');
    const refused = await call(gateway.app, 'POST', `/api/admin/payouts/${sent}/cancel`, { token: ops.token, body: { reason: 'x' } });
    expect(refused.status).toBe(409);
    expect(expectErrorShape(refused).code).toBe('payout_not_cancellable');
    const noReason = await call(gateway.app, 'POST', `/api/admin/payouts/${sent}/cancel`, { token: ops.token, body: { reason: ' ' } });
    expect(noReason.status).toBe(400);
  });

  it('refuses to cancel an approved Safe payout: its signed SafeTx stays payable until the Safe uses its nonce', async () => {
    const chain = 990_001; // a chain of its own, so the team's other payouts here stay hot-signer payouts
    await gateway.database.sql`
      insert into public.wallet_settings (team_id, safe_chain_id, safe_address) values (${seedIds.demoTeam}, ${chain}, ${`0x${'5'.repeat(40)}`})
      on conflict (team_id) do update set safe_chain_id = excluded.safe_chain_id, safe_address = excluded.safe_address`;
    const [row] = await gateway.database.sql<{ id: string; safe_nonce: string }[]>`
      insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
      values (${seedIds.demoTeam}, ${seedIds.bob}, ${chain}, ${TOKEN}, ${`0x${'b'.repeat(40)}`}, 9, 'admin-safe-1', ${'a'.repeat(64)})
      returning id, safe_nonce::text`;
    expect(row!.safe_nonce).toBe('0');
    await gateway.database.sql`update public.payouts set status = 'approved' where id = ${row!.id}`;
    const refused = await call(gateway.app, 'POST', `/api/admin/payouts/${row!.id}/cancel`, {
      token: ops.token,
      body: { reason: 'stuck' },
    });
    expect(refused.status).toBe(409);
    expect(expectErrorShape(refused)).toMatchObject({
      code: 'safe_payout_signed',
      message: expect.stringContaining('Reject that nonce in the Safe'),
    });
    const [after] = await gateway.database.sql<{ status: string }[]>`select status from public.payouts where id = ${row!.id}`;
    expect(after!.status).toBe('approved');
  });

  it('retries a failed payout as a new request needing approvals, once, audited', async () => {
    const failed = await payoutIn('failed', 'the transfer would revert: insufficient balance');
    const retried = await call<AdminPayout>(gateway.app, 'POST', `/api/admin/payouts/${failed}/retry`, {
      token: ops.token,
      body: { reason: 'treasury topped up' },
    });
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ status: 'requested', memo: expect.stringMatching(/^retry: /) });
    expect(retried.body.id).not.toBe(failed);
    const again = await call(gateway.app, 'POST', `/api/admin/payouts/${failed}/retry`, { token: ops.token, body: { reason: 'again' } });
    expect(again.status).toBe(409);
    expect(expectErrorShape(again).code).toBe('payout_already_retried');
    const [audit] = await gateway.database.sql<{ details: { new_payout_id: string } }[]>`
      select details from public.audit_log where action = 'payout.retried_by_admin' and target_id = ${failed}`;
    expect(audit?.details.new_payout_id).toBe(retried.body.id);
    const notFailed = await payoutIn('requested');
    const refused = await call(gateway.app, 'POST', `/api/admin/payouts/${notFailed}/retry`, { token: ops.token, body: { reason: 'x' } });
    expect(expectErrorShape(refused).code).toBe('payout_not_retryable');
  });
});
