/**
 * Types for parse-prometheus-text-format (a CommonJS package without its own), used by the
 * metrics tests to read the exposition text back. Shapes follow the package's README (prom2json).
 */
declare module 'parse-prometheus-text-format' {
  /** One series; which fields are set depends on the metric type. */
  export interface ParsedSample {
    readonly labels?: Readonly<Record<string, string>>;
    /** Counters, gauges, untyped. */
    readonly value?: string;
    /** Histograms: cumulative count by upper bound (`le`), e.g. `{ '0.0001': '3', '+Inf': '9' }`. */
    readonly buckets?: Readonly<Record<string, string>>;
    /** Summaries. */
    readonly quantiles?: Readonly<Record<string, string>>;
    readonly count?: string;
    readonly sum?: string;
  }

  /** One metric family. */
  export interface ParsedMetricFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly ParsedSample[];
  }

  export default function parsePrometheusTextFormat(text: string): ParsedMetricFamily[];
}
