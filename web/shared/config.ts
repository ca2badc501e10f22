// Build-time settings of the web apps (see web/vite.shared.config.ts): public by construction.

/** Where the gateway's /api routes hang off, e.g. https://<ref>.supabase.co/functions/v1 (no trailing slash). */
export const apiBaseUrl: string = import.meta.env.VITE_API_BASE_URL as string;

/** What /api is on the canary gateway while a canary runs (empty: none); web/shared/api.ts routes by flag. */
export const apiCanaryUrl: string = import.meta.env.VITE_API_CANARY_URL as string;
