// The EVM side of the wallet: viem clients for CHAIN_RPC_URL, the RINGK ERC-20 compiled from source with solc-js
// (OpenZeppelin's ERC20) and deployed once per chain, and a local anvil node for the launcher and the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  erc20Abi,
  http,
  type Abi,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { ephemeralPort } from '../lib/ports.ts';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');

/** anvil's first default account: a well-known key, for the local chain only (never a real network). */
export const ANVIL_DEV_PRIVATE_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
export const LOCAL_CHAIN_ID = 31337;

export interface ChainClients {
  chain: Chain;
  /** The hash of block 0: what tells two chains of the same id apart (a fresh anvil is always 31337). Kept current
      by the executor (readGenesis) when the node was reset under a running worker. */
  genesisHash: Hex;
  account: PrivateKeyAccount;
  public: PublicClient;
  wallet: WalletClient;
}

export async function connectChain(rpcUrl: string, privateKey: Hex): Promise<ChainClients> {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 5000 }) });
  const id = await probe.getChainId();
  const chain = defineChain({
    id,
    name: `chain-${id}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const transport = http(rpcUrl, { retryCount: 0, timeout: 10_000 });
  const account = privateKeyToAccount(privateKey);
  const publicClient = createPublicClient({ chain, transport }) as PublicClient;
  return {
    chain,
    genesisHash: await readGenesis(publicClient),
    account,
    public: publicClient,
    wallet: createWalletClient({ chain, transport, account }),
  };
}

/** The chain's identity: its genesis block hash, lowercase. */
export async function readGenesis(client: PublicClient): Promise<Hex> {
  const genesis = await client.getBlock({ blockNumber: 0n });
  if (!genesis.hash) throw new Error('the chain node returned block 0 without a hash');
  return genesis.hash.toLowerCase() as Hex;
}

let compiled: { abi: Abi; bytecode: Hex } | undefined;

/** Compiles contracts/Ringk.sol with solc-js (no download: the npm package carries the compiler). */
export function compileRingk(): { abi: Abi; bytecode: Hex } {
  if (compiled) return compiled;
  const solc = require('solc') as { compile(input: string, options: { import(p: string): { contents?: string; error?: string } }): string };
  const source = readFileSync(path.join(HERE, 'contracts/Ringk.sol'), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { 'Ringk.sol': { content: source } },
    settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const findImport = (importPath: string) => {
    try {
      return { contents: readFileSync(path.join(ROOT, 'node_modules', importPath), 'utf8') };
    } catch {
      return { error: `not found: ${importPath}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`compiling Ringk.sol failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  const contract = output.contracts['Ringk.sol']!.Ringk!;
  compiled = { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  return compiled;
}

/** Deploys RINGK with `supply` base units held by the signer; returns its address. */
export async function deployRingk(clients: ChainClients, supply: bigint): Promise<Address> {
  const { abi, bytecode } = compileRingk();
  const hash = await clients.wallet.deployContract({ abi, bytecode, args: [supply], account: clients.account, chain: clients.chain });
  const receipt = await clients.public.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (!receipt.contractAddress) throw new Error('RINGK deployment left no contract address');
  return receipt.contractAddress;
}

export const tokenBalance = (clients: ChainClients, token: Address, holder: Address): Promise<bigint> =>
  clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [holder] });

export interface LocalChain {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts anvil (from @foundry-rs/anvil) on `port` (a free one by default) and waits until it answers. */
export async function startAnvil(options: { port?: number; blockTimeSeconds?: number; stateFile?: string } = {}): Promise<LocalChain> {
  const port = options.port ?? (await ephemeralPort());
  const args = ['--port', String(port), '--host', '127.0.0.1', '--chain-id', String(LOCAL_CHAIN_ID), '--silent'];
  if (options.blockTimeSeconds) args.push('--block-time', String(options.blockTimeSeconds));
  // a state file keeps the chain across restarts (the crash test restarts the node mid-flow)
  if (options.stateFile) args.push('--state', options.stateFile);
  const child = spawn(path.join(ROOT, 'node_modules/.bin/anvil'), args, { stdio: 'ignore' });
  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode} before answering on ${rpcUrl}`);
    try {
      const response = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`anvil did not answer on ${rpcUrl} within 30 s`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    rpcUrl,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
