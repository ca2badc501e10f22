// Safe payouts through the real app on real Postgres: members register their wallets, the team's Safe is set,
// a payout requested on its chain gets the Safe and a Safe nonce, GET …/safe-transaction gives the typed data and
// hash, and POST …/approve-safe takes an approver's signature only when it recovers to a wallet of theirs.
// Bad input is a 4xx with a stable code: a malformed signature, one that is not a signature of this SafeTx, a
// signer that is not the caller's wallet, a plain approve of a Safe payout. The chain side is
// tests/wallet/safe-payouts.test.ts (anvil).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashTypedData, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { call, devLogin, expectErrorShape, startTestGateway, type Session, type TestGateway } from '../api/helpers.ts';

let gateway: TestGateway;
let owner: Session;
let admin: Session;
let member: Session;
let teamId: string;
const SAFE = '0x00000000000000000000000000000000000005af';
const TOKEN = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const adminKey = privateKeyToAccount(generatePrivateKey());
const memberKey = privateKeyToAccount(generatePrivateKey());
const strangerKey = privateKeyToAccount(generatePrivateKey());

interface SafeTransaction {
  safe_address: string;
  safe_nonce: string;
  safe_tx_hash: Hex;
  typed_data: { domain: { chainId: number; verifyingContract: Hex }; message: Record<string, string | number> };
}

beforeAll(async () => {
  gateway = await startTestGateway('wallet_safe_api', { seed: false });
  [owner, admin, member] = await Promise.all([
    devLogin(gateway.app, 'sara@safe.test', 'Sara'),
    devLogin(gateway.app, 'abe@safe.test', 'Abe'),
    devLogin(gateway.app, 'meg@safe.test', 'Meg'),
  ]);
  teamId = (await call<{ id: string }>(gateway.app, 'POST', '/api/teams', { token: owner.token, body: { name: 'Safe team' } })).body.id;
  await gateway.database.sql`
    insert into public.team_members (team_id, user_id, role) values (${teamId}, ${admin.userId}, 'admin'), (${teamId}, ${member.userId}, 'admin')`;
  for (const [session, key] of [
    [admin, adminKey],
    [member, memberKey],
  ] as const) {
    const registered = await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/member-wallets`, {
      token: session.token,
      body: { chain_id: 31337, address: key.address },
    });
    expect(registered.status).toBe(201);
  }
  await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/approval-threshold`, {
    token: owner.token,
    body: { approval_threshold: 2 },
  });
  const set = await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/safe`, {
    token: owner.token,
    body: { chain_id: 31337, safe_address: SAFE },
  });
  expect(set.status).toBe(200);
});
afterAll(async () => {
  await gateway?.close();
});

const request = (key: string) =>
  call<{ id: string; safe_address: string; safe_nonce: string; status: string }>(gateway.app, 'POST', `/api/teams/${teamId}/payouts`, {
    token: owner.token,
    headers: { 'idempotency-key': key },
    body: { chain_id: 31337, token: TOKEN, recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', amount: '7000', memo: 'safe' },
  });
const approveSafe = (session: Session, payoutId: string, signature: string) =>
  call<{ status: string; approvals: string[]; signer_address: string }>(
    gateway.app,
    'POST',
    `/api/teams/${teamId}/payouts/${payoutId}/approve-safe`,
    { token: session.token, body: { signature } },
  );

describe('Safe payouts at the gateway', () => {
  it('assigns the Safe and consecutive Safe nonces, and gives the SafeTx to sign', async () => {
    const first = await request('safe-api-0001');
    const second = await request('safe-api-0002');
    expect(first.status).toBe(201);
    expect([first.body.safe_address, first.body.safe_nonce, second.body.safe_nonce]).toEqual([SAFE, '0', '1']);
    const tx = await call<SafeTransaction>(gateway.app, 'GET', `/api/teams/${teamId}/payouts/${first.body.id}/safe-transaction`, {
      token: member.token,
    });
    expect(tx.status).toBe(200);
    expect(tx.body.typed_data.domain).toEqual({ chainId: 31337, verifyingContract: SAFE });
    expect(tx.body.typed_data.message.nonce).toBe('0');
    expect(tx.body.typed_data.message.to).toBe(TOKEN);
  });

  it('refuses bad signatures with clear 4xx codes and takes two good ones to approve', async () => {
    const payout = (await request('safe-api-0003')).body;
    const path = `/api/teams/${teamId}/payouts/${payout.id}/safe-transaction`;
    const tx = (await call<SafeTransaction>(gateway.app, 'GET', path, { token: admin.token })).body;
    const typed = {
      domain: tx.typed_data.domain,
      types: {
        SafeTx: [
          { name: 'to', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'data', type: 'bytes' },
          { name: 'operation', type: 'uint8' },
          { name: 'safeTxGas', type: 'uint256' },
          { name: 'baseGas', type: 'uint256' },
          { name: 'gasPrice', type: 'uint256' },
          { name: 'gasToken', type: 'address' },
          { name: 'refundReceiver', type: 'address' },
          { name: 'nonce', type: 'uint256' },
        ],
      },
      primaryType: 'SafeTx' as const,
      message: tx.typed_data.message,
    };
    // what a wallet signs from the JSON the route gives is the hash the route names
    expect(hashTypedData(typed as never)).toBe(tx.safe_tx_hash);

    const malformed = await approveSafe(admin, payout.id, '0x1234');
    expect(malformed.status).toBe(400);
    const noSignature = await approveSafe(admin, payout.id, `0x${'00'.repeat(64)}05`);
    expect(noSignature.status).toBe(422);
    expect(expectErrorShape(noSignature).code).toBe('invalid_signature');
    const stranger = await approveSafe(admin, payout.id, await strangerKey.signTypedData(typed as never));
    expect(stranger.status).toBe(403);
    expect(expectErrorShape(stranger).code).toBe('signer_not_your_wallet');
    // the member's own wallet, but the caller is the admin: not the admin's wallet either
    const someoneElses = await approveSafe(admin, payout.id, await memberKey.signTypedData(typed as never));
    expect(expectErrorShape(someoneElses).code).toBe('signer_not_your_wallet');
    const plain = await call(gateway.app, 'POST', `/api/teams/${teamId}/payouts/${payout.id}/approve`, { token: admin.token });
    expect(plain.status).toBe(409);
    expect(expectErrorShape(plain).code).toBe('safe_signature_required');

    const one = await approveSafe(admin, payout.id, await adminKey.signTypedData(typed as never));
    expect(one.status).toBe(200);
    expect(one.body.status, 'one approval is not enough').toBe('requested');
    expect(one.body.signer_address).toBe(adminKey.address.toLowerCase());
    const two = await approveSafe(member, payout.id, await memberKey.signTypedData(typed as never));
    expect(two.body.status).toBe('approved');
    const stored = await gateway.database.sql<{ signer_address: string }[]>`
      select signer_address from public.payout_approvals where payout_id = ${payout.id} order by approved_at`;
    expect(stored.map((s) => s.signer_address)).toEqual([adminKey.address.toLowerCase(), memberKey.address.toLowerCase()]);

    // approved, its SafeTx is payable by anyone holding the signatures: only the Safe can call it off
    const cancel = await call(gateway.app, 'POST', `/api/teams/${teamId}/payouts/${payout.id}/cancel`, { token: owner.token });
    expect(cancel.status).toBe(409);
    expect(expectErrorShape(cancel).code).toBe('safe_payout_signed');
  });

  it('a wallet address belongs to one member of the team', async () => {
    const taken = await call(gateway.app, 'POST', `/api/teams/${teamId}/wallet/member-wallets`, {
      token: owner.token,
      body: { chain_id: 31337, address: adminKey.address },
    });
    expect(taken.status).toBe(409);
    expect(expectErrorShape(taken).code).toBe('wallet_taken');
  });
});
