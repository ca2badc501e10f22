// The governance scheduler as it runs in production: two worker processes (workers/governance-scheduler/
// main.ts) on one database at once. Every passed proposal must be closed once and executed once — counted
// from the outbox, where each step writes its event in the step's own transaction — and both instances work;
// every passed treasury proposal among them becomes exactly one approved payout.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ephemeralPort } from '../../workers/lib/ports.ts';
import { createTestDatabase, databaseVariables, type TestDatabase } from '../harness/database.ts';

const PROPOSALS = 60;
let database: TestDatabase;
const workers: { process: ChildProcess; output: string[] }[] = [];

async function startWorker(): Promise<(typeof workers)[number]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'workers/governance-scheduler/main.ts', '--interval-ms', '100', '--batch', '5'],
    {
      env: {
        PATH: process.env.PATH,
        APP_ENV: 'test',
        LOG_LEVEL: 'info',
        METRICS_PORT: String(await ephemeralPort()),
        ...databaseVariables(database),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const worker = { process: child, output: [] as string[] };
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (chunk: Buffer) => worker.output.push(...chunk.toString().split('\n').filter(Boolean)));
  workers.push(worker);
  return worker;
}

async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const movedLines = (worker: (typeof workers)[number]) => worker.output.filter((line) => line.includes('proposal moved')).length;

beforeAll(async () => {
  database = await createTestDatabase('gov_scheduler');
  await database.sql`insert into auth.users (id, email) values
    ('a0000000-0000-4000-8000-000000000001', 'alice@a.test'), ('a0000000-0000-4000-8000-000000000002', 'bob@a.test'),
    ('a0000000-0000-4000-8000-000000000003', 'dan@a.test')`;
  await database.sql`insert into public.teams (id, name, created_by) values
    ('aaaaaaaa-0000-4000-8000-000000000000', 'Team A', 'a0000000-0000-4000-8000-000000000001')`;
  await database.sql`insert into public.team_members (team_id, user_id, role) values
    ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'member'),
    ('aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000003', 'member')`;
  // the team's treasury: its wallet on the local chain, where RINGK is listed
  await database.sql`insert into public.chain_tokens (chain_id, symbol, address) values
    (31337, 'RINGK', '0x5fbdb2315678afecb367f032d93f642f64180aa3') on conflict do nothing`;
  await database.sql`insert into public.wallets (team_id, kind, chain_id, address) values
    ('aaaaaaaa-0000-4000-8000-000000000000', 'treasury', 31337, '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266')`;
  // votes end 2 s after a proposal is made, so the proposals fall due while both workers are running
  await database.sql`update public.governance_settings set voting_period = '2 seconds'`;
}, 60_000);

afterAll(async () => {
  for (const worker of workers) worker.process.kill('SIGTERM');
  await Promise.all(
    workers.map(
      (worker) => new Promise((resolve) => (worker.process.exitCode !== null ? resolve(null) : worker.process.once('exit', resolve))),
    ),
  );
  await database?.drop();
}, 60_000);

it('closes and executes every passed proposal exactly once with two scheduler processes running', async () => {
  const [first, second] = await Promise.all([startWorker(), startWorker()]);
  await waitFor(
    () => [first!, second!].every((worker) => worker.output.some((line) => line.includes('scheduling proposals'))),
    'both workers to start',
    60_000,
  );

  // made as the database owner (a worker's rights): each passes with two of three votes for
  await database.sql.begin(async (tx) => {
    for (let i = 0; i < PROPOSALS; i++) {
      const kind = i % 4 === 0 ? 'parameter_change' : i % 4 === 1 ? 'treasury_payout' : 'signal';
      const action =
        kind === 'parameter_change'
          ? { setting: 'quorum_percent', value: 50 + (i % 10) }
          : kind === 'treasury_payout'
            ? { recipient: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8', amount: String(1000 + i), asset: 'RINGK' }
            : {};
      const [made] = await tx<{ id: string }[]>`
        insert into public.proposals (team_id, kind, title, action, created_by)
        values ('aaaaaaaa-0000-4000-8000-000000000000', ${kind}, ${`proposal ${i}`}, ${tx.json(action)}::jsonb,
                'a0000000-0000-4000-8000-000000000002')
        returning id`;
      await tx`insert into public.votes (proposal_id, team_id, voter_id, choice) values
        (${made!.id}, 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000002', 'for'),
        (${made!.id}, 'aaaaaaaa-0000-4000-8000-000000000000', 'a0000000-0000-4000-8000-000000000003', 'for')`;
    }
  });

  await waitFor(
    async () => {
      const [row] = await database.sql<
        { executed: number }[]
      >`select count(*)::int as executed from public.proposals where state = 'executed'`;
      return row!.executed === PROPOSALS;
    },
    'every proposal to be executed',
    90_000,
  );

  const steps = await database.sql<{ proposal_id: string; to_state: string; events: number }[]>`
    select aggregate_id as proposal_id, payload ->> 'to' as to_state, count(*)::int as events
    from public.outbox_events where event_type = 'proposal.state_changed'
    group by 1, 2`;
  expect(steps.filter((step) => step.to_state === 'succeeded')).toHaveLength(PROPOSALS);
  expect(steps.filter((step) => step.to_state === 'executed')).toHaveLength(PROPOSALS);
  expect(steps.every((step) => step.events === 1)).toBe(true);

  // one approved payout per treasury proposal, for its amount, and the proposal's outcome names it
  const paid = await database.sql<{ proposals: number; payouts: number; matching: number }[]>`
    select count(distinct p.id)::int as proposals, count(py.id)::int as payouts,
           count(py.id) filter (where py.status = 'approved' and py.amount::text = p.action ->> 'amount'
                                  and p.outcome ->> 'payout_id' = py.id::text)::int as matching
    from public.proposals p left join public.payouts py on py.proposal_id = p.id
    where p.kind = 'treasury_payout'`;
  expect(paid[0]).toEqual({ proposals: PROPOSALS / 4, payouts: PROPOSALS / 4, matching: PROPOSALS / 4 });
  const [approvedEvents] = await database.sql<{ count: number }[]>`
    select count(*)::int as count from public.outbox_events where event_type = 'payout.approved'`;
  expect(approvedEvents!.count).toBe(PROPOSALS / 4);

  // every step was taken by one of the two processes, and both took some
  const [byFirst, bySecond] = [movedLines(first!), movedLines(second!)];
  expect(byFirst + bySecond).toBe(2 * PROPOSALS);
  expect(byFirst).toBeGreaterThan(0);
  expect(bySecond).toBeGreaterThan(0);
  console.log(`governance scheduler: ${byFirst} steps by the first process, ${bySecond} by the second`);
}, 180_000);
