// The apps `npm run dev` starts, in this order, once their entry file exists (until then they are skipped
// with a note). Adding an app is one entry here. Every app gets the resolved settings (the variable names
// of .env.example) plus what its entry adds.
import path from 'node:path';
import type { Config } from '../../functions/_shared/config.ts';
import { LOCAL_S3_PORT, localStorageSettings } from '../storage/local-settings.ts';
import { LOCAL_CHAIN_PORT, localChainRpcUrl } from '../wallet/local-chain-settings.ts';

export interface AppContext {
  root: string;
  config: Config;
  /** A port chosen for this app (stable across restarts), for apps that declare `port`. */
  port: number;
}

export interface AppDefinition {
  name: string;
  /** The file whose existence means the app has been written. */
  entry: string;
  /** What a person reads when the app is skipped or starts. */
  description: string;
  command: (ctx: AppContext) => { program: string; args: string[] };
  /** Extra variables for this app only. */
  env?: (ctx: AppContext) => Record<string, string>;
  /** Apps that listen on a port of their own choosing; the launcher picks a free one, preferring this. */
  preferredPort?: number;
  /** Apps that listen on a port the settings fix: the launcher checks it is free and names the variable if not. */
  settingsPort?: (ctx: AppContext) => { variable: string; host: string; port: number };
  /** False for apps that never touch the database: they start while the schema is migrated. */
  needsSchema?: boolean;
  /** A URL that answers 200 once the app is up; without it, "running" is enough. */
  readyUrl?: (ctx: AppContext) => string;
  readyTimeoutMs?: number;
  /** What to print for it once it is up. */
  urls?: (ctx: AppContext) => { label: string; url: string }[];
  /** Add the app's own origin to WEB_ORIGINS (the gateway's CORS list). */
  isWebOrigin?: boolean;
}

const bin = (root: string, name: string) => path.join(root, 'node_modules', '.bin', name);
/** The gateway under Deno, as `npm run dev` runs it; tests start it the same way (tests/harness/deno-gateway.ts). */
export const denoGatewayCommand = (root: string) => ({
  program: bin(root, 'deno'),
  args: ['run', '--allow-net', '--allow-env', '--allow-read', '--allow-sys', 'functions/api/serve-local.ts'],
});
const nodeScript = (entry: string) => () => ({ program: process.execPath, args: ['--import', 'tsx', entry] });
/** A web app of web/ (one vite.config.ts per app, see web/vite.shared.config.ts) on its dev server. */
const viteApp = (name: string, dir: string, label: string, preferredPort: number): AppDefinition => ({
  name,
  entry: `${dir}/vite.config.ts`,
  description: `${label} (Vite dev server)`,
  command: (ctx) => ({
    program: bin(ctx.root, 'vite'),
    args: [
      '--config',
      `${dir}/vite.config.ts`,
      '--host',
      '127.0.0.1',
      '--port',
      String(ctx.port),
      '--strictPort',
      '--clearScreen',
      'false',
    ],
  }),
  // where the gateway's /api routes hang off, for the browser
  env: (ctx) => ({ VITE_API_BASE_URL: `http://${ctx.config.API_HOST}:${ctx.config.API_PORT}` }),
  preferredPort,
  needsSchema: false,
  readyUrl: (ctx) => `http://127.0.0.1:${ctx.port}/`,
  readyTimeoutMs: 60_000,
  urls: (ctx) => [{ label, url: `http://127.0.0.1:${ctx.port}/` }],
  isWebOrigin: true,
});

export const APPS: AppDefinition[] = [
  {
    name: 'storage',
    entry: 'scripts/storage/local-s3.ts',
    description: 'the local S3 server (s3rver, data under the state folder)',
    command: nodeScript('scripts/storage/local-s3.ts'),
    needsSchema: false,
    settingsPort: () => ({ variable: 'STORAGE_S3_ENDPOINT', host: '127.0.0.1', port: LOCAL_S3_PORT }),
    urls: () => [{ label: 'S3 (s3rver)', url: localStorageSettings().STORAGE_S3_ENDPOINT }],
  },
  {
    name: 'api',
    entry: 'functions/api/serve-local.ts',
    description: 'the API gateway on Deno',
    command: (ctx) => denoGatewayCommand(ctx.root),
    // no storage named in the settings: the local s3rver above
    env: (ctx) => (ctx.config.STORAGE_BUCKET ? {} : localStorageSettings()),
    settingsPort: (ctx) => ({ variable: 'API_PORT', host: ctx.config.API_HOST, port: ctx.config.API_PORT }),
    readyUrl: (ctx) => `http://${ctx.config.API_HOST}:${ctx.config.API_PORT}/api/health`,
    // the first run downloads the npm packages into Deno's cache
    readyTimeoutMs: 180_000,
    urls: (ctx) => [{ label: 'API', url: `http://${ctx.config.API_HOST}:${ctx.config.API_PORT}/api` }],
  },
  {
    name: 'relay',
    entry: 'workers/outbox-relay/main.ts',
    description: 'the outbox relay',
    command: nodeScript('workers/outbox-relay/main.ts'),
    env: (ctx) => ({ METRICS_PORT: String(ctx.config.METRICS_PORT) }),
  },
  {
    name: 'telemetry',
    entry: 'workers/consumers/telemetry/main.ts',
    description: 'the telemetry consumer',
    command: nodeScript('workers/consumers/telemetry/main.ts'),
    // one METRICS_PORT per worker, so two workers on one machine do not collide
    env: (ctx) => ({ METRICS_PORT: String(ctx.config.METRICS_PORT + 1) }),
  },
  {
    name: 'agents',
    entry: 'workers/agents/main.ts',
    description: 'the agent orchestrator (runs agents through the gateway)',
    command: nodeScript('workers/agents/main.ts'),
    env: (ctx) => ({
      METRICS_PORT: String(ctx.config.METRICS_PORT + 5),
      AGENT_GATEWAY_URL: `http://${ctx.config.API_HOST}:${ctx.config.API_PORT}`,
    }),
  },
  {
    name: 'consumer-embassy',
    entry: 'workers/consumers/embassy/main.ts',
    description: 'the Embassy consumer (partner webhooks → RWA inventory)',
    command: nodeScript('workers/consumers/embassy/main.ts'),
    env: (ctx) => ({ METRICS_PORT: String(ctx.config.METRICS_PORT + 3) }),
  },
  {
    name: 'consumer-gift-fabric',
    entry: 'workers/consumers/gift-fabric/main.ts',
    description: 'the Gift Fabric consumer (gifts → the credit ledger)',
    command: nodeScript('workers/consumers/gift-fabric/main.ts'),
    env: (ctx) => ({ METRICS_PORT: String(ctx.config.METRICS_PORT + 8) }),
  },
  {
    name: 'nats-exporter',
    entry: 'workers/nats-exporter/main.ts',
    description: 'JetStream metrics from the NATS monitoring port',
    command: nodeScript('workers/nats-exporter/main.ts'),
    needsSchema: false,
    settingsPort: (ctx) => ({ variable: 'NATS_EXPORTER_PORT', host: ctx.config.METRICS_HOST, port: ctx.config.NATS_EXPORTER_PORT }),
    readyUrl: (ctx) => `http://${ctx.config.METRICS_HOST}:${ctx.config.NATS_EXPORTER_PORT}/metrics`,
    urls: (ctx) => [{ label: 'NATS metrics', url: `http://${ctx.config.METRICS_HOST}:${ctx.config.NATS_EXPORTER_PORT}/metrics` }],
  },
  {
    name: 'governance-scheduler',
    entry: 'workers/governance-scheduler/main.ts',
    description: 'the governance scheduler (closes and executes proposals)',
    command: nodeScript('workers/governance-scheduler/main.ts'),
    env: (ctx) => ({ METRICS_PORT: String(ctx.config.METRICS_PORT + 6) }),
  },
  {
    name: 'chain',
    entry: 'scripts/wallet/local-chain.ts',
    description: 'the local EVM chain (anvil) with the RINGK token, deployed once per chain',
    command: nodeScript('scripts/wallet/local-chain.ts'),
    settingsPort: () => ({ variable: 'LOCAL_CHAIN_PORT', host: '127.0.0.1', port: LOCAL_CHAIN_PORT }),
    // no URL printed: the JSON-RPC endpoint answers POST only (local-chain.ts logs it with the token's address)
  },
  {
    name: 'wallet',
    entry: 'workers/wallet/main.ts',
    description: 'the wallet worker (sends approved payouts on the chain, confirms them)',
    command: nodeScript('workers/wallet/main.ts'),
    // CHAIN_RPC_URL from .env wins (a testnet); else the local chain above, which it waits for
    env: (ctx) => ({
      METRICS_PORT: String(ctx.config.METRICS_PORT + 7),
      CHAIN_RPC_URL: ctx.config.CHAIN_RPC_URL ?? localChainRpcUrl(),
    }),
  },
  viteApp('web-city', 'web/city', 'city web app', 5173),
  viteApp('web-admin', 'web/admin', 'admin web app', 5174),
];
