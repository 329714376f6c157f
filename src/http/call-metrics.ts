// The per-call series of GET /metrics (ties_calls_total and ties_call_duration_seconds, by call and
// envelope error code), counted in plain numbers. prom-client's labelled children validate and hash
// their labels on every observation, a cost paid by every call; here a call adds to its series'
// numbers and the text is made only when /metrics is scraped. The metrics are registered in the
// app's prom-client Registry and print exactly as prom-client's Counter and Histogram do.
import type { Metric, Registry } from 'prom-client';

interface Series {
  readonly labels: { readonly call: string; readonly error: string };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly buckets: number[];
}

interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: Record<string, string>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * What a Registry reads of a metric (name, help, type, get, reset, aggregator: prom-client 15's
 * registry.js); its typings ask for a whole Counter or Histogram, hence the casts below.
 */
interface RegistryMetric {
  name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: 'sum' }>;
  reset(): void;
}

export class CallMetrics {
  /** Series by call, then by error code: two lookups, no key built per call. */
  private readonly series = new Map<string, Map<number, Series>>();
  private readonly bounds: readonly number[];

  constructor(registry: Registry, options: { readonly buckets: readonly number[] }) {
    this.bounds = options.buckets;
    const register = (metric: RegistryMetric) => registry.registerMetric(metric as unknown as Metric);
    register(
      this.metric(
        'ties_calls_total',
        'API calls answered, by call and envelope error code (0 = success)',
        'counter',
      ),
    );
    register(
      this.metric(
        'ties_call_duration_seconds',
        'Time from the request to its answer, by call and envelope error code',
        'histogram',
      ),
    );
  }

  observe(call: string, error: number, seconds: number): void {
    let byError = this.series.get(call);
    if (!byError) {
      byError = new Map();
      this.series.set(call, byError);
    }
    let s = byError.get(error);
    if (!s) {
      s = {
        labels: { call, error: String(error) },
        count: 0,
        sum: 0,
        buckets: new Array(this.bounds.length + 1).fill(0),
      };
      byError.set(error, s);
    }
    s.count++;
    s.sum += seconds;
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    s.buckets[i]!++;
  }

  private *all(): Iterable<Series> {
    for (const byError of this.series.values()) yield* byError.values();
  }

  private metric(name: string, help: string, type: 'counter' | 'histogram'): RegistryMetric {
    const values = type === 'counter' ? () => this.counterValues() : (n: string) => this.histogramValues(n);
    const metric: RegistryMetric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name: metric.name, help, type, values: values(metric.name), aggregator: 'sum' }),
      reset: () => this.series.clear(),
    };
    return metric;
  }

  private counterValues(): MetricValue[] {
    return [...this.all()].map((s) => ({ labels: s.labels, value: s.count }));
  }

  /** As prom-client's Histogram writes them: cumulative buckets with `le` first, then sum and count. */
  private histogramValues(name: string): MetricValue[] {
    const out: MetricValue[] = [];
    for (const s of this.all()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += s.buckets[i]!;
        out.push({
          labels: { le: bound },
          sharedLabels: s.labels,
          value: cumulative,
          metricName: `${name}_bucket`,
        });
      });
      out.push({
        labels: { le: '+Inf' },
        sharedLabels: s.labels,
        value: s.count,
        metricName: `${name}_bucket`,
      });
      out.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
    }
    return out;
  }
}
