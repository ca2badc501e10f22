// The `gift_fabric` feature flag at the gift routes: off for the caller's team → 403 gift_fabric_disabled (as
// agents_disabled for runs). Evaluated through the OpenFeature provider over the process's flag store.
import type { Context } from 'hono';
import { ApiError } from '../../_shared/errors.ts';
import type { PrincipalEnv } from '../core/context.ts';
import { featureEnabled } from '../core/feature-gate.ts';

export const GIFT_FABRIC_FLAG = 'gift_fabric';

/** Throws 403 gift_fabric_disabled unless gifts are on for the caller in this team (off when the flag is missing). */
export async function requireGiftFabric(c: Context<PrincipalEnv>, teamId: string): Promise<void> {
  const { deps, principal } = c.var;
  await deps.flags.ready();
  if (await featureEnabled(deps.flags, GIFT_FABRIC_FLAG, { userId: principal.id, teamId })) return;
  throw new ApiError(
    403,
    'gift_fabric_disabled',
    'Gifts are switched off for this team (feature flag "gift_fabric"); a platform admin can turn them on in the admin console under Flags.',
  );
}
