// Safe multi-sig treasuries on a chain: the Safe singleton and proxy factory (safe-global/safe-contracts 1.4.1,
// the npm package's compiled artifacts) deployed once per chain and listed in public.chain_contracts with the
// chain's genesis hash (redeployed on another genesis or when the code is gone, as RINGK is), and a team's
// Safe created as a proxy with its members' wallets as owners and its own threshold.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { encodeFunctionData, zeroAddress, type Abi, type Address, type Hex } from 'viem';
import type { Sql } from '../lib/postgres.ts';
import type { ChainClients } from './chain.ts';

const require = createRequire(import.meta.url);
const ARTIFACTS = path.join(path.dirname(require.resolve('@safe-global/safe-contracts/package.json')), 'build/artifacts/contracts');

function artifact(file: string): { abi: Abi; bytecode: Hex } {
  const json = JSON.parse(readFileSync(path.join(ARTIFACTS, file), 'utf8')) as { abi: Abi; bytecode: Hex };
  return { abi: json.abi, bytecode: json.bytecode };
}
const SAFE = artifact('Safe.sol/Safe.json');
const FACTORY = artifact('proxies/SafeProxyFactory.sol/SafeProxyFactory.json');
/** The Safe's ABI (singleton and proxies alike). */
export const safeAbi = SAFE.abi;

export interface SafeContracts {
  singleton: Address;
  factory: Address;
}

async function deploy(clients: ChainClients, contract: { abi: Abi; bytecode: Hex }): Promise<Address> {
  const hash = await clients.wallet.deployContract({ ...contract, account: clients.account, chain: clients.chain });
  const receipt = await clients.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (!receipt.contractAddress || receipt.status !== 'success') throw new Error('a Safe contract deployment failed');
  return receipt.contractAddress.toLowerCase() as Address;
}

const hasCode = async (clients: ChainClients, address: Address) => {
  const code = await clients.public.getCode({ address });
  return Boolean(code && code !== '0x');
};

/** The Safe singleton and proxy factory of this chain, deployed now unless listed for this very chain. */
export async function ensureSafeContracts(sql: Sql, clients: ChainClients): Promise<SafeContracts & { deployed: boolean }> {
  const chainId = clients.chain.id;
  const rows = await sql<{ name: string; address: Address; genesis_hash: string }[]>`
    select name, address, genesis_hash from public.chain_contracts where chain_id = ${chainId}`;
  const listed = Object.fromEntries(rows.filter((r) => r.genesis_hash === clients.genesisHash).map((r) => [r.name, r.address]));
  if (listed.safe_singleton && listed.safe_proxy_factory) {
    const contracts = { singleton: listed.safe_singleton, factory: listed.safe_proxy_factory };
    if ((await hasCode(clients, contracts.singleton)) && (await hasCode(clients, contracts.factory)))
      return { ...contracts, deployed: false };
  }
  const singleton = await deploy(clients, SAFE);
  const factory = await deploy(clients, FACTORY);
  for (const [name, address] of [
    ['safe_singleton', singleton],
    ['safe_proxy_factory', factory],
  ] as const) {
    await sql`
      insert into public.chain_contracts (chain_id, name, address, genesis_hash)
      values (${chainId}, ${name}, ${address}, ${clients.genesisHash})
      on conflict (chain_id, name) do update set address = excluded.address, genesis_hash = excluded.genesis_hash, created_at = now()`;
  }
  return { singleton, factory, deployed: true };
}

/** Creates a Safe (a proxy of the singleton) with these owners and threshold; returns its address. */
export async function createSafe(
  clients: ChainClients,
  contracts: SafeContracts,
  owners: Address[],
  threshold: number,
  saltNonce = BigInt(Date.now()),
): Promise<Address> {
  const initializer = encodeFunctionData({
    abi: safeAbi,
    functionName: 'setup',
    args: [owners, BigInt(threshold), zeroAddress, '0x', zeroAddress, zeroAddress, 0n, zeroAddress],
  });
  // the address is CREATE2 of (initializer, salt): the simulated result is the address the transaction creates
  const { request, result } = await clients.public.simulateContract({
    address: contracts.factory,
    abi: FACTORY.abi,
    functionName: 'createProxyWithNonce',
    args: [contracts.singleton, initializer, saltNonce],
    account: clients.account,
  });
  const hash = await clients.wallet.writeContract({ ...request, chain: clients.chain, account: clients.account });
  const receipt = await clients.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (receipt.status !== 'success') throw new Error('creating the Safe reverted');
  return (result as Address).toLowerCase() as Address;
}

/** What the Safe says now: owners (lower case), threshold, next nonce. */
export async function readSafe(clients: ChainClients, safe: Address): Promise<{ owners: Address[]; threshold: number; nonce: bigint }> {
  const [owners, threshold, nonce] = await Promise.all([
    clients.public.readContract({ address: safe, abi: safeAbi, functionName: 'getOwners' }) as Promise<Address[]>,
    clients.public.readContract({ address: safe, abi: safeAbi, functionName: 'getThreshold' }) as Promise<bigint>,
    clients.public.readContract({ address: safe, abi: safeAbi, functionName: 'nonce' }) as Promise<bigint>,
  ]);
  return { owners: owners.map((o) => o.toLowerCase() as Address), threshold: Number(threshold), nonce };
}

/** The local chain's demo Safe: anvil's well-known accounts 1-3 as owners, threshold 2, funded with `funds` RINGK
    base units when created; listed in chain_contracts as dev_safe (local only, like the keys it trusts). */
export async function ensureDevSafe(
  sql: Sql,
  clients: ChainClients,
  contracts: SafeContracts,
  owners: Address[],
  fund: (safe: Address) => Promise<void>,
): Promise<{ address: Address; created: boolean }> {
  const [known] = await sql<{ address: Address }[]>`
    select address from public.chain_contracts
    where chain_id = ${clients.chain.id} and name = 'dev_safe' and genesis_hash = ${clients.genesisHash}`;
  if (known && (await hasCode(clients, known.address))) return { address: known.address, created: false };
  const address = await createSafe(clients, contracts, owners, 2);
  await fund(address);
  await sql`
    insert into public.chain_contracts (chain_id, name, address, genesis_hash)
    values (${clients.chain.id}, 'dev_safe', ${address}, ${clients.genesisHash})
    on conflict (chain_id, name) do update set address = excluded.address, genesis_hash = excluded.genesis_hash, created_at = now()`;
  return { address, created: true };
}
