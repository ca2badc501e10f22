// Supabase Edge Function "api-canary" (supabase/config.toml): the next release of the gateway, deployed beside
// "api" by scripts/canary.sh. The web client sends the users the `api.canary` flag selects here; its metrics
// carry CANARY_RELEASE as their `release` label, so the canary check can compare it with the stable release.
import { serveEdgeFunction } from './edge-entry.ts';

serveEdgeFunction({ functionName: 'api-canary', releaseVariable: 'CANARY_RELEASE' });
