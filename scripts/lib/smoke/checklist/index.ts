// The post-deploy checklist items beyond login/chat (seed §5.4 step 6), one file each. An item runs when the
// deployment has its routes (routePrefix in its OpenAPI document); until then it reports "not available yet".
// A domain adds its item as a file here and one line in CHECKLIST.
import type { SmokeClient } from '../client.ts';
import { agentRunItem } from './agent-run.ts';
import { embassyCall } from './embassy.ts';
import { governanceFlow } from './governance-flow.ts';
import { testPayout } from './test-payout.ts';

export interface ChecklistContext {
  /** The API base URL, e.g. https://<ref>.supabase.co/functions/v1/api */
  api: string;
  /** The smoke user's team (smoke-checks), where items create what they need. */
  teamId: string | undefined;
  /** A timestamp for unique names. */
  stamp: string;
  env: string;
  /** The run's variables (its environment or --env-file): items that need test-configuration secrets read them here. */
  variables: Record<string, string | undefined>;
}

export interface ChecklistItem {
  name: string;
  /** A route the feature adds: its presence in /openapi.json means the deployment has the feature. */
  routePrefix: string;
  feature: string;
  /** What the item does, for --dry-run. */
  describe(api: string): string;
  /** Exercises the feature as the signed-in smoke user; resolves with what it saw, throws StepFailure. */
  run(client: SmokeClient, context: ChecklistContext): Promise<string>;
}

export const CHECKLIST: ChecklistItem[] = [agentRunItem, testPayout, embassyCall, governanceFlow];
