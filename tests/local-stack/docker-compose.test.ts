// docker-compose.yml cannot run here (no Docker engine): it is checked against the compose-spec JSON schema
// (the copy the `dclint` npm package ships) and for what the platform needs from it.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { readEnvFile } from '../../functions/_shared/env-file.ts';
import { Ajv } from 'ajv';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { APPS } from '../../scripts/local-stack/apps.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: { path: string; required?: boolean }[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as ComposeFile;
const envExampleNames = new Set(Object.keys(readEnvFile(path.join(ROOT, '.env.example'))));
/** Services built from this repository: they run the platform's own code and read its settings. */
const appServices = Object.entries(compose.services).filter(([, service]) => service.build);

function composeSchemaValidator() {
  const schema = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8')) as {
    $schema: string;
  };
  const ajv = new Ajv({ allErrors: true, strict: false });
  // the schema names draft-07 by its https URL; Ajv knows the same meta-schema by the http one
  ajv.addMetaSchema({ ...draft07, $id: schema.$schema });
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  it('is valid against the compose-spec JSON schema', () => {
    const validate = composeSchemaValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // the same validator refuses what Docker Compose would refuse
    const broken = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    broken.services.api!.helthcheck = broken.services.api!.healthcheck;
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.[0]?.params).toEqual({ additionalProperty: 'helthcheck' });
  });

  it('has no error-level findings from dclint (the compose linter that ships the schema)', async () => {
    const lint = await promisify(execFile)(path.join(ROOT, 'node_modules/.bin/dclint'), [COMPOSE_FILE], { cwd: ROOT }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => error,
    );
    expect(lint.code, lint.stdout).toBe(0);
  });

  it('names every service of the platform', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgres', 'nats', 'redis', 'minio', 'api', 'worker', 'web']));
  });

  it('gives every long-running service a healthcheck', () => {
    const oneShot = Object.entries(compose.services).filter(([, s]) => s.restart === 'no');
    expect(oneShot.map(([name]) => name)).toEqual(['migrate']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.restart === 'no') continue;
      expect(service.healthcheck?.test.length, `${name} has no healthcheck`).toBeGreaterThan(1);
    }
  });

  it('keeps the data of postgres, nats, redis and minio in named volumes', () => {
    const dataPaths: Record<string, string> = {
      postgres: '/var/lib/postgresql/data',
      nats: '/data',
      redis: '/data',
      minio: '/data',
    };
    for (const [name, target] of Object.entries(dataPaths)) {
      const mount = compose.services[name]?.volumes?.find((volume) => volume.split(':')[1] === target);
      expect(mount, `${name} mounts nothing at ${target}`).toBeDefined();
      const source = mount!.split(':')[0]!;
      expect(source, `${name} stores ${target} in a bind mount`).toMatch(/^[a-z][a-z0-9_-]*$/);
      expect(Object.keys(compose.volumes)).toContain(source);
    }
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(path.join(ROOT, source)), `${name} mounts missing ${source}`).toBe(true);
        else expect(Object.keys(compose.volumes), `${name} uses undeclared volume ${source}`).toContain(source);
      }
    }
  });

  it('gives NATS JetStream and monitoring through a config file in the repo', () => {
    const config = compose.services.nats?.volumes?.find((volume) => volume.includes('nats.conf'))?.split(':')[0];
    expect(config).toBeDefined();
    const text = readFileSync(path.join(ROOT, config!), 'utf8');
    expect(text).toMatch(/^jetstream \{\s*store_dir: "\/data"/m);
    expect(text).toMatch(/^http: "0\.0\.0\.0:8222"/m);
    expect(compose.services.nats?.command).toEqual(['-c', '/etc/nats/nats.conf']);
  });

  it('opens no NATS WebSocket listener: nothing uses one, and it would take clients without credentials', () => {
    const config = compose.services.nats?.volumes?.find((volume) => volume.includes('nats.conf'))?.split(':')[0];
    const text = readFileSync(path.join(ROOT, config!), 'utf8');
    expect(text).not.toMatch(/^\s*websocket\s*\{/m);
    const ports = (compose.services.nats as { ports?: string[] }).ports ?? [];
    expect(ports.map((port) => port.split(':').at(-1))).toEqual(['4222', '8222']);
    for (const [name, service] of appServices) expect(Object.keys(service.environment ?? {}), name).not.toContain('NATS_WS_URL');
  });

  it('sets only variables of .env.example on the apps, after reading .env.example and the optional .env', () => {
    expect(appServices.map(([name]) => name)).toEqual(expect.arrayContaining(['api', 'worker', 'web', 'migrate']));
    for (const [name, service] of appServices) {
      for (const variable of Object.keys(service.environment ?? {})) {
        // VITE_* are the web build's public settings (web/vite.shared.config.ts), not server variables
        if (variable.startsWith('VITE_')) continue;
        expect(envExampleNames.has(variable), `${name} sets ${variable}, which .env.example does not define`).toBe(true);
      }
      if (!name.startsWith('web')) {
        expect(service.env_file, `${name} does not read the settings files`).toEqual([
          { path: '.env.example' },
          { path: '.env', required: false },
        ]);
      }
    }
  });

  it('builds from Dockerfiles that exist and runs the same entry files as npm run dev', () => {
    for (const [name, service] of appServices) {
      expect(existsSync(path.join(ROOT, service.build!.context, service.build!.dockerfile)), `${name}'s Dockerfile`).toBe(true);
    }
    const entryOf = (app: string) => APPS.find((definition) => definition.name === app)!.entry;
    const commands: Record<string, string> = { api: 'api', worker: 'relay', web: 'web-city', 'web-admin': 'web-admin' };
    for (const [service, app] of Object.entries(commands)) {
      const command = compose.services[service]?.command ?? [];
      expect(command, `${service} does not run ${entryOf(app)}`).toContain(entryOf(app));
      expect(existsSync(path.join(ROOT, entryOf(app))), `${entryOf(app)} is missing`).toBe(true);
    }
  });

  it('publishes the backing services on the host-port variables npm run dev sets when it uses Docker', () => {
    const published: Record<string, string[]> = {
      postgres: ['POSTGRES_HOST_PORT'],
      nats: ['NATS_HOST_PORT', 'NATS_MONITOR_HOST_PORT'],
      redis: ['REDIS_HOST_PORT'],
    };
    const launcherSource = readFileSync(path.join(ROOT, 'scripts/local-stack/services/index.ts'), 'utf8');
    for (const [service, variables] of Object.entries(published)) {
      const ports = (compose.services[service] as { ports?: string[] }).ports ?? [];
      for (const variable of variables) {
        expect(
          ports.some((port) => port.startsWith(`127.0.0.1:\${${variable}:-`)),
          `${service} publishes \${${variable}}`,
        ).toBe(true);
        expect(launcherSource).toContain(`${variable}:`);
      }
    }
  });

  it('starts the apps only after the schema is migrated and their servers are healthy', () => {
    expect(compose.services.migrate?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const app of ['api', 'worker']) {
      expect(compose.services[app]?.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
      expect(compose.services[app]?.depends_on?.nats).toEqual({ condition: 'service_healthy' });
    }
  });
});
