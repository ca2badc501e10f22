// The Safe transaction (SafeTx, safe-contracts 1.4.1) that pays a payout from a team's Safe, as EIP-712 typed
// data: the gateway gives it to approvers to sign (GET …/payouts/{id}/safe-transaction) and checks what they
// sign; the wallet worker packs the signatures into execTransaction. One definition for both, so the hash the
// approvers sign is the hash the Safe checks. A plain ERC-20 transfer call, no refund, no gas price: the hot
// signer pays the gas of execTransaction and the Safe reverts the whole call when the transfer fails.
import { encodeFunctionData, erc20Abi, hashTypedData, recoverAddress, type Address, type Hex } from 'viem';

export const SAFE_TX_TYPES = {
  SafeTx: [
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'data', type: 'bytes' },
    { name: 'operation', type: 'uint8' },
    { name: 'safeTxGas', type: 'uint256' },
    { name: 'baseGas', type: 'uint256' },
    { name: 'gasPrice', type: 'uint256' },
    { name: 'gasToken', type: 'address' },
    { name: 'refundReceiver', type: 'address' },
    { name: 'nonce', type: 'uint256' },
  ],
} as const;

const ZERO: Address = '0x0000000000000000000000000000000000000000';

export interface SafePayout {
  chainId: number;
  safe: Address;
  safeNonce: bigint;
  token: Address;
  recipient: Address;
  amount: bigint;
}

/** The SafeTx message of a payout: call token.transfer(recipient, amount) from the Safe with its nonce. */
export function safeTransactionOf(p: SafePayout) {
  return {
    domain: { chainId: p.chainId, verifyingContract: p.safe },
    types: SAFE_TX_TYPES,
    primaryType: 'SafeTx' as const,
    message: {
      to: p.token,
      value: 0n,
      data: encodeFunctionData({ abi: erc20Abi, functionName: 'transfer', args: [p.recipient, p.amount] }),
      operation: 0,
      safeTxGas: 0n,
      baseGas: 0n,
      gasPrice: 0n,
      gasToken: ZERO,
      refundReceiver: ZERO,
      nonce: p.safeNonce,
    },
  };
}

/** The hash the Safe's owners sign (what Safe.getTransactionHash returns on chain). */
export const safeTransactionHash = (p: SafePayout): Hex => hashTypedData(safeTransactionOf(p));

/** Who made a 65-byte signature of the SafeTx hash (an EIP-712 signature: v 27 or 28); null when it is no signature. */
export async function safeSigner(hash: Hex, signature: Hex): Promise<Address | null> {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return null;
  const v = Number.parseInt(signature.slice(130), 16);
  if (v !== 27 && v !== 28) return null; // 0/1 (contract, approved hash) and 31/32 (eth_sign) are other Safe schemes
  try {
    return (await recoverAddress({ hash, signature })).toLowerCase() as Address;
  } catch {
    return null;
  }
}

/** execTransaction's `signatures`: each owner's 65 bytes, ordered by owner address ascending (the Safe requires it). */
export function packSafeSignatures(signatures: { signer: Address; signature: Hex }[]): Hex {
  const sorted = [...signatures].sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  return `0x${sorted.map((s) => s.signature.slice(2)).join('')}`;
}
