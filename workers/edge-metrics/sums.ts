// The running totals of the gateway's pushed request metrics: each accepted push (OTLP JSON, delta temporality)
// is checked against the metric definitions of functions/_shared/metrics.ts and added, and /metrics serves the
// totals in the Prometheus text format under exactly the names, labels and buckets a scraped gateway has, so
// the dashboards and alerts read them unchanged. Many isolates push into the same series: adding deltas is
// what makes that correct (OTLP's delta-to-cumulative conversions assume one writer per series).
import { LATENCY_BUCKETS_SECONDS, METRICS_CONTENT_TYPE } from '../../functions/_shared/metrics.ts';
import {
  ENVIRONMENT_ATTRIBUTE,
  gatewayMetricShapes,
  OTLP_DELTA,
  seriesKey,
  type OtlpKeyValue,
  type OtlpMetric,
  type OtlpMetricsRequest,
  type PushedMetricShape,
} from '../../functions/_shared/otlp-metrics.ts';

export { METRICS_CONTENT_TYPE };

/** A push refused as a whole (nothing of it is added): HTTP status, stable code, a sentence to act on. */
export class PushRejected extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PushRejected';
  }
}

type Delta =
  | { kind: 'counter'; shape: PushedMetricShape; labels: Record<string, string>; value: number }
  | { kind: 'histogram'; shape: PushedMetricShape; labels: Record<string, string>; buckets: number[]; sum: number; count: number };

interface Total {
  shape: PushedMetricShape;
  labels: Record<string, string>;
  value: number;
  /** Histograms: count per bucket (not cumulative), LATENCY_BUCKETS_SECONDS then +Inf. */
  buckets: number[];
  sum: number;
}

export interface EdgeMetricsSumsOptions {
  /** APP_ENV of this receiver: a push from another environment is refused. */
  environment: string;
  /** Distinct series kept at most; a push adding more is refused (default 5000). */
  maxSeries?: number;
}

const LABEL_VALUE_MAX = 200;
const asNumber = (value: unknown): number =>
  typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'number' ? value : NaN;

function labelsOf(attributes: OtlpKeyValue[] | undefined, shape: PushedMetricShape): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const attribute of attributes ?? []) {
    const value = attribute?.value?.stringValue;
    if (typeof value !== 'string' || value.length > LABEL_VALUE_MAX) {
      throw new PushRejected(
        400,
        'invalid_attribute',
        `${shape.name}: attribute ${attribute?.key} must be a string of at most ${LABEL_VALUE_MAX} characters`,
      );
    }
    labels[attribute.key] = value;
  }
  const expected = [...shape.labelNames].sort().join(', ');
  if (Object.keys(labels).sort().join(', ') !== expected) {
    throw new PushRejected(
      400,
      'unexpected_attributes',
      `${shape.name} takes exactly the attributes [${expected}]; got [${Object.keys(labels).sort().join(', ')}]`,
    );
  }
  return labels;
}

export class EdgeMetricsSums {
  private readonly shapes = new Map(gatewayMetricShapes().map((shape) => [shape.name, shape]));
  private readonly totals = new Map<string, Total>();
  private readonly maxSeries: number;

  constructor(private readonly options: EdgeMetricsSumsOptions) {
    this.maxSeries = options.maxSeries ?? 5000;
  }

  /** Checks a whole push, then adds it; throws PushRejected (and adds nothing) if any part of it is off. */
  add(request: OtlpMetricsRequest): { points: number } {
    const deltas = this.decode(request);
    const fresh = new Set(deltas.map((d) => seriesKey(d.shape.name, d.labels)).filter((key) => !this.totals.has(key)));
    if (this.totals.size + fresh.size > this.maxSeries) {
      throw new PushRejected(
        429,
        'too_many_series',
        `this push would take the receiver past ${this.maxSeries} series; the route label must be a route template, never a raw path`,
      );
    }
    for (const delta of deltas) {
      const key = seriesKey(delta.shape.name, delta.labels);
      const total = this.totals.get(key) ?? {
        shape: delta.shape,
        labels: delta.labels,
        value: 0,
        buckets: LATENCY_BUCKETS_SECONDS.map(() => 0).concat(0),
        sum: 0,
      };
      if (delta.kind === 'counter') total.value += delta.value;
      else {
        total.value += delta.count;
        total.sum += delta.sum;
        delta.buckets.forEach((count, index) => (total.buckets[index]! += count));
      }
      this.totals.set(key, total);
    }
    return { points: deltas.length };
  }

  private decode(request: OtlpMetricsRequest): Delta[] {
    if (!request || !Array.isArray(request.resourceMetrics)) {
      throw new PushRejected(400, 'not_otlp', 'the body is not an OTLP ExportMetricsServiceRequest in JSON (resourceMetrics missing)');
    }
    const deltas: Delta[] = [];
    for (const resourceMetrics of request.resourceMetrics) {
      const environment = resourceMetrics?.resource?.attributes?.find((a) => a.key === ENVIRONMENT_ATTRIBUTE)?.value?.stringValue;
      if (environment !== this.options.environment) {
        throw new PushRejected(
          403,
          'wrong_environment',
          `this receiver takes ${this.options.environment}'s metrics, the push says ${ENVIRONMENT_ATTRIBUTE}=${environment ?? '(none)'}; point METRICS_PUSH_URL at ${environment ?? 'its'} environment's receiver`,
        );
      }
      for (const scope of resourceMetrics.scopeMetrics ?? []) {
        for (const metric of scope?.metrics ?? []) deltas.push(...this.decodeMetric(metric));
      }
    }
    return deltas;
  }

  private decodeMetric(metric: OtlpMetric): Delta[] {
    const shape = this.shapes.get(metric?.name);
    if (!shape) throw new PushRejected(400, 'unknown_metric', `${metric?.name} is not a gateway metric (functions/_shared/metrics.ts)`);
    const data = shape.kind === 'counter' ? metric.sum : metric.histogram;
    if (!data || !Array.isArray(data.dataPoints)) {
      throw new PushRejected(
        400,
        'wrong_metric_type',
        `${shape.name} must be pushed as an OTLP ${shape.kind === 'counter' ? 'sum' : 'histogram'}`,
      );
    }
    if (data.aggregationTemporality !== OTLP_DELTA) {
      throw new PushRejected(
        400,
        'not_delta',
        `${shape.name} must have delta temporality (aggregationTemporality ${OTLP_DELTA}): the receiver adds pushes up`,
      );
    }
    if (metric.sum && metric.sum.isMonotonic !== true)
      throw new PushRejected(400, 'not_monotonic', `${shape.name} is a counter: isMonotonic must be true`);
    return data.dataPoints.map((point) => {
      const labels = labelsOf(point.attributes, shape);
      if (shape.kind === 'counter') {
        const value = asNumber('asDouble' in point ? point.asDouble : (point as { asInt?: unknown }).asInt);
        if (!Number.isFinite(value) || value < 0)
          throw new PushRejected(400, 'invalid_value', `${shape.name}: a delta must be a number ≥ 0`);
        return { kind: 'counter' as const, shape, labels, value };
      }
      const histogram = point as { count?: unknown; sum?: unknown; bucketCounts?: unknown[]; explicitBounds?: number[] };
      if (JSON.stringify(histogram.explicitBounds) !== JSON.stringify(LATENCY_BUCKETS_SECONDS)) {
        throw new PushRejected(400, 'wrong_buckets', `${shape.name}: explicitBounds must be ${JSON.stringify(LATENCY_BUCKETS_SECONDS)}`);
      }
      const buckets = (histogram.bucketCounts ?? []).map(asNumber);
      const count = asNumber(histogram.count);
      const sum = asNumber(histogram.sum);
      const total = buckets.reduce((a, b) => a + b, 0);
      if (
        buckets.length !== LATENCY_BUCKETS_SECONDS.length + 1 ||
        buckets.some((b) => !Number.isInteger(b) || b < 0) ||
        total !== count ||
        !(sum >= 0)
      ) {
        throw new PushRejected(
          400,
          'invalid_histogram',
          `${shape.name}: bucketCounts must hold ${LATENCY_BUCKETS_SECONDS.length + 1} counts ≥ 0 adding up to count, and sum must be ≥ 0`,
        );
      }
      return { kind: 'histogram' as const, shape, labels, buckets, sum, count };
    });
  }

  /** The totals in the Prometheus text format (version 0.0.4). */
  render(): string {
    const lines: string[] = [];
    const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
    const labelText = (labels: Record<string, string>) =>
      Object.entries(labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => `${name}="${escape(value)}"`)
        .join(',');
    for (const shape of this.shapes.values()) {
      lines.push(`# HELP ${shape.name} ${shape.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${shape.name} ${shape.kind}`);
      for (const total of [...this.totals.values()].filter((t) => t.shape === shape)) {
        const labels = labelText(total.labels);
        if (shape.kind === 'counter') {
          lines.push(`${shape.name}{${labels}} ${total.value}`);
          continue;
        }
        let cumulative = 0;
        [...LATENCY_BUCKETS_SECONDS.map(String), '+Inf'].forEach((le, index) => {
          cumulative += total.buckets[index]!;
          lines.push(`${shape.name}_bucket{${labels}${labels ? ',' : ''}le="${le}"} ${cumulative}`);
        });
        lines.push(`${shape.name}_sum{${labels}} ${total.sum}`, `${shape.name}_count{${labels}} ${total.value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
