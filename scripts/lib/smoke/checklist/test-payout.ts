// Checklist item "test payout": a payout of 1 base unit of RINGK from the treasury to a fixed smoke address,
// requested by the smoke user, approved by a second person (the requester may never approve their own), sent
// by the wallet worker and confirmed on the chain. The approver joins the smoke team as an admin by invitation,
// once. Locally the approver signs in with the dev login; elsewhere as SMOKE_APPROVER_EMAIL/PASSWORD.
import { createClient, expectStatus, StepFailure, StepNotCheckable, type SmokeClient } from '../client.ts';
import type { ChecklistContext, ChecklistItem } from './index.ts';

const LOCAL_APPROVER = 'smoke-approver@microdao.test';
// an address nobody holds a key for: what it receives is only ever the smoke check's 1-unit payouts
const SMOKE_RECIPIENT = '0x000000000000000000000000000000000000dead';
const CONFIRM_DEADLINE_MS = 90_000;
const POLL_MS = 1000;

interface Token {
  chain_id: number;
  symbol: string;
  address: string;
}
interface Payout {
  id: string;
  status: string;
  tx_hash: string | null;
  block_number: number | null;
  last_error: string | null;
}

/** The second person, signed in: dev login where the gateway has one (local, test), Supabase Auth elsewhere. */
async function signInApprover(context: ChecklistContext): Promise<{ client: SmokeClient; email: string }> {
  const client = createClient({ timeoutMs: 15_000 });
  if (context.env === 'local' || context.env === 'test') {
    const body = expectStatus(
      await client.request('POST', `${context.api}/auth/dev-login`, { email: LOCAL_APPROVER }),
      200,
      'the approver’s dev login',
    );
    client.setToken(String(body.access_token));
    return { client, email: LOCAL_APPROVER };
  }
  const { SMOKE_APPROVER_EMAIL: email, SMOKE_APPROVER_PASSWORD: password, SUPABASE_URL, SUPABASE_ANON_KEY } = context.variables;
  if (!email || !password || !SUPABASE_URL || !SUPABASE_ANON_KEY)
    throw new StepNotCheckable(
      'a payout needs a second person to approve it: set SMOKE_APPROVER_EMAIL and SMOKE_APPROVER_PASSWORD (a second Supabase Auth user) for this environment',
    );
  const body = expectStatus(
    await client.request('POST', `${SUPABASE_URL}/auth/v1/token?grant_type=password`, { email, password }, { apikey: SUPABASE_ANON_KEY }),
    200,
    'the approver’s Supabase Auth sign-in',
  );
  client.setToken(String(body.access_token));
  return { client, email };
}

/** Makes the approver an admin of the smoke team (payout.approve), by invitation, unless already a member. */
async function ensureApproverInTeam(owner: SmokeClient, approver: SmokeClient, email: string, api: string, teamId: string) {
  const teams = expectStatus(await approver.request('GET', `${api}/teams`), 200, 'the approver’s teams');
  if ((teams.items as { id: string }[]).some((team) => team.id === teamId)) return;
  expectStatus(
    await owner.request('POST', `${api}/teams/${teamId}/invitations`, { email, role: 'admin', expires_in_days: 1 }),
    201,
    'inviting the approver',
  );
  const mine = expectStatus(await approver.request('GET', `${api}/invitations/mine`), 200, 'the approver’s invitations');
  const invitation = (mine.items as { id: string; team_id: string }[]).find((item) => item.team_id === teamId);
  if (!invitation) throw new StepFailure(`the invitation to the smoke team did not reach ${email}`);
  expectStatus(await approver.request('POST', `${api}/invitations/${invitation.id}/accept`), 200, 'accepting the invitation');
}

export const testPayout: ChecklistItem = {
  name: 'test payout',
  routePrefix: '/api/teams/{teamId}/payouts',
  feature: 'the wallet',
  describe: (api) =>
    `test payout: GET ${api}/teams/{id}/wallet/tokens (RINGK) → POST ${api}/teams/{id}/payouts (1 unit, Idempotency-Key) → ` +
    `the approver (second person) POST …/approve → GET the payout until confirmed (tx hash, block)`,
  async run(client, context) {
    const { api, teamId, stamp } = context;
    if (!teamId) throw new StepFailure('no smoke team: the chat steps did not create or find it');
    const tokens = expectStatus(await client.request('GET', `${api}/teams/${teamId}/wallet/tokens`), 200, 'GET /wallet/tokens');
    const ringk = (tokens.items as Token[]).find((token) => token.symbol === 'RINGK');
    if (!ringk)
      throw new StepNotCheckable(
        'no RINGK token is listed for any chain here (public.chain_tokens): npm run dev deploys one on its local chain; elsewhere list the testnet token',
      );
    const approver = await signInApprover(context);
    await ensureApproverInTeam(client, approver.client, approver.email, api, teamId);

    const requested = expectStatus(
      await client.request(
        'POST',
        `${api}/teams/${teamId}/payouts`,
        { chain_id: ringk.chain_id, token: ringk.address, recipient: SMOKE_RECIPIENT, amount: '1', memo: `smoke ${stamp}` },
        { 'idempotency-key': `smoke-payout-${stamp}-${Math.random().toString(36).slice(2, 8)}` },
      ),
      201,
      'requesting the payout',
    ) as unknown as Payout;
    const approved = expectStatus(
      await approver.client.request('POST', `${api}/teams/${teamId}/payouts/${requested.id}/approve`),
      200,
      'approving the payout',
    ) as unknown as Payout;
    const began = performance.now();
    let payout = approved;
    while (!['confirmed', 'failed', 'cancelled'].includes(payout.status)) {
      if (performance.now() - began > CONFIRM_DEADLINE_MS)
        throw new StepFailure(
          `payout ${payout.id} still ${payout.status} after ${CONFIRM_DEADLINE_MS / 1000} s${payout.last_error ? ` (${payout.last_error})` : ''}: is the wallet worker running and the chain answering?`,
        );
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      payout = expectStatus(
        await client.request('GET', `${api}/teams/${teamId}/payouts/${requested.id}`),
        200,
        'GET /payouts/{id}',
      ) as unknown as Payout;
    }
    if (payout.status !== 'confirmed') throw new StepFailure(`payout ${payout.id} ended ${payout.status}: ${payout.last_error ?? ''}`);
    return `payout ${payout.id} of 1 RINGK unit confirmed in block ${payout.block_number} (tx ${payout.tx_hash}) ${Math.round(performance.now() - began)} ms after approval`;
  },
};
