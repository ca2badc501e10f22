// Feature flags at the gateway's routes: a domain's route asks `requireFeature(deps.flags, 'rwa', …)` before its work and
// a flag that is off for the caller answers 403 `feature_disabled` naming the flag. Evaluations go through an
// OpenFeature client whose provider reads this gateway's flag store (functions/_shared/flags/openfeature.ts);
// each gateway instance gets its own OpenFeature domain, so two gateways in one process (tests) never share one.
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import { DatabaseFlagProvider } from '../../_shared/flags/openfeature.ts';
import type { FlagStore } from '../../_shared/flags/store.ts';
import { ApiError } from '../../_shared/errors.ts';

const clients = new WeakMap<FlagStore, Promise<Client>>();

function clientFor(store: FlagStore): Promise<Client> {
  let client = clients.get(store);
  if (!client) {
    const domain = `gateway-${crypto.randomUUID()}`;
    client = OpenFeature.setProviderAndWait(domain, new DatabaseFlagProvider(store)).then(() => OpenFeature.getClient(domain));
    // a failed start (database away) is tried again by the next request
    client.catch(() => clients.delete(store));
    clients.set(store, client);
  }
  return client;
}

/** Whether the boolean flag is on for the caller (and the team, when given); false when the flag is missing. */
export async function featureEnabled(flags: FlagStore, flag: string, caller: { userId?: string; teamId?: string }): Promise<boolean> {
  const client = await clientFor(flags);
  return client.getBooleanValue(flag, false, {
    ...(caller.userId ? { targetingKey: caller.userId } : {}),
    teams: caller.teamId ? [caller.teamId] : [],
  });
}

/** Throws 403 feature_disabled unless the boolean flag is on for the caller (and the team, when given). */
export async function requireFeature(
  flags: FlagStore,
  flag: string,
  what: string,
  caller: { userId?: string; teamId?: string },
): Promise<void> {
  if (!(await featureEnabled(flags, flag, caller))) {
    throw new ApiError(
      403,
      'feature_disabled',
      `${what} is not enabled here (feature flag "${flag}"); a platform admin turns it on in the admin console (Feature flags).`,
    );
  }
}
