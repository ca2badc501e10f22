// The wallet worker's NATS wake-up (WALLET_NATS_WAKEUP, durable consumer NATS_CONSUMER_WALLET): with the poll
// interval at 60 s, an approved payout travels outbox → relay → JetStream payout.approved → the worker, which
// pays and confirms it in seconds instead of at the next poll. Real Postgres, NATS (fresh stream), anvil.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { ANVIL_DEV_PRIVATE_KEY, connectChain, startAnvil, tokenBalance } from '../../workers/wallet/chain.ts';
import { ephemeralPort } from '../../workers/lib/ports.ts';
import { ensureRingk } from '../../workers/wallet/ringk-token.ts';
import { databaseVariables } from '../harness/database.ts';
import { testServices } from '../harness/services.ts';
import { useSharedNats } from '../relay/support/fixture.ts';
import { databaseSettings, startRelay, waitFor } from '../relay/support/relay-env.ts';

const fixture = useSharedNats();
const TEAM = 'aaaaaaaa-0000-4000-8000-0000000a4a6e';
const OWNER = 'a0000000-0000-4000-8000-0000000a4a6e';
const POLL_MS = 60_000;

describe('the wallet worker woken by payout.approved', () => {
  it('pays an approved payout well before its 60 s poll interval', async () => {
    const { db, streams } = await fixture.setUp('wallet_wakeup');
    const anvil = await startAnvil();
    fixture.afterTest(() => anvil.stop());
    const chain = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
    const token = (await ensureRingk(db.sql, chain)).address;
    await db.sql`insert into auth.users (id, email) values (${OWNER}, 'owner@wakeup.test')`;
    await db.sql`insert into public.teams (id, name, created_by) values (${TEAM}, 'Wake-up team', ${OWNER})`;
    const relay = await startRelay(databaseSettings(db.url), testServices.natsUrl, streams);
    fixture.afterTest(() => relay.stop());

    const worker = spawn(process.execPath, ['--import', 'tsx', 'workers/wallet/main.ts'], {
      env: {
        ...process.env,
        ...databaseVariables(db),
        ...streams,
        ENV_FILE: '/nonexistent/.env',
        LOG_LEVEL: 'info',
        NATS_URL: testServices.natsUrl,
        CHAIN_RPC_URL: anvil.rpcUrl,
        WALLET_CONFIRMATIONS: '1',
        WALLET_POLL_INTERVAL_MS: String(POLL_MS),
        WALLET_NATS_WAKEUP: 'true',
        METRICS_PORT: String(await ephemeralPort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    worker.stdout.on('data', (d: Buffer) => (output += d.toString()));
    worker.stderr.on('data', (d: Buffer) => (output += d.toString()));
    fixture.afterTest(
      () =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null) return resolve();
          worker.once('exit', () => resolve());
          worker.kill('SIGTERM');
        }),
    );
    // the worker made its first pass (nothing to do) and now sleeps for 60 s, listening on NATS
    await waitFor('the wake-up consumer', () => output.includes('woken by payout.approved on NATS'), 30_000);

    const recipient: Address = privateKeyToAccount(generatePrivateKey()).address;
    const [row] = await db.sql<{ id: string }[]>`
      insert into public.payouts (team_id, requested_by, chain_id, token, recipient, amount, idempotency_key, request_hash)
      values (${TEAM}, ${OWNER}, 31337, ${token}, ${recipient.toLowerCase()}, 99, 'wakeup-1', ${'a'.repeat(64)})
      returning id`;
    const approvedAt = Date.now();
    await db.sql`update public.payouts set status = 'approved' where id = ${row!.id}`;
    await waitFor(
      'the payout confirmed',
      async () => (await db.sql`select 1 from public.payouts where id = ${row!.id} and status = 'confirmed'`).length === 1,
      POLL_MS / 2,
      100,
    );
    const seconds = (Date.now() - approvedAt) / 1000;
    console.log(`approved → confirmed in ${seconds.toFixed(2)} s with a ${POLL_MS / 1000} s poll interval`);
    expect(seconds).toBeLessThan(10);
    expect(await tokenBalance(chain, token, recipient)).toBe(99n);
    const [processed] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from public.consumer_processed_events where consumer = 'wallet'`;
    expect(processed!.n, 'the wake-up went through the durable consumer').toBeGreaterThanOrEqual(1);
  }, 120_000);
});
