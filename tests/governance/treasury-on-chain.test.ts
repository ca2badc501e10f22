// A treasury proposal paid on a real local chain: the team votes, the scheduler's step executes the proposal as
// one approved payout, and the wallet worker (its own process, unchanged) sends and confirms it; the recipient
// holds exactly the amount and the proposal's payout reads confirmed.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  ANVIL_DEV_PRIVATE_KEY,
  connectChain,
  deployRingk,
  startAnvil,
  tokenBalance,
  type ChainClients,
  type LocalChain,
} from '../../workers/wallet/chain.ts';
import { ephemeralPort } from '../../workers/lib/ports.ts';
import { createTestDatabase, databaseVariables, type TestDatabase } from '../harness/database.ts';

let db: TestDatabase;
let anvil: LocalChain;
let chain: ChainClients;
let token: Address;
const TEAM = 'aaaaaaaa-0000-4000-8000-00000000c4a2';
const ALICE = 'a0000000-0000-4000-8000-00000000c4a2';
const BOB = 'a0000000-0000-4000-8000-00000000c4a3';

beforeAll(async () => {
  db = await createTestDatabase('gov_chain');
  anvil = await startAnvil({ blockTimeSeconds: 1 });
  chain = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
  token = await deployRingk(chain, 10n ** 27n);
  await db.sql`insert into auth.users (id, email) values (${ALICE}, 'alice@chain.test'), (${BOB}, 'bob@chain.test')`;
  await db.sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Chain team', ${ALICE})`;
  await db.sql`insert into public.team_members (team_id, user_id, role) values (${TEAM}, ${BOB}, 'member')`;
  await db.sql`insert into public.chain_tokens (chain_id, symbol, address) values (31337, 'RINGK', ${token.toLowerCase()})
    on conflict (chain_id, symbol) do update set address = excluded.address`;
  await db.sql`insert into public.wallets (team_id, kind, chain_id, address)
    values (${TEAM}, 'treasury', 31337, ${chain.account.address.toLowerCase()})`;
}, 120_000);
afterAll(async () => {
  await anvil?.stop();
  await db?.drop();
});

it('pays a passed treasury proposal on chain through the wallet worker, once', async () => {
  const recipient = privateKeyToAccount(generatePrivateKey()).address;
  const amount = 4321n * 10n ** 18n;
  const [proposal] = await db.sql<{ id: string }[]>`
    insert into public.proposals (team_id, kind, title, action, created_by)
    values (${TEAM}, 'treasury_payout', 'Pay the solar installer',
            ${db.sql.json({ recipient, amount: amount.toString(), asset: 'RINGK' })}::jsonb, ${BOB})
    returning id`;
  await db.sql`insert into public.votes (proposal_id, team_id, voter_id, choice)
    values (${proposal!.id}, ${TEAM}, ${ALICE}, 'for'), (${proposal!.id}, ${TEAM}, ${BOB}, 'for')`;
  for (let step = 0; step < 2; step++) await db.sql`select * from app.governance_tick(100, now() + interval '4 days')`;

  const payoutOf = async () =>
    (
      await db.sql<{ state: string; payout_id: string; status: string; last_error: string | null }[]>`
      select p.state::text, py.id as payout_id, py.status, py.last_error
      from public.proposals p join public.payouts py on py.proposal_id = p.id where p.id = ${proposal!.id}`
    )[0]!;
  expect(await payoutOf()).toMatchObject({ state: 'executed', status: 'approved' });

  const worker = spawn(process.execPath, ['--import', 'tsx', 'workers/wallet/main.ts'], {
    env: {
      ...process.env,
      ...databaseVariables(db),
      ENV_FILE: '/nonexistent/.env',
      APP_ENV: 'test',
      LOG_LEVEL: 'warn',
      CHAIN_RPC_URL: anvil.rpcUrl,
      WALLET_CONFIRMATIONS: '2',
      WALLET_POLL_INTERVAL_MS: '100',
      METRICS_PORT: String(await ephemeralPort()),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  worker.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    const deadline = Date.now() + 90_000;
    while (!['confirmed', 'failed'].includes((await payoutOf()).status)) {
      if (worker.exitCode !== null) throw new Error(`the wallet worker exited with ${worker.exitCode}:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`the payout was not confirmed in time; worker stderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    worker.kill('SIGTERM');
  }
  const paid = await payoutOf();
  expect(paid.status, paid.last_error ?? '').toBe('confirmed');
  expect(await tokenBalance(chain, token, recipient)).toBe(amount);
  const [count] = await db.sql<{ payouts: number }[]>`
    select count(*)::int as payouts from public.payouts where proposal_id = ${proposal!.id}`;
  expect(count!.payouts).toBe(1);
}, 180_000);
