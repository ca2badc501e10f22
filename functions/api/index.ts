// Supabase Edge Function "api" (supabase/config.toml): the gateway serving everyone not in a canary.
import { serveEdgeFunction } from './edge-entry.ts';

serveEdgeFunction();
