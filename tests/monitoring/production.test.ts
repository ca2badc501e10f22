// Production observability, as far as it runs on one machine: the Supabase scrape targets written from an
// environment's settings; the Kubernetes pod scrape rules of monitoring/kubernetes-pods.yml run by a real
// Prometheus on the pods deploy/k8s renders for prod (file_sd standing in for Kubernetes discovery, which
// Debian's build lacks), with the API dashboard's queries answered for environment=prod from the edge-metrics
// receiver; and the log shipper's fields checked against the log lines the workers really write.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createLogger } from '../../functions/_shared/log.ts';
import { ENVIRONMENT_ATTRIBUTE, OTLP_DELTA } from '../../functions/_shared/otlp-metrics.ts';
import { startEdgeMetricsServer, type EdgeMetricsServer } from '../../workers/edge-metrics/server.ts';
import { ephemeralPort } from '../../scripts/local-stack/state.ts';
import { renderKustomization } from '../deploy/kustomize.ts';
import { loadDashboards, panelQueries, withGrafanaVariables } from './definitions.ts';
import { repoRoot, startAndWait, tempDir, type Started } from './stack.ts';

const TOKEN = 'production-observability-test-token-0123456789';

function runScript(args: string[]) {
  const result = spawnSync('bash', ['scripts/monitoring-targets.sh', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts/monitoring-targets.sh', () => {
  const dir = tempDir('targets');
  afterAll(() => dir.remove());
  const envFile = (ref: string) => {
    const file = path.join(dir.path, `env-${ref.length}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, `APP_ENV=staging\nSUPABASE_PROJECT_REF=${ref}\n`);
    return file;
  };

  it('writes the Supabase Metrics API target of the environment from its settings file', () => {
    const out = path.join(dir.path, 'out');
    const result = runScript(['--env', 'staging', '--env-file', envFile('abcdefghijklmnopqrst'), '--out-dir', out]);
    expect(result.status, result.stderr).toBe(0);
    const groups = parse(readFileSync(path.join(out, 'supabase-staging.yml'), 'utf8')) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    expect(groups).toEqual([
      { targets: ['abcdefghijklmnopqrst.supabase.co:443'], labels: { supabase_project_ref: 'abcdefghijklmnopqrst' } },
    ]);
    // the file the supabase-staging job of monitoring/prometheus.yml reads
    const job = (
      parse(readFileSync(path.join(repoRoot, 'monitoring/prometheus.yml'), 'utf8')) as {
        scrape_configs: { job_name: string; file_sd_configs?: { files: string[] }[] }[];
      }
    ).scrape_configs.find((j) => j.job_name === 'supabase-staging');
    expect(job?.file_sd_configs?.[0]?.files).toEqual(['targets/supabase-staging.yml']);
  });

  it('prints the file under --dry-run and writes nothing', () => {
    const out = path.join(dir.path, 'dry');
    const result = runScript(['--env', 'prod', '--env-file', envFile('zyxwvutsrqponmlkjihg'), '--out-dir', out, '--dry-run']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("- targets: ['zyxwvutsrqponmlkjihg.supabase.co:443']");
    expect(result.stdout).toContain(`would write ${out}/supabase-prod.yml`);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a missing or malformed project ref and wrong usage with a sentence', () => {
    const bad = runScript(['--env', 'dev', '--env-file', envFile('Not-A-Ref'), '--out-dir', dir.path]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/not a project ref \(20 lowercase letters/);
    const none = runScript(['--env', 'dev', '--env-file', envFile(''), '--out-dir', dir.path]);
    expect(none.stderr).toMatch(/SUPABASE_PROJECT_REF is not set/);
    expect(runScript(['--env', 'qa', '--env-file', 'x']).status).toBe(2);
    expect(runScript(['--env', 'dev']).stderr).toMatch(/--env-file is required/);
    expect(runScript(['--help']).stdout).toMatch(/--dry-run/);
  });
});

describe('the Kubernetes pod scrape rules on the prod overlay, through a real Prometheus', () => {
  const dir = tempDir('k8s-scrape');
  let receiver: EdgeMetricsServer;
  let prometheus: Started & { url: string };

  beforeAll(async () => {
    receiver = await startEdgeMetricsServer({ port: 0, token: TOKEN, environment: 'prod' });
    // the pods of the prod overlay as Kubernetes discovery would describe them; all on this machine
    const secrets = 'DB_PASSWORD=x\nNATS_PASSWORD=x\nMETRICS_PUSH_TOKEN=x\n';
    const prod = path.join(repoRoot, 'deploy/k8s/overlays/prod');
    const pods = renderKustomization(prod, {
      readFile: (f) => (f === path.join(prod, 'secrets.env') ? secrets : readFileSync(f, 'utf8')),
    }).filter((r) => r.kind === 'Deployment');
    const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_');
    const groups = pods.map((deployment) => {
      const template = (
        deployment.spec as { template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } }
      ).template;
      const annotations = { ...template.metadata.annotations };
      // the receiver of this test stands in for the edge-metrics pod; the others answer nowhere (down is fine)
      if (deployment.metadata.name === 'edge-metrics') annotations['prometheus.io/port'] = String(receiver.port);
      return {
        targets: [`${deployment.metadata.name}.discovered:1`],
        labels: {
          __meta_kubernetes_namespace: deployment.metadata.namespace,
          __meta_kubernetes_pod_name: `${deployment.metadata.name}-7d9f8-abcde`,
          __meta_kubernetes_pod_ip: '127.0.0.1',
          __meta_kubernetes_pod_phase: 'Running',
          ...Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${sanitize(k)}`, v])),
          ...Object.fromEntries(
            Object.entries(template.metadata.labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${sanitize(k)}`, v]),
          ),
        },
      };
    });
    writeFileSync(path.join(dir.path, 'pods.yml'), stringify(groups));
    const agent = parse(readFileSync(path.join(repoRoot, 'monitoring/kubernetes-pods.yml'), 'utf8')) as {
      scrape_configs: Record<string, unknown>[];
    };
    const central = parse(readFileSync(path.join(repoRoot, 'monitoring/prometheus.yml'), 'utf8')) as { rule_files: string[] };
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: central.rule_files.map((file) => path.join(repoRoot, 'monitoring', file)),
      scrape_configs: agent.scrape_configs.map(({ kubernetes_sd_configs: _, ...job }) => ({
        ...job,
        file_sd_configs: [{ files: [path.join(dir.path, 'pods.yml')] }],
      })),
    };
    writeFileSync(path.join(dir.path, 'prometheus.yml'), stringify(config));
    const port = await ephemeralPort();
    const url = `http://127.0.0.1:${port}`;
    const started = await startAndWait(
      'prometheus',
      'prometheus',
      [
        `--config.file=${path.join(dir.path, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir.path, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { logDir: dir.path, ready: `${url}/-/ready` },
    );
    prometheus = { ...started, url };
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await receiver?.close();
    dir.remove();
  });

  async function query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(`${prometheus.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  }

  it('labels every worker pod with its job, environment=prod and namespace, and scrapes its annotated port and path', async () => {
    type Targets = { data: { activeTargets: { labels: Record<string, string>; scrapeUrl: string }[] } };
    const jobs = ['agents', 'consumers', 'gateway', 'nats-jetstream', 'outbox-relay', 'wallet'];
    let data: Targets['data'] = { activeTargets: [] };
    // file_sd is read shortly after start
    for (const deadline = Date.now() + 15_000; data.activeTargets.length < jobs.length && Date.now() < deadline;) {
      data = ((await (await fetch(`${prometheus.url}/api/v1/targets`)).json()) as Targets).data;
      if (data.activeTargets.length < jobs.length) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const byJob = Object.fromEntries(data.activeTargets.map((t) => [t.labels.job, t]));
    expect(Object.keys(byJob).sort()).toEqual(jobs);
    for (const target of data.activeTargets) {
      expect(target.labels).toMatchObject({ environment: 'prod', namespace: 'microdao-prod' });
      expect(target.labels.instance).toMatch(/-7d9f8-abcde$/);
      expect(target.scrapeUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    }
    expect(byJob['outbox-relay']!.scrapeUrl).toBe('http://127.0.0.1:9464/metrics');
    expect(byJob['nats-jetstream']!.scrapeUrl).toBe('http://127.0.0.1:7777/metrics');
  });

  it("answers the API dashboard's queries, unchanged, for environment=prod from the pushed gateway metrics", async () => {
    const push = (count: number, status: string) =>
      fetch(`${receiver.url}/v1/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceMetrics: [
            {
              resource: { attributes: [{ key: ENVIRONMENT_ATTRIBUTE, value: { stringValue: 'prod' } }] },
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 'microdao_http_responses_total',
                      sum: {
                        aggregationTemporality: OTLP_DELTA,
                        isMonotonic: true,
                        dataPoints: [
                          {
                            attributes: [
                              { key: 'method', value: { stringValue: 'GET' } },
                              { key: 'route', value: { stringValue: '/api/health' } },
                              { key: 'status_class', value: { stringValue: status } },
                            ],
                            asDouble: count,
                          },
                        ],
                      },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      });
    const deadline = Date.now() + 30_000;
    let answered: string[] = [];
    const panels = panelQueries(loadDashboards().filter((d) => d.uid === 'microdao-api')).filter((q) =>
      ['Requests per second', 'Gateway instances up', 'Responses by status class', '5xx ratio'].includes(q.panel),
    );
    expect(panels.length).toBe(4);
    while (Date.now() < deadline) {
      expect((await push(10, '2xx')).status).toBe(200);
      expect((await push(1, '5xx')).status).toBe(200);
      answered = [];
      for (const panel of panels) {
        const result = await query(withGrafanaVariables(panel.expr, { environment: 'prod', rateInterval: '10s' }));
        if (result.length > 0 && Number(result[0]!.value[1]) > 0) answered.push(panel.panel);
      }
      if (answered.length === panels.length) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(answered.sort()).toEqual(panels.map((p) => p.panel).sort());
    // and nothing answers for an environment that has not pushed
    expect(
      await query(
        withGrafanaVariables(panels.find((p) => p.panel === 'Requests per second')!.expr, { environment: 'staging', rateInterval: '10s' }),
      ),
    ).toEqual([]);
  }, 60_000);
});

describe('monitoring/logs/vector.yaml (workers → Loki)', () => {
  const vector = parse(readFileSync(path.join(repoRoot, 'monitoring/logs/vector.yaml'), 'utf8')) as {
    sources: Record<string, { type: string; extra_label_selector: string }>;
    transforms: Record<string, { type: string; inputs: string[]; source: string }>;
    sinks: Record<string, { type: string; inputs: string[]; labels: Record<string, string>; structured_metadata: Record<string, string> }>;
  };

  it('wires Kubernetes logs through the field mapping into a Loki sink', () => {
    const [sourceName, source] = Object.entries(vector.sources)[0]!;
    const [transformName, transform] = Object.entries(vector.transforms)[0]!;
    const sink = vector.sinks.loki!;
    expect(source.type).toBe('kubernetes_logs');
    expect(transform).toMatchObject({ type: 'remap', inputs: [sourceName] });
    expect(sink).toMatchObject({ type: 'loki', inputs: [transformName] });
  });

  it('selects the pods deploy/k8s labels and reads the environment from the label the overlays set', () => {
    const selector = vector.sources.microdao_workers!.extra_label_selector.split('=');
    const prod = path.join(repoRoot, 'deploy/k8s/overlays/prod');
    const deployments = renderKustomization(prod, {
      readFile: (f) =>
        f === path.join(prod, 'secrets.env') ? 'DB_PASSWORD=x\nNATS_PASSWORD=x\nMETRICS_PUSH_TOKEN=x\n' : readFileSync(f, 'utf8'),
    }).filter((r) => r.kind === 'Deployment');
    for (const deployment of deployments) {
      const labels = (deployment.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
      expect(labels[selector[0]!]).toBe(selector[1]);
      expect(labels['microdao.dev/environment']).toBe('prod');
    }
    expect(vector.transforms.microdao_fields!.source).toContain('.kubernetes.pod_labels."microdao.dev/environment"');
  });

  it('carries correlation_id and request_id as structured metadata, never as labels, taken from fields the workers write', () => {
    const sink = vector.sinks.loki!;
    expect(Object.keys(sink.labels).sort()).toEqual(['environment', 'level', 'namespace', 'service']);
    expect(Object.keys(sink.structured_metadata).sort()).toEqual(['correlation_id', 'request_id']);
    // a real worker log line: the fields the mapping reads are there, under those names
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', base: { service: 'consumer-telemetry' }, sink: (line) => lines.push(line) });
    logger.child({ correlation_id: 'req-123', request_id: 'req-123' }).warn('handler failed', { event_type: 'message.created' });
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    for (const field of ['level', 'service', 'correlation_id', 'request_id']) {
      expect(record, field).toHaveProperty(field);
      expect(vector.transforms.microdao_fields!.source).toContain(`parsed.${field}`);
    }
  });
});
