// Reads monitoring/ the way the checks need it: every Grafana panel query, every rule expression, and the
// names of the metrics the platform defines (functions/_shared/metrics.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { createAgentMetrics } from '../../workers/agents/agent-metrics.ts';
import { createWalletMetrics } from '../../workers/wallet/wallet-metrics.ts';
import path from 'node:path';
import { parse } from 'yaml';
import {
  createConsumerMetrics,
  createEmbassyMetrics,
  createGatewayMetrics,
  createGiftFabricMetrics,
  createGovernanceSchedulerMetrics,
  createNatsExporterMetrics,
  createRelayMetrics,
  Registry,
} from '../../functions/_shared/metrics.ts';
import { repoRoot } from './stack.ts';

export const monitoringDir = path.join(repoRoot, 'monitoring');
const dashboardsDir = path.join(monitoringDir, 'grafana/dashboards');
const rulesDir = path.join(monitoringDir, 'rules');

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

interface GrafanaPanel {
  title?: string;
  type?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: GrafanaPanel[];
}

export interface Dashboard {
  file: string;
  uid: string;
  title: string;
  variables: string[];
  panels: GrafanaPanel[];
}

export function loadDashboards(): Dashboard[] {
  return readdirSync(dashboardsDir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const json = JSON.parse(readFileSync(path.join(dashboardsDir, file), 'utf8')) as {
        uid: string;
        title: string;
        templating?: { list?: { name: string }[] };
        panels?: GrafanaPanel[];
      };
      // rows may nest their panels when collapsed
      const flat = (panels: GrafanaPanel[] = []): GrafanaPanel[] => panels.flatMap((p) => [p, ...flat(p.panels)]);
      return {
        file,
        uid: json.uid,
        title: json.title,
        variables: (json.templating?.list ?? []).map((v) => v.name),
        panels: flat(json.panels),
      };
    });
}

/** Every query of every panel of every dashboard: new panels are covered without touching the tests. */
export function panelQueries(dashboards = loadDashboards()): PanelQuery[] {
  return dashboards.flatMap((dashboard) =>
    dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        dashboard: dashboard.file,
        panel: panel.title ?? '(untitled)',
        refId: target.refId ?? '?',
        expr: target.expr ?? '',
      })),
    ),
  );
}

/** Grafana's variables replaced as Grafana would, so the query runs on a plain Prometheus. */
export function withGrafanaVariables(expr: string, values: { environment: string; rateInterval: string }): string {
  return expr
    .replaceAll('$__rate_interval', values.rateInterval)
    .replaceAll('$__interval', values.rateInterval)
    .replaceAll('$__range', values.rateInterval)
    .replaceAll('${environment}', values.environment)
    .replaceAll('$environment', values.environment);
}

export interface Rule {
  file: string;
  group: string;
  name: string;
  kind: 'alert' | 'record';
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function loadRules(): Rule[] {
  return readdirSync(rulesDir)
    .filter((file) => file.endsWith('.yml'))
    .sort()
    .flatMap((file) => {
      const doc = parse(readFileSync(path.join(rulesDir, file), 'utf8')) as {
        groups: {
          name: string;
          rules: { alert?: string; record?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
        }[];
      };
      return doc.groups.flatMap((group) =>
        group.rules.map((rule) => ({
          file,
          group: group.name,
          name: rule.alert ?? rule.record ?? '?',
          kind: rule.alert ? ('alert' as const) : ('record' as const),
          expr: rule.expr,
          labels: rule.labels ?? {},
          annotations: rule.annotations ?? {},
        })),
      );
    });
}

/** One registry holding every metric the platform defines. */
export function platformRegistry(): Registry {
  const registry = new Registry();
  createGatewayMetrics(registry);
  createRelayMetrics(async () => ({ backlogEvents: 0, oldestUnprocessedAgeSeconds: 0, deadLetterEvents: 0 }), registry);
  createConsumerMetrics(registry);
  createNatsExporterMetrics(registry);
  createAgentMetrics(registry);
  createEmbassyMetrics(registry);
  createGovernanceSchedulerMetrics(registry);
  createWalletMetrics(registry);
  createGiftFabricMetrics(registry);
  return registry;
}

/** Series names the platform's code can emit (histograms as _bucket, _sum and _count). */
export async function definedMetricNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const metric of await platformRegistry().getMetricsAsJSON()) {
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    else names.add(metric.name);
  }
  return names;
}

/** Metric names a PromQL expression refers to that look like ours (microdao_ prefix). */
export function platformMetricsIn(expr: string): string[] {
  return [...expr.matchAll(/(?<![:\w])(microdao_[a-z0-9_]+)(?![:\w])/g)].map((m) => m[1]!);
}
