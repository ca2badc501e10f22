// The tokens a team's payouts can be made in, per chain, with the treasury's balance of each as the wallet
// worker last read it from the chain (migration 20261205000710). The gateway never calls a chain node itself.
import { z } from '@hono/zod-openapi';
import { inRequestTransaction } from '../core/context.ts';
import { requireVisibleTeam } from '../core/team-visibility.ts';
import { createRouter, errorResponses, jsonResponse, securedRoute, Timestamp, Uuid } from '../core/route.ts';

const Token = z
  .object({
    chain_id: z.number().int(),
    symbol: z.string(),
    address: z.string().openapi({ example: '0x5fbdb2315678afecb367f032d93f642f64180aa3' }),
    decimals: z.number().int(),
    treasury_address: z.string().nullable(),
    treasury_balance: z.string().nullable().openapi({ description: 'Base units, as a decimal string; null until first read' }),
    balance_read_at: Timestamp.nullable(),
  })
  .openapi('ChainToken');
const TeamPath = z.strictObject({ teamId: Uuid.openapi({ param: { name: 'teamId', in: 'path' } }) });

const tokens = securedRoute('wallet.read', {
  method: 'get',
  path: '/teams/{teamId}/wallet/tokens',
  tags: ['wallet'],
  summary: 'The tokens payouts can be made in, with the treasury balance of each',
  request: { params: TeamPath },
  responses: { 200: jsonResponse(z.object({ items: z.array(Token) }), 'The tokens'), ...errorResponses(400, 404) },
});

export const tokenRoutes = createRouter().openapi(tokens, async (c) => {
  const { teamId } = c.req.valid('param');
  const items = await inRequestTransaction(c, async (tx) => {
    await requireVisibleTeam(tx, teamId);
    return tx<z.infer<typeof Token>[]>`
      select chain_id::int as chain_id, symbol, address, decimals, treasury_address, treasury_balance::text as treasury_balance,
             balance_read_at
      from public.chain_tokens order by chain_id, symbol`;
  });
  return c.json({ items }, 200);
});
