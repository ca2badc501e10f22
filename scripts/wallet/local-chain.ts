// The local chain of `npm run dev`: anvil (npm @foundry-rs/anvil) on 127.0.0.1:LOCAL_CHAIN_PORT, a block a
// second, its state kept under the state folder (.local/anvil/state.json, git-ignored) so a restart keeps the
// balances; then RINGK deployed once per chain (workers/wallet/ringk-token.ts) and listed in public.chain_tokens,
// and the Safe contracts plus a demo Safe (owners: anvil's accounts 1-3, threshold 2) funded with 1,000,000 RINGK
// (workers/wallet/safe-treasury.ts), listed in public.chain_contracts.
// The chain's only funded signer is anvil's well-known first account: local only, never a real network.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { connectWorkerDatabase } from '../../workers/lib/postgres.ts';
import { loadWorkerConfig, WORKER_VARIABLES } from '../../workers/lib/worker-config.ts';
import { erc20Abi, type Address } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { ANVIL_DEV_PRIVATE_KEY, connectChain, startAnvil } from '../../workers/wallet/chain.ts';
import { ensureRingk } from '../../workers/wallet/ringk-token.ts';
import { ensureDevSafe, ensureSafeContracts } from '../../workers/wallet/safe-treasury.ts';
import { LOCAL_CHAIN_PORT } from './local-chain-settings.ts';

const root = path.resolve(import.meta.dirname, '../..');
const directory = path.join(process.env.LOCAL_STACK_DIR || path.join(root, '.local'), 'anvil');
mkdirSync(directory, { recursive: true });

const config = loadWorkerConfig('local-chain', process.env, WORKER_VARIABLES.wallet);
const anvil = await startAnvil({ port: LOCAL_CHAIN_PORT, blockTimeSeconds: 1, stateFile: path.join(directory, 'state.json') });
const sql = connectWorkerDatabase(config, { applicationName: 'microdao-local-chain', max: 1 });
try {
  const clients = await connectChain(anvil.rpcUrl, ANVIL_DEV_PRIVATE_KEY);
  const ringk = await ensureRingk(sql, clients);
  // anvil's default accounts come from its well-known test mnemonic: local only
  const devOwners = [1, 2, 3].map(
    (i) => mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: i }).address,
  );
  const safe = await ensureDevSafe(sql, clients, await ensureSafeContracts(sql, clients), devOwners, async (address: Address) => {
    const hash = await clients.wallet.writeContract({
      address: ringk.address,
      abi: erc20Abi,
      functionName: 'transfer',
      args: [address, 10n ** 24n],
      account: clients.account,
      chain: clients.chain,
    });
    await clients.public.waitForTransactionReceipt({ hash });
  });
  console.log(
    `local chain (anvil) on ${anvil.rpcUrl}, chain id ${clients.chain.id}; RINGK at ${ringk.address} ` +
      `(${ringk.deployed ? 'deployed now' : 'already there'}); demo Safe at ${safe.address} (threshold 2 of anvil accounts 1-3, ` +
      `${safe.created ? 'created and funded now' : 'already there'}); state in ${directory}`,
  );
} catch (error) {
  console.error(`local-chain: could not deploy RINGK: ${(error as Error).message}`);
  await anvil.stop();
  process.exit(1);
} finally {
  await sql.end({ timeout: 5 });
}

// anvil writes its state file when it stops: stop it, then go
const stop = () => void anvil.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
anvil.process.once('exit', (code, signal) => {
  // the launcher stops the whole process group: anvil may hear SIGTERM first
  if (signal === 'SIGTERM' || signal === 'SIGINT' || code === 0) process.exit(0);
  console.error(`local-chain: anvil exited (${signal ?? code}); restart npm run dev`);
  process.exit(1);
});
