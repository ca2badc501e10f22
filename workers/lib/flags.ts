// Feature flags in a Node worker: the same store and OpenFeature provider as the gateway, on the worker's own
// database connection (LISTEN needs a session, so not through a transaction pooler). A worker asks
// `flags.client.getBooleanValue('gift_fabric', false)` and hears changes as OpenFeature ConfigurationChanged
// events within about a second.
import { OpenFeature, type Client } from '@openfeature/server-sdk';
import type { Sql } from '../../functions/_shared/db.ts';
import { DatabaseFlagProvider } from '../../functions/_shared/flags/openfeature.ts';
import { createFlagStore } from '../../functions/_shared/flags/store.ts';
import type { Logger } from '../../functions/_shared/log.ts';

export interface WorkerFlags {
  client: Client;
  close(): Promise<void>;
}

export async function startWorkerFlags(sql: Sql, options: { environment: string; service: string; logger: Logger }): Promise<WorkerFlags> {
  const store = createFlagStore(sql, { environment: options.environment, logger: options.logger });
  await OpenFeature.setProviderAndWait(new DatabaseFlagProvider(store));
  return {
    client: OpenFeature.getClient(options.service),
    async close() {
      await OpenFeature.close();
      await store.close();
    },
  };
}
