// Benchmark (not a test): casting votes the way the gateway does — one transaction per vote with the member's
// claims and role `authenticated`, so RLS, the vote guard (share lock on the proposal, window check) and the
// event trigger all run — next to a bare baseline in the same run and database: the same transaction shape
// inserting into a table without policies or triggers. Prints votes/s of each and their ratio. Rounds
// alternate, so a change of machine load affects both sides.
//
//   npm run bench:governance -- [--concurrency 8] [--duration 5] [--rounds 2] [--keep-db]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import postgres from 'postgres';

const USAGE = `Usage: npm run bench:governance -- [--concurrency 8] [--duration 5] [--rounds 2] [--keep-db]
Environment: TEST_PG_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres).`;
const { values: options } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '8' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    'keep-db': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const concurrency = Number(options.concurrency);
const durationMs = Number(options.duration) * 1000;
const rounds = Number(options.rounds);
for (const [name, value, max] of [
  ['--concurrency', concurrency, 64],
  ['--duration', durationMs / 1000, 600],
  ['--rounds', rounds, 20],
] as const) {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    console.error(`bench:governance: ${name} must be a whole number from 1 to ${max}\n${USAGE}`);
    process.exit(2);
  }
}

const MEMBERS = 200;
const PROPOSALS = 400;
const TEAM = 'bbbbbbbb-0000-4000-8000-000000000000';
const adminUrl = new URL(process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
const database = `mdao_bench_gov_${Date.now().toString(36)}`;
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const admin = postgres(adminUrl.toString(), { max: 1, onnotice: () => {} });
const memberId = (i: number) => `a0000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

async function measure(work: (worker: number, i: number) => Promise<void>): Promise<number> {
  let done = 0;
  const deadline = Date.now() + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; Date.now() < deadline; i++) {
        await work(worker, i);
        done++;
      }
    }),
  );
  return done / (durationMs / 1000);
}

try {
  console.log(`bench:governance: creating and migrating ${database}…`);
  await admin.unsafe(`create database "${database}"`);
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', databaseUrl], { stdio: ['ignore', 'ignore', 'inherit'] });
  const sql = postgres(databaseUrl, { max: concurrency, onnotice: () => {} });
  const members = Array.from({ length: MEMBERS }, (_, i) => memberId(i + 1));
  await sql`insert into auth.users ${sql(members.map((id, i) => ({ id, email: `m${i}@bench.test` })))}`;
  await sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Bench', ${members[0]!})`;
  await sql`insert into public.team_members ${sql(members.slice(1).map((user_id) => ({ team_id: TEAM, user_id, role: 'member' })))}`;
  await sql`update public.governance_settings set voting_period = '30 days'`;
  const proposals = (
    await sql<{ id: string }[]>`
      insert into public.proposals (team_id, kind, title, created_by)
      select ${TEAM}, 'signal', 'bench ' || g, ${members[0]!} from generate_series(1, ${PROPOSALS}) g returning id`
  ).map((row) => row.id);
  await sql`create table public.bench_bare_votes (proposal_id uuid, voter_id uuid, choice text, primary key (proposal_id, voter_id))`;

  // each worker votes as its own members, across the proposals: new ballots first, then changed ones
  const ballot = (worker: number, i: number) => {
    const voter = members[(worker * 25 + (i % 25)) % MEMBERS]!;
    const proposal = proposals[Math.floor(i / 25) % PROPOSALS]!;
    const choice = i % 3 === 0 ? 'against' : 'for';
    return { voter, proposal, choice };
  };
  const claims = (voter: string) => JSON.stringify({ sub: voter, role: 'authenticated', aud: 'authenticated' });
  const gateway = (worker: number, i: number) => {
    const { voter, proposal, choice } = ballot(worker, i);
    return sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${claims(voter)}, true), set_config('role', 'authenticated', true)`;
      await tx`insert into public.votes (proposal_id, team_id, voter_id, choice) values (${proposal}, ${TEAM}, ${voter}, ${choice})
               on conflict (proposal_id, voter_id) do update set choice = excluded.choice`;
    }) as Promise<unknown> as Promise<void>;
  };
  const bare = (worker: number, i: number) => {
    const { voter, proposal, choice } = ballot(worker, i);
    return sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${claims(voter)}, true)`;
      await tx`insert into public.bench_bare_votes values (${proposal}, ${voter}, ${choice})
               on conflict (proposal_id, voter_id) do update set choice = excluded.choice`;
    }) as Promise<unknown> as Promise<void>;
  };

  const figures = { votes: [] as number[], bare: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    figures.bare.push(await measure(bare));
    figures.votes.push(await measure(gateway));
    console.log(`round ${round}: bare ${figures.bare.at(-1)!.toFixed(0)}/s, votes ${figures.votes.at(-1)!.toFixed(0)}/s`);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [votes, baseline] = [mean(figures.votes), mean(figures.bare)];
  const [events] = await sql<{ n: number }[]>`select count(*)::int as n from public.outbox_events where event_type = 'proposal.vote_cast'`;
  console.log(
    `votes (RLS + guard + event): ${votes.toFixed(0)}/s; bare insert baseline: ${baseline.toFixed(0)}/s; ratio ${(votes / baseline).toFixed(2)} ` +
      `(concurrency ${concurrency}, ${rounds} × ${durationMs / 1000} s; ${events!.n} vote events written)`,
  );

  // closing: the scheduler's step over every proposal, in batches of 100
  const started = performance.now();
  let steps = 0;
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from app.governance_tick(100, now() + interval '31 days')`;
    if (row!.n === 0) break;
    steps += row!.n;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `scheduler: ${steps} steps (${PROPOSALS} proposals closed, the passed ones executed) in ${seconds.toFixed(2)} s = ${(steps / seconds).toFixed(0)} steps/s`,
  );
  await sql.end();
} finally {
  if (!options['keep-db']) await admin.unsafe(`drop database if exists "${database}" with (force)`);
  else console.log(`kept ${database}`);
  await admin.end();
}
