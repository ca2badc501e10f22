// Fast checks of monitoring/ that need no server: dashboards and rules refer only to metrics the code
// defines, every alert is unit-tested and tells a person what to do. promtool's own checks run in
// monitoring/check.sh; the live Prometheus check is live-stack.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { gatewayMetricShapes } from '../../functions/_shared/otlp-metrics.ts';
import {
  definedMetricNames,
  loadDashboards,
  loadRules,
  monitoringDir,
  panelQueries,
  platformMetricsIn,
  platformRegistry,
} from './definitions.ts';

describe('monitoring definitions', () => {
  it('has the API, Outbox & NATS, Database, Agents, Storage, Embassy, Governance and Wallet dashboards, each filtering by environment', () => {
    const dashboards = loadDashboards();
    expect(dashboards.map((d) => d.uid).sort()).toEqual([
      'microdao-agents',
      'microdao-api',
      'microdao-database',
      'microdao-embassy',
      'microdao-governance',
      'microdao-outbox-nats',
      'microdao-storage',
      'microdao-wallet',
    ]);
    for (const dashboard of dashboards) {
      expect(dashboard.variables, dashboard.file).toEqual(expect.arrayContaining(['datasource', 'environment']));
      const titles = dashboard.panels.map((p) => p.title);
      expect(new Set(titles).size, `${dashboard.file} repeats a panel title`).toBe(titles.length);
    }
  });

  it('gives every panel that is not a row at least one query, each filtered by environment', () => {
    for (const dashboard of loadDashboards()) {
      for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
        expect(panel.targets?.length, `${dashboard.file} › ${panel.title}`).toBeGreaterThan(0);
      }
    }
    for (const query of panelQueries()) expect(query.expr, `${query.dashboard} › ${query.panel}`).toContain('$environment');
  });

  it('refers only to platform metrics that functions/_shared/metrics.ts defines', async () => {
    const defined = await definedMetricNames();
    const used = [...panelQueries().map((q) => q.expr), ...loadRules().map((r) => r.expr)].flatMap(platformMetricsIn);
    expect(used.length).toBeGreaterThan(20);
    expect([...new Set(used)].filter((name) => !defined.has(name))).toEqual([]);
  });

  it('names metrics by Prometheus conventions: _total only on counters, base units, no id labels', async () => {
    const registry = platformRegistry();
    const labelsOf = new Map(
      registry
        .getMetricsAsArray()
        .map((m) => [(m as unknown as { name: string }).name, (m as unknown as { labelNames?: string[] }).labelNames ?? []]),
    );
    for (const { name, type: metricType } of await registry.getMetricsAsJSON()) {
      const type = String(metricType);
      const labelNames = labelsOf.get(name) ?? [];
      expect(name, name).toMatch(/^microdao_[a-z0-9_]+$/);
      expect(name.endsWith('_total'), `${name} is a ${type}`).toBe(type === 'counter');
      expect(name, name).not.toMatch(/_(ms|milliseconds|minutes|kb|mb)(_|$)/);
      for (const label of labelNames) expect(label, `${name}{${label}}`).not.toMatch(/(^|_)(id|user|message|request|email)(_|$)/);
    }
  });

  it('unit-tests every alert in a case where it fires, and labels and explains each', () => {
    // every unit-test file (alerts.test.yml, agents.test.yml, …): monitoring/check.sh runs them all
    const files = readdirSync(path.join(monitoringDir, 'tests')).filter((file) => file.endsWith('.test.yml'));
    const tests = files.flatMap(
      (file) =>
        (
          parse(readFileSync(path.join(monitoringDir, 'tests', file), 'utf8')) as {
            tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
          }
        ).tests,
    );
    const firing = new Set(tests.flatMap((t) => t.alert_rule_test ?? []).flatMap((t) => (t.exp_alerts.length > 0 ? [t.alertname] : [])));
    const alerts = loadRules().filter((r) => r.kind === 'alert');
    expect(alerts.length).toBeGreaterThanOrEqual(8);
    for (const alert of alerts) {
      expect(firing.has(alert.name), `${alert.name} has no firing case in monitoring/tests/*.test.yml`).toBe(true);
      expect(['page', 'ticket'], alert.name).toContain(alert.labels.severity);
      expect(alert.annotations.summary, alert.name).toMatch(/\{\{ \$labels\.environment \}\}/);
      expect(alert.annotations.description?.length ?? 0, alert.name).toBeGreaterThan(20);
    }
  });

  it('covers each signal the platform promises an alert for', () => {
    const alerts = loadRules().filter((r) => r.kind === 'alert');
    const watching = (pattern: RegExp) => alerts.filter((a) => pattern.test(a.expr)).map((a) => a.name);
    expect(watching(/5xx/)).not.toEqual([]);
    expect(watching(/request_duration_seconds:p99/)).not.toEqual([]);
    expect(watching(/microdao_outbox_oldest_unprocessed_age_seconds/)).not.toEqual([]);
    expect(watching(/microdao_outbox_backlog_events/)).not.toEqual([]);
    expect(watching(/microdao_outbox_dead_letter_events/)).not.toEqual([]);
    expect(watching(/microdao_nats_consumer_pending_messages/)).not.toEqual([]);
    expect(watching(/redeliver/)).not.toEqual([]);
    expect(watching(/pg_connections/)).not.toEqual([]);
    expect(watching(/pg_replication_lag/)).not.toEqual([]);
  });

  it('works unchanged on dev/staging/prod: every job a dashboard names is scraped locally and in Kubernetes, every gateway metric is pushed', async () => {
    const jobsUsed = new Set(panelQueries().flatMap((q) => [...q.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]!)));
    expect(jobsUsed.size).toBeGreaterThan(0);
    const local = (
      parse(readFileSync(path.join(monitoringDir, 'prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] }
    ).scrape_configs.map((job) => job.job_name);
    const baseDir = path.join(monitoringDir, '../deploy/k8s/base');
    const kubernetes = readdirSync(baseDir)
      .filter((file) => file !== 'kustomization.yaml')
      .flatMap((file) =>
        parseAllDocuments(readFileSync(path.join(baseDir, file), 'utf8')).map(
          (doc) => doc.toJS() as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } } | null,
        ),
      )
      .map((resource) => resource?.spec?.template?.metadata?.annotations?.['microdao.dev/scrape-job'])
      .filter(Boolean);
    for (const job of jobsUsed) {
      expect(local, `job ${job} locally`).toContain(job);
      expect(kubernetes, `job ${job} in deploy/k8s`).toContain(job);
    }
    // in the cloud the gateway's metrics exist only as the Edge Function pushes them (workers/edge-metrics)
    const pushed = new Set(
      gatewayMetricShapes().flatMap((s) => (s.kind === 'histogram' ? ['_bucket', '_sum', '_count'].map((x) => s.name + x) : [s.name])),
    );
    const gatewayUsed = [...panelQueries().map((q) => q.expr), ...loadRules().map((r) => r.expr)]
      .flatMap(platformMetricsIn)
      .filter((name) => name.startsWith('microdao_http_'));
    expect(gatewayUsed.length).toBeGreaterThan(5);
    expect([...new Set(gatewayUsed)].filter((name) => !pushed.has(name))).toEqual([]);
  });
});
