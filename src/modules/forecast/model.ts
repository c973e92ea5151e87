import { DURATION_BUCKETS_PER_DOUBLING } from '../../db/migrations/0011_tallies.js';

/**
 * A project's history boiled down to what a forecast needs (what the refresh stores and the backtest rebuilds):
 * ended visits per definition, priority and log-scale duration bucket (business time where the project has a
 * calendar, wall-clock otherwise; the same buckets as the tallies), and observed moves between stages.
 */
export type ModelInput = {
  durations: { definition_id: string; priority: string; bucket: number; n: number }[];
  transitions: { from_id: string; to_id: string; n: number }[];
  /** Tickets whose moves the transitions count. */
  tickets: number;
};

/** The workflow facts a forecast needs beside the history. */
export type ModelStage = { id: string; final: boolean; pauses: boolean };

/** Fewer ended visits than this: no forecast. At least `PRIORITY_MIN` of one priority: that priority's own. */
export const MIN_VISITS = 30;
export const PRIORITY_MIN = 200;
/** Paths simulated per forecast (and per stage exit in the model): the Monte-Carlo error of a probability is ≤ 1.6 points. */
export const PATHS = 1000;
const MAX_STEPS = 200;

const bucketStart = (bucket: number) => 2 ** (bucket / DURATION_BUCKETS_PER_DOUBLING) - 1;
/** The bucket a duration falls in, as `duration_bucket()` in SQL computes it. */
export const bucketOf = (ms: number) => Math.floor((DURATION_BUCKETS_PER_DOUBLING * Math.log(Math.max(ms, 0) + 1)) / Math.log(2));

/** A small deterministic generator (mulberry32): one ticket's forecast reads the same on every request. */
export function randomFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const seedOf = (text: string) => {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
};

/** An empirical duration distribution from bucket counts; values spread evenly within a bucket. */
export class Durations {
  private readonly starts: number[];
  private readonly ends: number[];
  /** Cumulative counts up to and including each bucket. */
  private readonly cumulative: number[];
  readonly n: number;

  constructor(counts: ReadonlyMap<number, number>) {
    const buckets = [...counts].filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
    this.starts = buckets.map(([bucket]) => bucketStart(bucket));
    this.ends = buckets.map(([bucket]) => bucketStart(bucket + 1));
    let total = 0;
    this.cumulative = buckets.map(([, n]) => (total += n));
    this.n = total;
  }

  /** How many visits lasted at most `ms` (a binary search: a list page draws thousands of durations). */
  private countAtMost(ms: number): number {
    // The first bucket whose end is beyond `ms`.
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.ends[mid]! <= ms) low = mid + 1;
      else high = mid;
    }
    if (low === this.starts.length) return this.n;
    const before = low === 0 ? 0 : this.cumulative[low - 1]!;
    if (ms < this.starts[low]!) return before;
    return before + ((this.cumulative[low]! - before) * (ms - this.starts[low]!)) / (this.ends[low]! - this.starts[low]!);
  }

  /** The duration at cumulative count `count` (0 … n). */
  private atCount(count: number): number {
    // The first bucket whose cumulative count reaches `count`.
    let low = 0;
    let high = this.cumulative.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.cumulative[mid]! < count) low = mid + 1;
      else high = mid;
    }
    if (low === this.cumulative.length) return this.ends.at(-1) ?? 0;
    const before = low === 0 ? 0 : this.cumulative[low - 1]!;
    const upTo = this.cumulative[low]!;
    return this.starts[low]! + ((this.ends[low]! - this.starts[low]!) * (count - before)) / (upTo - before);
  }

  /** P(D > `ms`), the survival function. */
  survival(ms: number): number {
    return this.n === 0 ? 0 : 1 - this.countAtMost(ms) / this.n;
  }

  /**
   * P(D > `limit` | D > `elapsed`): how likely a visit that has lasted `elapsed` runs past `limit`. Half a visit is
   * added on each side, so a tail no visit has reached yet reads as uncertain, not as certain.
   */
  conditionalExceed(elapsed: number, limit: number): number {
    if (limit <= elapsed) return 1;
    const alive = this.n - this.countAtMost(elapsed);
    const beyond = this.n - this.countAtMost(limit);
    return (beyond + 0.5) / (alive + 1);
  }

  /** One duration drawn from the visits that lasted longer than `elapsed` (a fresh visit: `elapsed` 0). */
  sampleBeyond(elapsed: number, random: () => number): number {
    return this.samplerBeyond(elapsed)(random);
  }

  /** Draws of `sampleBeyond(elapsed, …)`, the count below `elapsed` found once for all of them. */
  samplerBeyond(elapsed: number): (random: () => number) => number {
    const from = this.countAtMost(elapsed);
    // Past every visit seen: the remaining time is unknown; a quarter of what has passed already is a modest guess.
    if (this.n - from < 1e-9) return (random) => elapsed * (1 + 0.5 * random());
    return (random) => Math.max(elapsed, this.atCount(from + random() * (this.n - from)));
  }
}

type RemainingSample = { total: Float64Array; counting: Float64Array };

/**
 * A project's built model: each stage's duration distribution (overall and per priority), where a ticket goes next
 * from each stage, and, simulated once per build, the business time from leaving each stage to a final stage (all of
 * it, and the part the overall SLA clock counts, i.e. outside pausing stages).
 */
export class ForecastModel {
  private readonly overall = new Map<string, Durations>();
  private readonly byPriority = new Map<string, Durations>();
  private readonly next = new Map<string, { to: string[]; cumulative: number[]; total: number }>();
  private readonly afterExit = new Map<string, RemainingSample>();
  private readonly stageOf: Map<string, ModelStage>;
  readonly tickets: number;
  /** Whether the workflow has a final stage: without one no ticket finishes, and no path is simulated. */
  readonly finishes: boolean;

  constructor(input: ModelInput, stages: readonly ModelStage[]) {
    this.stageOf = new Map(stages.map((stage) => [stage.id, stage]));
    this.finishes = stages.some((stage) => stage.final);
    this.tickets = input.tickets;
    const overall = new Map<string, Map<number, number>>();
    const byPriority = new Map<string, Map<number, number>>();
    const add = (into: Map<string, Map<number, number>>, key: string, bucket: number, n: number) => {
      const counts = into.get(key) ?? new Map<number, number>();
      counts.set(bucket, (counts.get(bucket) ?? 0) + n);
      into.set(key, counts);
    };
    for (const row of input.durations) {
      add(overall, row.definition_id, row.bucket, row.n);
      add(byPriority, `${row.definition_id}\u0000${row.priority}`, row.bucket, row.n);
    }
    for (const [key, counts] of overall) this.overall.set(key, new Durations(counts));
    for (const [key, counts] of byPriority) this.byPriority.set(key, new Durations(counts));
    for (const row of input.transitions) {
      const out = this.next.get(row.from_id) ?? { to: [], cumulative: [], total: 0 };
      out.total += row.n;
      out.to.push(row.to_id);
      out.cumulative.push(out.total);
      this.next.set(row.from_id, out);
    }
  }

  /** The duration distribution a forecast of `definitionId` at `priority` rests on, and which one it is. */
  durations(definitionId: string, priority: string): { durations: Durations; perPriority: boolean } | null {
    const own = this.byPriority.get(`${definitionId}\u0000${priority}`);
    if (own && own.n >= PRIORITY_MIN) return { durations: own, perPriority: true };
    const all = this.overall.get(definitionId);
    return all ? { durations: all, perPriority: false } : null;
  }

  /** Moves observed out of a stage. */
  exits(definitionId: string): number {
    return this.next.get(definitionId)?.total ?? 0;
  }

  private nextStage(from: string, random: () => number): string | null {
    const out = this.next.get(from);
    if (!out) return null;
    const pick = random() * out.total;
    const index = out.cumulative.findIndex((upTo) => pick < upTo);
    return out.to[index === -1 ? out.to.length - 1 : index]!;
  }

  /** Simulated business time from leaving `definitionId` until a final stage, per priority (built on first use). */
  remainingAfter(definitionId: string, priority: string): RemainingSample {
    const key = `${definitionId}\u0000${priority}`;
    const cached = this.afterExit.get(key);
    if (cached) return cached;
    const random = randomFrom(seedOf(key));
    const sample: RemainingSample = { total: new Float64Array(PATHS), counting: new Float64Array(PATHS) };
    for (let path = 0; path < PATHS; path += 1) {
      let at: string | null = definitionId;
      let total = 0;
      let counting = 0;
      for (let step = 0; step < MAX_STEPS; step += 1) {
        at = this.nextStage(at, random);
        const stage = at ? this.stageOf.get(at) : undefined;
        // A stage with no observed way on, or no longer in the workflow, ends the path: the ticket's last seen stage.
        if (!at || !stage || stage.final) break;
        const duration = this.durations(at, priority)?.durations;
        const ms = duration && duration.n > 0 ? duration.sampleBeyond(0, random) : 0;
        total += ms;
        if (!stage.pauses) counting += ms;
      }
      sample.total[path] = total;
      sample.counting[path] = counting;
    }
    this.afterExit.set(key, sample);
    return sample;
  }
}

/** The q-quantile of values (sorted in place). */
export function quantile(values: Float64Array, q: number): number {
  values.sort();
  const rank = q * (values.length - 1);
  const low = Math.floor(rank);
  const high = Math.min(values.length - 1, low + 1);
  return values[low]! + (values[high]! - values[low]!) * (rank - low);
}
