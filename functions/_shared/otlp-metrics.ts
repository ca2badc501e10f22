// The gateway's request metrics on the wire: OTLP/HTTP with JSON encoding (the OpenTelemetry protocol's
// ExportMetricsServiceRequest), delta temporality. The Edge Function (functions/api/core/metrics-push.ts) turns
// the change of its prom-client registry since its last push into one request; the receiver
// (workers/edge-metrics) checks it against the metric definitions of metrics.ts and adds it up. Runtime-agnostic.
import { createGatewayMetrics, LATENCY_BUCKETS_SECONDS, type Registry } from './metrics.ts';

/** OTLP's AggregationTemporality: each point carries the change over [start, time], not a running total. */
export const OTLP_DELTA = 1;

export interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string };
}
interface OtlpPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano?: string;
}
export interface OtlpNumberPoint extends OtlpPoint {
  asDouble?: number;
  asInt?: string | number;
}
export interface OtlpHistogramPoint extends OtlpPoint {
  count?: string | number;
  sum?: number;
  bucketCounts?: (string | number)[];
  explicitBounds?: number[];
}
export interface OtlpMetric {
  name: string;
  description?: string;
  unit?: string;
  sum?: { aggregationTemporality?: number; isMonotonic?: boolean; dataPoints?: OtlpNumberPoint[] };
  histogram?: { aggregationTemporality?: number; dataPoints?: OtlpHistogramPoint[] };
  gauge?: unknown;
}
export interface OtlpMetricsRequest {
  resourceMetrics?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeMetrics?: { scope?: { name?: string }; metrics?: OtlpMetric[] }[];
  }[];
}

/** Resource attribute naming the environment (OpenTelemetry semantic conventions). */
export const ENVIRONMENT_ATTRIBUTE = 'deployment.environment.name';

// --- What may be pushed: the gateway's metrics as metrics.ts defines them --------------------------------

export interface PushedMetricShape {
  name: string;
  help: string;
  kind: 'counter' | 'histogram';
  labelNames: readonly string[];
}

/** The gateway's metrics, read from createGatewayMetrics: names, help, kinds and label names in one place. */
export function gatewayMetricShapes(): PushedMetricShape[] {
  const metrics = createGatewayMetrics();
  return [
    metrics.requestDuration,
    metrics.responses,
    metrics.rateLimited,
    metrics.authFailures,
    metrics.storageUploads,
    metrics.storageRejections,
    metrics.storageStoredBytes,
  ].map((metric) => {
    // prom-client keeps these as plain properties; its typings leave name, help and labelNames out
    const { name, help, labelNames } = metric as unknown as { name: string; help: string; labelNames: string[] };
    return { name, help, kind: metric === metrics.requestDuration ? 'histogram' : 'counter', labelNames };
  });
}

// --- Snapshots of a registry and their difference ------------------------------------------------------

interface CounterValue {
  kind: 'counter';
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface HistogramValue {
  kind: 'histogram';
  name: string;
  labels: Record<string, string>;
  /** Cumulative count per upper bound (LATENCY_BUCKETS_SECONDS, then +Inf). */
  buckets: number[];
  sum: number;
  count: number;
}
export type SeriesValue = CounterValue | HistogramValue;
/** Cumulative values of every series of a registry at one moment, by seriesKey. */
export type RegistrySnapshot = Map<string, SeriesValue>;

export const seriesKey = (name: string, labels: Record<string, string>): string =>
  `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`;

type MetricJson = {
  name: string;
  type: unknown;
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
};

export async function snapshotOf(registry: Registry): Promise<RegistrySnapshot> {
  const snapshot: RegistrySnapshot = new Map();
  const bounds = [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf'];
  for (const metric of (await registry.getMetricsAsJSON()) as unknown as MetricJson[]) {
    for (const { value, labels: raw, metricName } of metric.values) {
      const labels = Object.fromEntries(
        Object.entries(raw)
          .filter(([name]) => name !== 'le')
          .map(([k, v]) => [k, String(v)]),
      );
      const key = seriesKey(metric.name, labels);
      if (String(metric.type) === 'counter') {
        snapshot.set(key, { kind: 'counter', name: metric.name, labels, value });
        continue;
      }
      if (String(metric.type) !== 'histogram') continue;
      let series = snapshot.get(key) as HistogramValue | undefined;
      if (!series) {
        series = { kind: 'histogram', name: metric.name, labels, buckets: bounds.map(() => 0), sum: 0, count: 0 };
        snapshot.set(key, series);
      }
      if (metricName?.endsWith('_bucket')) {
        const index = bounds.indexOf(String(raw.le));
        if (index >= 0) series.buckets[index] = value;
      } else if (metricName?.endsWith('_sum')) series.sum = value;
      else if (metricName?.endsWith('_count')) series.count = value;
    }
  }
  return snapshot;
}

const attributes = (labels: Record<string, string>): OtlpKeyValue[] =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value: { stringValue: value } }));

export interface PushWindow {
  /** Resource attributes: service.name, service.instance.id, deployment.environment.name. */
  resource: Record<string, string>;
  startUnixNano: bigint;
  endUnixNano: bigint;
}

/** The change from `previous` to `current` as one OTLP request; undefined when nothing changed. */
export function deltaRequest(previous: RegistrySnapshot, current: RegistrySnapshot, window: PushWindow): OtlpMetricsRequest | undefined {
  const shapes = new Map(gatewayMetricShapes().map((shape) => [shape.name, shape]));
  const times = { startTimeUnixNano: String(window.startUnixNano), timeUnixNano: String(window.endUnixNano) };
  const sums = new Map<string, OtlpNumberPoint[]>();
  const histograms = new Map<string, OtlpHistogramPoint[]>();
  for (const [key, now] of current) {
    const before = previous.get(key);
    if (now.kind === 'counter') {
      const delta = now.value - (before?.kind === 'counter' ? before.value : 0);
      if (delta > 0) sums.set(now.name, [...(sums.get(now.name) ?? []), { attributes: attributes(now.labels), ...times, asDouble: delta }]);
      continue;
    }
    const old = before?.kind === 'histogram' ? before : undefined;
    const count = now.count - (old?.count ?? 0);
    if (count <= 0) continue;
    const cumulative = now.buckets.map((value, index) => value - (old?.buckets[index] ?? 0));
    const bucketCounts = cumulative.map((value, index) => String(value - (index === 0 ? 0 : cumulative[index - 1]!)));
    histograms.set(now.name, [
      ...(histograms.get(now.name) ?? []),
      {
        attributes: attributes(now.labels),
        ...times,
        count: String(count),
        sum: now.sum - (old?.sum ?? 0),
        bucketCounts,
        explicitBounds: [...LATENCY_BUCKETS_SECONDS],
      },
    ]);
  }
  const metrics: OtlpMetric[] = [
    ...[...sums].map(([name, dataPoints]) => ({
      name,
      description: shapes.get(name)?.help,
      sum: { aggregationTemporality: OTLP_DELTA, isMonotonic: true, dataPoints },
    })),
    ...[...histograms].map(([name, dataPoints]) => ({
      name,
      description: shapes.get(name)?.help,
      unit: 's',
      histogram: { aggregationTemporality: OTLP_DELTA, dataPoints },
    })),
  ];
  if (!metrics.length) return undefined;
  return {
    resourceMetrics: [
      {
        resource: { attributes: attributes(window.resource) },
        scopeMetrics: [{ scope: { name: 'microdao-gateway' }, metrics }],
      },
    ],
  };
}
