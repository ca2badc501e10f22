// Entry point: `node --import tsx workers/wallet/main.ts` (npm run wallet:worker). Sends approved payouts from
// the hot signer (WALLET_PRIVATE_KEY; in staging/prod only from a mounted secret file, the config guard refuses
// a plain variable) and follows them to confirmation. Several may run: rows are claimed with
// `for update skip locked` and nonces are serialised per signer. SIGTERM finishes the pass in flight.
// Serves /metrics, /healthz and /readyz on METRICS_HOST:METRICS_PORT (wallet-metrics.ts). With
// WALLET_NATS_WAKEUP a payout.approved event on NATS ends the wait between passes at once (payout-wakeup.ts).
// Flags: --once (one pass, then exit), --dry-run (print what a pass would do with each approved payout, simulated
// on the chain node, then exit: nothing signed, sent or written), --crash-after record|broadcast (tests: SIGKILL
// itself at that point).
import type { Hex } from 'viem';
import { createLogger } from '../../functions/_shared/log.ts';
import { serveMetrics } from '../lib/metrics-server.ts';
import { registerDependency } from '../lib/readiness.ts';
import { connectWorkerDatabase } from '../lib/postgres.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../lib/worker-config.ts';
import { ANVIL_DEV_PRIVATE_KEY, connectChain, LOCAL_CHAIN_ID } from './chain.ts';
import { PayoutExecutor, type CrashPoint } from './payout-executor.ts';
import { Alarm, startPayoutWakeup } from './payout-wakeup.ts';
import { recordTreasuryBalances } from './ringk-token.ts';
import { createWalletMetrics, readPayoutsInFlight } from './wallet-metrics.ts';

const config = loadWorkerConfig('wallet-worker', process.env, WORKER_VARIABLES.wallet);
const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'wallet-worker', pid: process.pid } });
const argv = process.argv.slice(2);
const crashFlag = argv.indexOf('--crash-after');
const crashAt = crashFlag >= 0 ? (`after-${argv[crashFlag + 1]}` as CrashPoint) : undefined;

if (!config.CHAIN_RPC_URL) {
  console.error('wallet-worker: CHAIN_RPC_URL is not set; point it at the chain the treasury lives on (npm run dev starts a local one)');
  process.exit(2);
}

const metrics = createWalletMetrics();
// the chain's id once it answered: the in-flight gauges are read for it
const connected: { chainId?: number } = {};
// served before the chain answers, so the pod is alive (and says why it is not ready) while the node restarts
const metricsServer = await serveMetrics(metrics.registry, {
  host: config.METRICS_HOST,
  port: config.METRICS_PORT,
  beforeScrape: async () => {
    if (connected.chainId !== undefined) await readPayoutsInFlight(sql, connected.chainId, metrics).catch(() => undefined);
  },
}).catch((error: Error) => {
  logger.error('metrics not served; paying out anyway', { error: error.message, fix: 'give each worker on a host its own METRICS_PORT' });
  return undefined;
});

const sql = connectWorkerDatabase(config, { applicationName: 'microdao-wallet-worker', max: 2 });
const chain = await connectChainPatiently(config.CHAIN_RPC_URL);

/** The chain may be down at start (a node restarting): say so and retry, rather than exit. */
async function connectChainPatiently(rpcUrl: string) {
  const key = await signerKey();
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await connectChain(rpcUrl, key);
    } catch (error) {
      metrics.chainErrors.inc({ step: 'connect' });
      if (attempt % 10 === 0)
        logger.warn('the chain does not answer yet; retrying', { rpc: new URL(rpcUrl).host, error: (error as Error).message });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
connected.chainId = chain.chain.id;
// ready only while the chain answers too: a payout cannot move without it
registerDependency('chain', () => chain.public.getBlockNumber());
const executor = new PayoutExecutor(sql, chain, {
  confirmations: config.WALLET_CONFIRMATIONS,
  crashAt,
  metrics,
  log: ({ msg, ...fields }) => logger.info(String(msg), fields),
});

/** The hot signer's key; the well-known anvil key only on the local chain in local/test. */
async function signerKey(): Promise<Hex> {
  if (config.WALLET_PRIVATE_KEY) return config.WALLET_PRIVATE_KEY.trim() as Hex;
  const local = config.APP_ENV === 'local' || config.APP_ENV === 'test';
  if (local && config.CHAIN_RPC_URL) {
    const { createPublicClient, http } = await import('viem');
    for (;;) {
      try {
        const id = await createPublicClient({ transport: http(config.CHAIN_RPC_URL) }).getChainId();
        if (id === LOCAL_CHAIN_ID) return ANVIL_DEV_PRIVATE_KEY;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
  console.error('wallet-worker: WALLET_PRIVATE_KEY is not set; mount it as a secret file (WALLET_PRIVATE_KEY_FILE=/run/secrets/...)');
  process.exit(2);
}

if (argv.includes('--dry-run')) {
  for (const outcome of await executor.dryRun()) console.log(JSON.stringify(outcome));
  await Promise.all([sql.end({ timeout: 5 }), metricsServer?.close()]);
  process.exit(0);
}

const alarm = new Alarm();
const wakeup = config.WALLET_NATS_WAKEUP && !argv.includes('--once') ? startPayoutWakeup(config, sql, alarm, logger) : undefined;
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => {
    stopping = true;
    alarm.wake();
  });

logger.info('wallet worker started', {
  chain_id: chain.chain.id,
  signer: chain.account.address,
  confirmations: config.WALLET_CONFIRMATIONS,
});
const BALANCE_EVERY_MS = 5000;
let balanceReadAt = 0;
do {
  // the treasury balance the city shows: read from the chain every few seconds, not on every pass
  if (Date.now() - balanceReadAt > BALANCE_EVERY_MS) {
    balanceReadAt = Date.now();
    await recordTreasuryBalances(sql, chain).catch((error: Error) => {
      metrics.chainErrors.inc({ step: 'balance' });
      logger.warn('could not read the treasury balance', { error: error.message });
    });
  }
  const moved = await executor.runOnce().catch((error: Error) => {
    logger.error('pass failed; trying again', { error: error.message });
    return 0;
  });
  if (argv.includes('--once')) break;
  if (moved === 0 && !stopping && (await alarm.sleep(config.WALLET_POLL_INTERVAL_MS)) === 'woken')
    logger.debug('woken before the poll interval', {});
} while (!stopping);
await wakeup?.stop();
await Promise.all([sql.end({ timeout: 5 }), metricsServer?.close()]);
process.exit(0);
