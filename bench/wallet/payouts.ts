// Benchmark (not a test): payouts from approval to confirmation on a local chain (anvil, automine, 1
// confirmation) through the wallet worker's executor, next to a baseline measured in the same run on the same
// chain: bare ERC-20 transfers sent one after another by viem and awaited to their receipt. Prints payouts/s
// with p50/p99 of approval → confirmed, the baseline's transfers/s and p50/p99, and their ratios.
//
//   npm run bench:wallet -- [--payouts 50] [--keep-db] [--dry-run]
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { erc20Abi, type Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ANVIL_DEV_PRIVATE_KEY, connectChain, deployRingk, startAnvil } from '../../workers/wallet/chain.ts';
import { PayoutExecutor } from '../../workers/wallet/payout-executor.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: options } = parseArgs({
  options: {
    payouts: { type: 'string', default: '50' },
    'keep-db': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const USAGE = 'Usage: npm run bench:wallet -- [--payouts N (1–1000, default 50)] [--keep-db] [--dry-run]';
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = Number(options.payouts);
if (!Number.isInteger(count) || count < 1 || count > 1000) {
  console.error(`bench:wallet: --payouts must be a whole number from 1 to 1000\n${USAGE}`);
  process.exit(2);
}
const adminUrl = process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = `mdao_bench_wallet_${Date.now().toString(36)}`;
const say = (line: string) => console.log(`bench:wallet: ${line}`);
if (options['dry-run']) {
  say(`would create ${database}, migrate it, start anvil, deploy RINGK, send ${count} bare transfers and ${count} payouts`);
  process.exit(0);
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const anvil = await startAnvil();
let sql: postgres.Sql | undefined;
try {
  say(`creating database ${database} and applying every migration`);
  await admin.unsafe(`create database "${database}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  execFileSync('bash', ['scripts/migrate.sh', 'up', '--db-url', `${url.toString()}?sslmode=disable`], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  sql = postgres(url.toString(), { max: 4, onnotice: () => {} });
  const chain = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
  const token = await deployRingk(chain, 10n ** 30n);
  const recipients: Address[] = Array.from({ length: count }, () => privateKeyToAccount(generatePrivateKey()).address);

  say(`baseline: ${count} bare ERC-20 transfers, each sent and awaited to its receipt`);
  const baseline: number[] = [];
  const baselineStart = performance.now();
  for (const to of recipients) {
    const t = performance.now();
    const hash = await chain.wallet.writeContract({
      address: token,
      abi: erc20Abi,
      functionName: 'transfer',
      args: [to, 1n],
      account: chain.account,
      chain: chain.chain,
    });
    await chain.public.waitForTransactionReceipt({ hash, pollingInterval: 20 });
    baseline.push(performance.now() - t);
  }
  const baselineSeconds = (performance.now() - baselineStart) / 1000;

  say(`payouts: ${count} approved payouts through the executor (simulate, sign, record, send, confirm)`);
  const team = '00000000-0000-4000-8000-0000000be4c1';
  const owner = '00000000-0000-4000-8000-0000000be4c2';
  await sql`insert into auth.users (id, email) values (${owner}, 'bench@wallet.local')`;
  await sql`insert into public.teams (id, name, created_by) values (${team}, 'Bench', ${owner})`;
  const ids: string[] = [];
  for (const [i, to] of recipients.entries()) {
    const [row] = await sql<{ id: string }[]>`
      insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
      values (${team}, ${owner}, ${chain.chain.id}, ${token.toLowerCase()}, ${to.toLowerCase()}, 1, ${`bench-${i}`}, ${'e'.repeat(64)})
      returning id`;
    ids.push(row!.id);
  }
  const executor = new PayoutExecutor(sql, chain, { confirmations: 1 });
  const payoutStart = performance.now();
  await sql`update public.payouts set status = 'approved' where team_id = ${team}`;
  for (;;) {
    await executor.runOnce();
    const [left] = await sql<{ n: number }[]>`select count(*)::int as n from public.payouts where status in ('approved', 'submitted')`;
    if (left!.n === 0) break;
  }
  const payoutSeconds = (performance.now() - payoutStart) / 1000;
  const rows = await sql<{ status: string; ms: number }[]>`
    select status, extract(epoch from (finished_at - approved_at)) * 1000 as ms from public.payouts where team_id = ${team}`;
  const confirmed = rows.filter((r) => r.status === 'confirmed').map((r) => Number(r.ms));
  if (confirmed.length !== count) throw new Error(`${count - confirmed.length} payouts did not confirm`);

  const basePerSecond = count / baselineSeconds;
  const payoutPerSecond = count / payoutSeconds;
  console.log('');
  console.log(
    `bare transfers (baseline): ${basePerSecond.toFixed(1)}/s, p50 ${percentile(baseline, 50).toFixed(0)} ms, p99 ${percentile(baseline, 99).toFixed(0)} ms`,
  );
  console.log(
    `payouts approval→confirmed: ${payoutPerSecond.toFixed(1)}/s, p50 ${percentile(confirmed, 50).toFixed(0)} ms, p99 ${percentile(confirmed, 99).toFixed(0)} ms`,
  );
  console.log(`ratio payouts/baseline: throughput ${(payoutPerSecond / basePerSecond).toFixed(2)}`);
} finally {
  await sql?.end({ timeout: 5 });
  await anvil.stop();
  if (!options['keep-db']) await admin.unsafe(`drop database if exists "${database}" with (force)`);
  else say(`kept database ${database}`);
  await admin.end();
}
