/**
 * Prometheus series observed in a cycle's child process, carried to the worker's registry.
 *
 * Cycles run in child processes of the worker (see queue/worker.ts); Prometheus scrapes the worker. A child records
 * what it observes (phase durations, candidates by tier, prediction latency, model fallbacks, sandbox kills, GitHub
 * requests) into a recorder with the same methods as the registry's series; when its job ends, the recorded
 * observations travel to the worker as the job's last progress report (BullMQ's public channel from a sandboxed
 * processor to its worker, sent before the job's result or error), and the worker replays them into its registry.
 * The job's stored result stays the processor's own. Counters are summed per label set; histogram observations are
 * kept one by one.
 */
import { z } from "zod";
import type { CycleSummary } from "../engine/types.js";
import type { Prometheus } from "./prometheus.js";

type Labels = Record<string, string>;

/** What code running a cycle may observe: the registry's series (the worker's `Prometheus` fits), or a recorder. */
export interface CycleSeries {
  phaseDuration: { observe(labels: { phase: string }, seconds: number): void };
  candidates: { inc(labels: { tier: string }, value?: number): void };
  predictionLatency: { observe(seconds: number): void };
  modelFallbacks: { inc(labels: { cause: string }): void };
  sandboxKills: { inc(labels: { cause: string }): void };
  githubCalls: { inc(labels: { method: string; status: string }): void };
  rateLimitWaits: { inc(labels: { kind: string }): void };
}

const label = z.string().min(1).max(100);
const value = z.number().finite().nonnegative();

/** One relayed observation: a counter increment or a histogram sample, with exactly the series' labels. */
const observationSchema = z.discriminatedUnion("metric", [
  z.object({ metric: z.literal("phaseDuration"), labels: z.object({ phase: label }).strict(), value }),
  z.object({ metric: z.literal("candidates"), labels: z.object({ tier: label }).strict(), value }),
  z.object({ metric: z.literal("predictionLatency"), labels: z.object({}).strict(), value }),
  z.object({ metric: z.literal("modelFallbacks"), labels: z.object({ cause: label }).strict(), value }),
  z.object({ metric: z.literal("sandboxKills"), labels: z.object({ cause: label }).strict(), value }),
  z.object({ metric: z.literal("githubCalls"), labels: z.object({ method: label, status: label }).strict(), value }),
  z.object({ metric: z.literal("rateLimitWaits"), labels: z.object({ kind: label }).strict(), value }),
]);
export type Observation = z.infer<typeof observationSchema>;
type SeriesName = Observation["metric"];

const HISTOGRAMS: ReadonlySet<SeriesName> = new Set(["phaseDuration", "predictionLatency"]);

export interface SeriesRecorder {
  series: CycleSeries;
  /** The observations recorded since the last call (and forgets them). */
  take(): Observation[];
}

export function createSeriesRecorder(): SeriesRecorder {
  let samples: Observation[] = [];
  let counts = new Map<string, Observation>();
  const count = (metric: SeriesName, labels: Labels, n = 1) => {
    const key = `${metric}\u0000${JSON.stringify(Object.entries(labels).sort())}`;
    const current = counts.get(key);
    if (current) current.value += n;
    else counts.set(key, { metric, labels, value: n } as Observation);
  };
  const sample = (metric: SeriesName, labels: Labels, v: number) =>
    samples.push({ metric, labels, value: v } as Observation);
  return {
    series: {
      phaseDuration: { observe: (labels, seconds) => sample("phaseDuration", { phase: labels.phase }, seconds) },
      candidates: { inc: (labels, n) => count("candidates", { tier: labels.tier }, n) },
      predictionLatency: { observe: (seconds) => sample("predictionLatency", {}, seconds) },
      modelFallbacks: { inc: (labels) => count("modelFallbacks", { cause: labels.cause }) },
      sandboxKills: { inc: (labels) => count("sandboxKills", { cause: labels.cause }) },
      githubCalls: { inc: (labels) => count("githubCalls", { method: labels.method, status: labels.status }) },
      rateLimitWaits: { inc: (labels) => count("rateLimitWaits", { kind: labels.kind }) },
    },
    take() {
      const out = [...samples, ...counts.values()];
      samples = [];
      counts = new Map();
      return out;
    },
  };
}

/**
 * Records relayed observations into the process's registry. Anything that is not a well-formed observation of a
 * known series is skipped (and counted in the return value): a scrape must never fail because of a child.
 */
export function replayObservations(
  prometheus: Prometheus,
  observations: unknown,
): { recorded: number; skipped: number } {
  const list = Array.isArray(observations) ? observations : [];
  let recorded = 0;
  for (const raw of list) {
    const parsed = observationSchema.safeParse(raw);
    if (!parsed.success) continue;
    const o = parsed.data;
    if (HISTOGRAMS.has(o.metric)) {
      if (o.metric === "phaseDuration") prometheus.phaseDuration.observe(o.labels, o.value);
      else prometheus.predictionLatency.observe(o.value);
    } else {
      // The counters' label names are checked by the schema; the casts only narrow the union.
      const counter = prometheus[o.metric as Exclude<SeriesName, "phaseDuration" | "predictionLatency">];
      (counter as { inc(labels: Labels, value: number): void }).inc(o.labels as Labels, o.value);
    }
    recorded++;
  }
  return { recorded, skipped: list.length - recorded };
}

/** Phase durations and candidates by tier of a finished cycle (`total` is reported as the phase `cycle`). */
export function observeCycle(series: CycleSeries | null | undefined, summary: CycleSummary): void {
  if (!series) return;
  for (const [phase, ms] of Object.entries(summary.durationsMs)) {
    if (!Number.isFinite(ms) || ms < 0) continue;
    series.phaseDuration.observe({ phase: phase === "total" ? "cycle" : phase }, ms / 1000);
  }
  const tiers = new Map<string, number>();
  for (const r of summary.results) tiers.set(r.prediction.tier, (tiers.get(r.prediction.tier) ?? 0) + 1);
  for (const [tier, n] of tiers) series.candidates.inc({ tier }, n);
}

/** Where relayed observations travel in a job's progress report. */
const RELAY_KEY = "odavlObservations";

/** The progress report a child process sends with what it observed during a job. */
export function relayProgress(observations: Observation[]): { [RELAY_KEY]: Observation[] } {
  return { [RELAY_KEY]: observations };
}

/** The observations a progress report carries (none for any other report). */
export function relayedObservations(progress: unknown): unknown[] {
  if (!progress || typeof progress !== "object" || !(RELAY_KEY in progress)) return [];
  const observations = (progress as Record<string, unknown>)[RELAY_KEY];
  return Array.isArray(observations) ? observations : [];
}
