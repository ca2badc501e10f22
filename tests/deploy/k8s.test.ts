// The Kubernetes manifests of deploy/k8s, checked without a cluster: each overlay rendered (tests/deploy/
// kustomize.ts; where kubectl is installed, compared with `kubectl kustomize`), every object validated against
// the Kubernetes 1.30 schemas (npm kubernetes-models), and the cross-references a cluster would only reveal at
// run time: selectors, PDBs, HPA targets, probe ports, mounted secret keys, and — the strongest — every worker's
// configuration as its pod would see it passing the platform's own config rules for that environment.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfig, SECRET_VARIABLES } from '../../functions/_shared/config.ts';
import { createNatsExporterMetrics, createRelayMetrics, Registry } from '../../functions/_shared/metrics.ts';
import { WORKER_IMAGES } from '../../workers/images.ts';
import { WORKER_VARIABLES } from '../../workers/lib/worker-config.ts';
import { renderKustomization, type Resource } from './kustomize.ts';

const root = path.resolve(import.meta.dirname, '../..');
const k8s = path.join(root, 'deploy/k8s');
const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** secrets.env is never committed: the tests make one with strong random values for every key of the example. */
function testSecrets(env: string): string {
  const example = readFileSync(path.join(k8s, 'overlays', env, 'secrets.env.example'), 'utf8');
  return example
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => `${line.slice(0, line.indexOf('='))}=${randomBytes(36).toString('base64url')}`)
    .join('\n');
}

function render(env: string): Resource[] {
  const secrets = testSecrets(env);
  return renderKustomization(path.join(k8s, 'overlays', env), {
    readFile: (file) => (file === path.join(k8s, 'overlays', env, 'secrets.env') ? secrets : readFileSync(file, 'utf8')),
  });
}

const byKind = <T = Resource>(resources: Resource[], kind: string) => resources.filter((r) => r.kind === kind) as unknown as T[];
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const decoded = (secret: Resource) =>
  Object.fromEntries(
    Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );

/** Lanes of the outbox: the `& 15` of outbox_events.lane in the relay's migration. */
function outboxLaneCount(): number {
  const migration = readFileSync(path.join(root, 'supabase/migrations/20261127000300_outbox_relay.sql'), 'utf8');
  const mask = /hashtext\(aggregate_type \|\| ':' \|\| aggregate_id\) & (\d+)\)/.exec(migration);
  if (!mask) throw new Error('the lane expression of outbox_events was not found in its migration');
  return Number(mask[1]) + 1;
}

describe('deploy/k8s', () => {
  it('has a Deployment in the base for every worker image, running microdao-<name> on the image port', () => {
    const base = renderKustomization(path.join(k8s, 'base'));
    const deployments = byKind<IDeployment>(base, 'Deployment');
    expect(deployments.map((d) => d.metadata!.name).sort()).toEqual(WORKER_IMAGES.map((i) => i.name).sort());
    for (const image of WORKER_IMAGES) {
      const container = deployments.find((d) => d.metadata!.name === image.name)!.spec!.template.spec!.containers[0]!;
      expect(container.image).toBe(`microdao-${image.name}`);
      expect(container.ports?.map((p) => p.containerPort)).toEqual([image.port.default]);
    }
  });

  it('keeps the relay within its lanes: replicas and the HPA ceiling never exceed the number of lanes', () => {
    const lanes = outboxLaneCount();
    expect(lanes).toBe(16);
    for (const env of ENVIRONMENTS) {
      const resources = render(env);
      const relay = byKind<IDeployment>(resources, 'Deployment').find((d) => d.metadata!.name === 'outbox-relay')!;
      expect(relay.spec!.replicas).toBeLessThanOrEqual(lanes);
      const hpa = byKind<IHorizontalPodAutoscaler>(resources, 'HorizontalPodAutoscaler').find(
        (h) => h.spec.scaleTargetRef.name === 'outbox-relay',
      );
      if (env === 'dev') expect(hpa).toBeUndefined();
      else {
        expect(hpa!.spec.maxReplicas).toBeLessThanOrEqual(lanes);
        expect(hpa!.spec.minReplicas).toBeGreaterThanOrEqual(2);
      }
    }
  });

  it('names in secrets.env.example exactly the keys the Deployments mount, and commits no secret in config.env', () => {
    for (const env of ENVIRONMENTS) {
      const mounted = new Set(
        byKind<IDeployment>(render(env), 'Deployment').flatMap((d) =>
          (d.spec!.template.spec!.volumes ?? []).flatMap((v) => (v.secret?.items ?? []).map((item) => item.key)),
        ),
      );
      const listed = testSecrets(env)
        .split('\n')
        .map((line) => line.slice(0, line.indexOf('=')));
      expect(listed.sort()).toEqual([...mounted].sort());
      const config = readFileSync(path.join(k8s, 'overlays', env, 'config.env'), 'utf8');
      for (const name of SECRET_VARIABLES) expect(config, `${env}/config.env holds ${name}`).not.toMatch(new RegExp(`^${name}=`, 'm'));
    }
    const ignored = spawnSync('git', ['check-ignore', 'deploy/k8s/overlays/prod/secrets.env'], { cwd: root });
    expect(ignored.status, 'secrets.env must be git-ignored').toBe(0);
  });

  it('names an adapter rule for every external metric an HPA reads, each a metric the platform defines', async () => {
    const rules = parse(readFileSync(path.join(k8s, 'prometheus-adapter/rules.yaml'), 'utf8')) as {
      externalRules: { seriesQuery: string; name: { as: string } }[];
    };
    const exposed = new Set(rules.externalRules.map((r) => r.name.as));
    const registry = new Registry();
    createRelayMetrics(async () => ({ backlogEvents: 0, oldestUnprocessedAgeSeconds: 0, deadLetterEvents: 0 }), registry);
    createNatsExporterMetrics(registry);
    const defined = new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
    const hpas = byKind<IHorizontalPodAutoscaler>(render('prod'), 'HorizontalPodAutoscaler');
    expect(hpas.length).toBeGreaterThan(0);
    for (const hpa of hpas) {
      for (const metric of hpa.spec.metrics ?? []) {
        expect(metric.type).toBe('External');
        expect(exposed).toContain(metric.external!.metric.name);
        expect(defined).toContain(metric.external!.metric.name);
      }
    }
    for (const rule of rules.externalRules) expect(rule.seriesQuery).toContain(rule.name.as);
  });

  for (const env of ENVIRONMENTS) {
    describe(`overlay ${env}`, () => {
      const resources = render(env);
      const deployments = byKind<IDeployment>(resources, 'Deployment');

      it('validates every object against the Kubernetes schemas, in the namespace microdao-<env>', () => {
        expect(resources.length).toBeGreaterThan(10);
        for (const resource of resources) {
          const Model = MODELS[`${resource.apiVersion}/${resource.kind}`];
          expect(Model, `no schema model for ${resource.apiVersion} ${resource.kind}`).toBeDefined();
          expect(() => new Model!(resource as never).validate(), `${resource.kind}/${resource.metadata.name}`).not.toThrow();
          expect(resource.metadata.namespace).toBe(`microdao-${env}`);
          expect(resource.metadata.labels?.['microdao.dev/environment']).toBe(env);
        }
      });

      it('pins every container image to the registry (no bare base name left), one per worker', () => {
        for (const deployment of deployments) {
          for (const container of deployment.spec!.template.spec!.containers) {
            expect(container.image).toMatch(
              new RegExp(`^[a-z0-9.-]+(:\\d+)?/(.+/)?microdao-${deployment.metadata!.name}(:[\\w.-]+|@sha256:[0-9a-f]{64})$`),
            );
          }
        }
      });

      it('matches selectors to pod labels, PDBs and Services to exactly one Deployment, HPAs and Ingress backends to what exists', () => {
        const podLabels = (d: IDeployment) => d.spec!.template.metadata!.labels;
        for (const deployment of deployments) expect(matches(deployment.spec!.selector.matchLabels, podLabels(deployment))).toBe(true);
        for (const pdb of byKind<PodDisruptionBudget>(resources, 'PodDisruptionBudget')) {
          expect(deployments.filter((d) => matches(pdb.spec!.selector!.matchLabels, podLabels(d))).length, pdb.metadata!.name).toBe(1);
        }
        const services = byKind<Service>(resources, 'Service');
        for (const service of services) {
          const targets = deployments.filter((d) => matches(service.spec!.selector, podLabels(d)));
          expect(targets.length, service.metadata!.name).toBe(1);
          const portNames = targets[0]!.spec!.template.spec!.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
          for (const port of service.spec!.ports ?? []) expect(portNames).toContain(port.targetPort);
        }
        for (const hpa of byKind<IHorizontalPodAutoscaler>(resources, 'HorizontalPodAutoscaler')) {
          expect(deployments.map((d) => d.metadata!.name)).toContain(hpa.spec.scaleTargetRef.name);
          expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas ?? 1);
        }
        for (const ingress of byKind<Ingress>(resources, 'Ingress')) {
          for (const rule of ingress.spec!.rules ?? []) {
            for (const p of rule.http!.paths) {
              const service = services.find((s) => s.metadata!.name === p.backend.service!.name);
              expect(service, p.backend.service!.name).toBeDefined();
              expect(service!.spec!.ports!.map((port) => port.name)).toContain(p.backend.service!.port!.name);
            }
            expect(ingress.spec!.tls?.flatMap((t) => t.hosts ?? [])).toContain(rule.host);
          }
        }
      });

      it('probes /healthz (liveness, startup) and /readyz (readiness) on a port the container declares, with requests and limits, as non-root', () => {
        for (const deployment of deployments) {
          const spec = deployment.spec!.template.spec!;
          expect(spec.securityContext?.runAsNonRoot).toBe(true);
          for (const container of spec.containers) {
            const ports = new Map((container.ports ?? []).map((p) => [p.name, p.containerPort]));
            const probes = { liveness: container.livenessProbe, readiness: container.readinessProbe, startup: container.startupProbe };
            for (const [kind, probe] of Object.entries(probes)) {
              expect(probe?.httpGet, `${deployment.metadata!.name} ${kind}`).toBeDefined();
              expect(ports.has(String(probe!.httpGet!.port)), `${deployment.metadata!.name} ${kind} port`).toBe(true);
              expect(probe!.httpGet!.path).toBe(kind === 'readiness' ? '/readyz' : '/healthz');
            }
            for (const resource of ['cpu', 'memory']) {
              expect(container.resources?.requests?.[resource], `${deployment.metadata!.name} requests.${resource}`).toBeDefined();
              expect(container.resources?.limits?.[resource], `${deployment.metadata!.name} limits.${resource}`).toBeDefined();
            }
            expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
          }
        }
      });

      it('gives each worker a configuration its own rules accept for the environment, secrets only as mounted files', () => {
        const configMaps = byKind(resources, 'ConfigMap');
        const secrets = byKind(resources, 'Secret');
        for (const image of WORKER_IMAGES) {
          const deployment = deployments.find((d) => d.metadata!.name === image.name)!;
          const spec = deployment.spec!.template.spec!;
          const container = spec.containers[0]!;
          const environment: Record<string, string> = {};
          for (const source of container.envFrom ?? []) {
            const configMap = configMaps.find((c) => c.metadata.name === source.configMapRef?.name);
            expect(configMap, `${image.name} reads ConfigMap ${source.configMapRef?.name}`).toBeDefined();
            Object.assign(environment, configMap!.data);
          }
          // the files the pod would see: each mounted Secret item at mountPath/path
          const files = new Map<string, string>();
          for (const mount of container.volumeMounts ?? []) {
            const volume = spec.volumes?.find((v) => v.name === mount.name);
            expect(volume, `${image.name} mounts ${mount.name}`).toBeDefined();
            if (!volume!.secret) continue;
            const secret = secrets.find((s) => s.metadata.name === volume!.secret!.secretName);
            expect(secret, `${image.name} mounts Secret ${volume!.secret!.secretName}`).toBeDefined();
            const values = decoded(secret!);
            for (const item of volume!.secret!.items ?? []) {
              expect(Object.keys(values), `${image.name} mounts key ${item.key}`).toContain(item.key);
              files.set(path.posix.join(mount.mountPath, item.path), values[item.key]!);
            }
          }
          for (const variable of container.env ?? []) {
            expect(variable.valueFrom, `${image.name} takes ${variable.name} from a file, not valueFrom`).toBeUndefined();
            expect(SECRET_VARIABLES as readonly string[], `${variable.name} holds a secret in plain env`).not.toContain(variable.name);
            if (variable.name.endsWith('_FILE'))
              expect([...files.keys()], `${variable.name} points at a mounted file`).toContain(variable.value);
            environment[variable.name] = variable.value!;
          }
          const result = parseConfig(environment, {
            uses: WORKER_VARIABLES[image.variables],
            readSecretFile: (file) => {
              if (!files.has(file)) throw new Error(`${file} is not mounted`);
              return files.get(file)!;
            },
          });
          expect(result.ok ? [] : result.problems, `${env} ${image.name}`).toEqual([]);
          if (!result.ok) continue;
          expect(result.config.APP_ENV).toBe(env);
          expect(result.config[image.port.variable]).toBe(container.ports![0]!.containerPort);
          const annotations = deployment.spec!.template.metadata!.annotations!;
          expect(annotations['prometheus.io/port']).toBe(String(image.port.default));
        }
      });
    });
  }

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!kubectl)('renders every overlay exactly as kubectl kustomize does (where kubectl is installed)', async () => {
    const { mkdtempSync, cpSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const copy = mkdtempSync(path.join(tmpdir(), 'mdao-k8s-'));
    try {
      cpSync(k8s, copy, { recursive: true });
      for (const env of ENVIRONMENTS) {
        const secrets = testSecrets(env);
        writeFileSync(path.join(copy, 'overlays', env, 'secrets.env'), secrets);
        const theirs = parseAllDocuments(
          execFileSync('kubectl', ['kustomize', path.join(copy, 'overlays', env)], { encoding: 'utf8' }),
        ).map((d) => d.toJS() as Resource);
        const mine = renderKustomization(path.join(copy, 'overlays', env));
        const key = (r: Resource) => `${r.kind}/${r.metadata.name}`;
        expect(mine.map(key).sort(), env).toEqual(theirs.map(key).sort());
        for (const object of theirs)
          expect(isDeepStrictEqual(JSON.parse(JSON.stringify(mine.find((m) => key(m) === key(object)))), object), key(object)).toBe(true);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
