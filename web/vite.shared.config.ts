// One Vite configuration for both web apps (city and admin): each app's vite.config.ts calls
// webAppConfig('<app>'). The API base URL and the Supabase Auth project are build-time settings per
// environment (VITE_* variables from the environment or the repository's .env); nothing else reaches a bundle.
import react from '@vitejs/plugin-react';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, loadEnv, type Plugin, type UserConfigExport } from 'vite';

export type WebApp = 'city' | 'admin';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** Dev server and preview ports: the defaults of WEB_ORIGINS in .env.example. */
export const webAppPorts: Record<WebApp, number> = { city: 5173, admin: 5174 };
/** Where the gateway's /api routes hang off when nothing else is configured: scripts' local gateway. */
export const LOCAL_API_BASE_URL = 'http://127.0.0.1:54321';

export interface WebBuildSettings {
  apiBaseUrl: string;
  supabaseUrl: string | undefined;
  /** Where the browser PUTs and GETs files (presigned S3 URLs), when not under the Supabase URL. */
  storageUrl?: string;
  /** What /api is on the canary gateway (scripts/canary.sh), e.g. https://<ref>.supabase.co/functions/v1/api-canary:
      users the `api.canary` flag selects call it instead of <apiBaseUrl>/api. */
  apiCanaryUrl?: string;
}

// A VITE_ variable is compiled into a public bundle; names like these mean someone is about to ship a secret.
const SECRET_SOUNDING_NAME = /SECRET|PASSWORD|PRIVATE|SERVICE_ROLE|TOKEN/i;

/** Validates the VITE_* settings; throws a sentence an operator can act on. */
export function readWebBuildSettings(env: Record<string, string>, cloudBuild: boolean): WebBuildSettings {
  for (const name of Object.keys(env)) {
    if (SECRET_SOUNDING_NAME.test(name)) {
      throw new Error(`${name} looks like a secret, and every VITE_ variable ends up in the public bundle: remove it`);
    }
  }
  const raw = env.VITE_API_BASE_URL?.trim();
  if (!raw && cloudBuild) {
    throw new Error("VITE_API_BASE_URL is not set: set it per environment to the URL the gateway's /api routes hang off");
  }
  const apiBaseUrl = httpUrl('VITE_API_BASE_URL', raw || LOCAL_API_BASE_URL, cloudBuild);
  const supabaseRaw = env.VITE_SUPABASE_URL?.trim();
  const supabaseUrl = supabaseRaw ? httpUrl('VITE_SUPABASE_URL', supabaseRaw, cloudBuild) : undefined;
  if (supabaseUrl && !env.VITE_SUPABASE_ANON_KEY?.trim()) {
    throw new Error("VITE_SUPABASE_URL is set but VITE_SUPABASE_ANON_KEY is not: copy the project's anon (publishable) key");
  }
  const storageRaw = env.VITE_STORAGE_URL?.trim();
  const storageUrl = storageRaw ? httpUrl('VITE_STORAGE_URL', storageRaw, cloudBuild) : undefined;
  const canaryRaw = env.VITE_API_CANARY_URL?.trim();
  const apiCanaryUrl = canaryRaw ? httpUrl('VITE_API_CANARY_URL', canaryRaw, cloudBuild) : undefined;
  return { apiBaseUrl, supabaseUrl, ...(storageUrl ? { storageUrl } : {}), ...(apiCanaryUrl ? { apiCanaryUrl } : {}) };
}

function httpUrl(name: string, value: string, requireHttps: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}=${value} is not a URL (expected e.g. https://<ref>.supabase.co/functions/v1)`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && !requireHttps)) {
    throw new Error(`${name}=${value} must use https${requireHttps ? ' in a cloud build' : ' or http'}`);
  }
  return url.toString().replace(/\/+$/, '');
}

/** The app's Content-Security-Policy for this environment: scripts and styles from the site only, network
    access to the site, the gateway, Supabase Auth and the file storage endpoint only. Delivered as a <meta> in index.html, on top of
    the environment-independent header policy in vercel.json (the browser enforces both). */
export function contentSecurityPolicy(settings: WebBuildSettings): string {
  const connect = new Set(["'self'", new URL(settings.apiBaseUrl).origin]);
  if (settings.supabaseUrl) connect.add(new URL(settings.supabaseUrl).origin);
  if (settings.storageUrl) connect.add(new URL(settings.storageUrl).origin);
  if (settings.apiCanaryUrl) connect.add(new URL(settings.apiCanaryUrl).origin);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${[...connect].join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
}

function contentSecurityPolicyMeta(settings: WebBuildSettings): Plugin {
  return {
    name: 'microdao-csp-meta',
    apply: 'build', // the dev server injects inline scripts (React refresh) that this policy would block
    transformIndexHtml: {
      order: 'post',
      handler: () => [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy(settings) },
          injectTo: 'head-prepend',
        },
      ],
    },
  };
}

/** vercel.json's headers for every path, so `vite preview` answers like the deployed site. The header CSP
    (https://*.supabase.co only) and HSTS are left out: the preview talks to a local http gateway. */
function vercelHeadersForPreview(): Record<string, string> {
  const vercel = JSON.parse(readFileSync(new URL('../vercel.json', import.meta.url), 'utf8')) as {
    headers: { source: string; headers: { key: string; value: string }[] }[];
  };
  const everyPath = vercel.headers.find((rule) => rule.source === '/(.*)');
  const skip = new Set(['content-security-policy', 'strict-transport-security']);
  return Object.fromEntries((everyPath?.headers ?? []).filter((h) => !skip.has(h.key.toLowerCase())).map((h) => [h.key, h.value]));
}

export function webAppConfig(app: WebApp): UserConfigExport {
  return defineConfig(({ command, mode }) => {
    const env = loadEnv(mode, repoRoot, 'VITE_');
    const cloudBuild = command === 'build' && Boolean(process.env.VERCEL);
    const settings = readWebBuildSettings(env, cloudBuild);
    const port = webAppPorts[app];
    return {
      root: fileURLToPath(new URL(`./${app}`, import.meta.url)),
      envDir: repoRoot,
      envPrefix: 'VITE_',
      define: {
        'import.meta.env.VITE_API_BASE_URL': JSON.stringify(settings.apiBaseUrl),
        'import.meta.env.VITE_API_CANARY_URL': JSON.stringify(settings.apiCanaryUrl ?? ''),
      },
      plugins: [react(), contentSecurityPolicyMeta(settings)],
      build: { outDir: fileURLToPath(new URL(`./dist/${app}`, import.meta.url)), emptyOutDir: true, assetsDir: 'assets' },
      server: { host: '127.0.0.1', port, strictPort: true },
      preview: { host: '127.0.0.1', port, strictPort: true, headers: vercelHeadersForPreview() },
    };
  });
}
