import { DURATION_BUCKETS_PER_DOUBLING } from '../../db/migrations/0011_tallies.js';
import type { HistogramRow } from './repository.js';

type Bucket = { bucket: number; n: number };

/** Where a duration bucket begins, in ms: bucket b holds [2^(b/k) − 1, 2^((b+1)/k) − 1), k buckets per doubling. */
const bucketStart = (bucket: number) => 2 ** (bucket / DURATION_BUCKETS_PER_DOUBLING) - 1;

/**
 * The p-th percentile at the rank `percentile_cont` uses (p·(n−1)), each bucket's values taken as spread evenly over
 * its range: within one bucket's width (4.4 %) of the exact value.
 */
export function histogramPercentile(buckets: readonly Bucket[], p: number): number | null {
  const total = buckets.reduce((sum, bucket) => sum + bucket.n, 0);
  if (total === 0) return null;
  const rank = p * (total - 1);
  let before = 0;
  for (const { bucket, n } of buckets) {
    if (n > 0 && rank < before + n) {
      const start = bucketStart(bucket);
      return start + ((bucketStart(bucket + 1) - start) * (rank - before + 0.5)) / n;
    }
    before += n;
  }
  return bucketStart(buckets.at(-1)!.bucket + 1);
}

const merged = (entries: Iterable<[number, number]>) => {
  const counts = new Map<number, number>();
  for (const [bucket, n] of entries) counts.set(bucket, (counts.get(bucket) ?? 0) + n);
  return [...counts].map(([bucket, n]) => ({ bucket, n })).sort((a, b) => a.bucket - b.bucket);
};

/** Per definition, what the exact statistics give, from its histogram: counts, mean and share on time stay exact. */
export function statsFromHistogram(rows: readonly HistogramRow[]) {
  const byDefinition = new Map<string, HistogramRow[]>();
  for (const row of rows) {
    const own = byDefinition.get(row.definition_id);
    if (own) own.push(row);
    else byDefinition.set(row.definition_id, [row]);
  }
  return [...byDefinition].map(([definitionId, own]) => {
    const completed = own.reduce((sum, row) => sum + Number(row.n), 0);
    const wallClock = merged(own.map((row) => [row.bucket, Number(row.n)]));
    const business = merged(own.filter((row) => row.business_bucket !== null).map((row) => [row.business_bucket!, Number(row.n)]));
    return {
      definition_id: definitionId,
      completed,
      p50_ms: histogramPercentile(wallClock, 0.5),
      p90_ms: histogramPercentile(wallClock, 0.9),
      mean_ms: completed > 0 ? own.reduce((sum, row) => sum + Number(row.total_ms), 0) / completed : null,
      p50_business_ms: histogramPercentile(business, 0.5),
      p90_business_ms: histogramPercentile(business, 0.9),
      within_target: completed > 0 ? own.reduce((sum, row) => sum + Number(row.on_time), 0) / completed : null,
    };
  });
}
