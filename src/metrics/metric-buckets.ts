/**
 * Histogram bucket boundaries, in seconds, shared by the node's histograms. They own the choice of
 * resolution: latencies start at 100 µs because an fsync on an NVMe disk or an RPC on loopback
 * takes well under a millisecond, and a first bucket at 1 ms (prom-client's default is 5 ms)
 * would put all of them in one bucket. Doubling keeps every bucket's relative error the same.
 */

/** Doubling boundaries: `start`, `2*start`, ... (`count` of them). */
function doublingBuckets(startSeconds: number, count: number): readonly number[] {
  return Object.freeze(Array.from({ length: count }, (_, index) => startSeconds * 2 ** index));
}

/** 100 µs .. 6.5536 s: fsyncs, peer round trips and client calls (up to the request timeout). */
export const LATENCY_BUCKETS_SECONDS = doublingBuckets(0.0001, 17);

/** 1 ms .. 65.536 s: writing a snapshot file, which grows with the data. */
export const SNAPSHOT_BUCKETS_SECONDS = doublingBuckets(0.001, 17);
