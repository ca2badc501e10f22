// The ledger invariant the gift tests check after each test, in SQL: every transaction's entries sum to zero
// (debits = credits), the whole ledger sums to zero, and no member or staked account is below zero.
import { expect } from 'vitest';
import type { Sql } from '../harness/database.ts';

export async function expectLedgerBalanced(sql: Sql): Promise<void> {
  const [ledger] = await sql<{ unbalanced: number; total: string; negative: number }[]>`
    select
      (select count(*)::int from (select transaction_id from public.ledger_entries group by 1 having sum(amount) <> 0) u) as unbalanced,
      (select coalesce(sum(amount), 0)::text from public.ledger_entries) as total,
      (select count(*)::int from (select 1 from public.ledger_entries where account <> 'issuance'
         group by team_id, account having sum(amount) < 0) n) as negative`;
  expect(ledger).toEqual({ unbalanced: 0, total: '0', negative: 0 });
}
