// RINGK on a chain, once: public.chain_tokens names its address per chain and the chain's genesis hash; on
// another chain of the same id (a fresh node, or one restarted without its state), or when there is no code at
// the address, it is deployed again and the row follows. The launcher
// calls this at start; the wallet worker reads the row to report the treasury's balance (recordTreasuryBalances).
import { erc20Abi, type Address } from 'viem';
import type { Sql } from '../lib/postgres.ts';
import { deployRingk, type ChainClients } from './chain.ts';

/** The whole supply goes to the deployer, the hot signer: 1e9 RINGK of 18 decimals. */
export const RINGK_SUPPLY = 10n ** 27n;

export async function ensureRingk(sql: Sql, clients: ChainClients): Promise<{ address: Address; deployed: boolean }> {
  const chainId = clients.chain.id;
  const genesis = clients.genesisHash;
  const [known] = await sql<{ address: Address; genesis_hash: string | null }[]>`
    select address, genesis_hash from public.chain_tokens where chain_id = ${chainId} and symbol = 'RINGK'`;
  // a row without a genesis predates migration 20261205001100: the code at the address decides, then it is stamped
  if (known && (known.genesis_hash === null || known.genesis_hash === genesis)) {
    const code = await clients.public.getCode({ address: known.address });
    if (code && code !== '0x') {
      if (known.genesis_hash === null)
        await sql`update public.chain_tokens set genesis_hash = ${genesis} where chain_id = ${chainId} and symbol = 'RINGK'`;
      return { address: known.address, deployed: false };
    }
  }
  const address = (await deployRingk(clients, RINGK_SUPPLY)).toLowerCase() as Address;
  await sql`
    insert into public.chain_tokens (chain_id, symbol, address, decimals, genesis_hash)
    values (${chainId}, 'RINGK', ${address}, 18, ${genesis})
    on conflict (chain_id, symbol) do update
      set address = excluded.address, genesis_hash = excluded.genesis_hash, treasury_balance = null,
          treasury_address = null, balance_read_at = null`;
  return { address, deployed: true };
}

/** Reads the signer's balance of every token listed for its chain into chain_tokens (what the city shows). */
export async function recordTreasuryBalances(sql: Sql, clients: ChainClients): Promise<void> {
  const chainId = clients.chain.id;
  const tokens = await sql<{ address: Address }[]>`select address from public.chain_tokens where chain_id = ${chainId}`;
  for (const { address } of tokens) {
    const balance = await clients.public.readContract({
      address,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [clients.account.address],
    });
    await sql`
      update public.chain_tokens
      set treasury_address = ${clients.account.address.toLowerCase()}, treasury_balance = ${balance.toString()},
          balance_read_at = now()
      where chain_id = ${chainId} and address = ${address}`;
  }
}
