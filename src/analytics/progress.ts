/**
 * Data collection progress: samples recorded against the target, how many the model scored and how many have a
 * completed (verified) outcome, who contributed them, and when the target will be reached at the current rate.
 */
import { sql } from "drizzle-orm";
import { type DbOrTx, queryRows } from "../db/client.js";
import { count, int, pct } from "./format.js";

export interface ProgressOptions {
  /** Samples wanted (COLLECT_TARGET, 50,000 by default). */
  target: number;
  now?: Date;
  /** Rows of the per-repository and per-recipe tables (the totals always cover everything). */
  top?: number;
}

export interface ProgressCount {
  name: string;
  samples: number;
  completed: number;
  /** Successes among completed outcomes. */
  successRate: number | null;
  lastAt: string | null;
}

export interface Progress {
  generatedAt: string;
  target: number;
  /** Stored predictions: every one carries its feature vector and both scores. */
  samples: number;
  /** samples / target, at most 1. */
  progress: number;
  scoredByModel: number;
  scoredByModelShare: number | null;
  /** Samples whose outcome was verified (status "verified"). */
  completed: number;
  completedShare: number | null;
  /** Samples with an outcome whose verification itself failed (status "error"). */
  verificationErrors: number;
  repositories: number;
  recipes: number;
  perRepository: ProgressCount[];
  perRecipe: ProgressCount[];
  last24h: { samples: number; completed: number; perHour: number };
  /** Hours the rate (last24h.perHour) is measured over: 24, or the time since the first sample when shorter. */
  rateWindowHours?: number;
  eta: { remaining: number; hours: number | null; at: string | null; basis: string };
}

const HOUR = 3_600_000;
export const DEFAULT_TOP = 20;

interface CountRow extends Record<string, unknown> {
  name: string;
  samples: number;
  completed: number;
  successes: number;
  last_at: Date | string | null;
}

function toCounts(rows: CountRow[]): ProgressCount[] {
  return rows.map((r) => {
    const completed = Number(r.completed);
    return {
      name: r.name,
      samples: Number(r.samples),
      completed,
      successRate: completed ? Number(r.successes) / completed : null,
      lastAt: r.last_at === null ? null : new Date(r.last_at).toISOString(),
    };
  });
}

/** The shortest window a rate is measured over (a run's first minutes would give wild rates). */
const MIN_RATE_WINDOW_HOURS = 0.25;

export async function loadProgress(db: DbOrTx, options: ProgressOptions): Promise<Progress> {
  const now = options.now ?? new Date();
  const top = options.top ?? DEFAULT_TOP;
  const dayAgo = new Date(now.getTime() - 24 * HOUR).toISOString();
  const [totals] = await queryRows<Record<string, number>>(
    db,
    sql`select count(*)::float8 as samples,
          (count(*) filter (where p.used_ml))::float8 as scored,
          (count(*) filter (where o.status = 'verified'))::float8 as completed,
          (count(*) filter (where o.status = 'error'))::float8 as errors,
          count(distinct p.repository_id)::float8 as repositories,
          count(distinct p.recipe_id)::float8 as recipes,
          (count(*) filter (where p.created_at > ${dayAgo}::timestamptz))::float8 as samples_24h,
          (count(*) filter (where o.status = 'verified' and o.created_at > ${dayAgo}::timestamptz))::float8 as completed_24h,
          extract(epoch from min(p.created_at))::float8 as first_at
        from predictions p left join outcomes o on o.prediction_id = p.id`,
  );
  const perRepository = await queryRows<CountRow>(
    db,
    sql`select r.owner || '/' || r.name as name, count(*)::float8 as samples,
          (count(*) filter (where o.status = 'verified'))::float8 as completed,
          (count(*) filter (where o.status = 'verified' and o.success))::float8 as successes,
          max(p.created_at) as last_at
        from predictions p join repositories r on r.id = p.repository_id
        left join outcomes o on o.prediction_id = p.id
        group by r.owner, r.name order by samples desc, name limit ${top}`,
  );
  const perRecipe = await queryRows<CountRow>(
    db,
    sql`select p.recipe_id as name, count(*)::float8 as samples,
          (count(*) filter (where o.status = 'verified'))::float8 as completed,
          (count(*) filter (where o.status = 'verified' and o.success))::float8 as successes,
          max(p.created_at) as last_at
        from predictions p left join outcomes o on o.prediction_id = p.id
        group by p.recipe_id order by samples desc, name limit ${top}`,
  );
  const samples = Number(totals?.samples ?? 0);
  const scored = Number(totals?.scored ?? 0);
  const completed = Number(totals?.completed ?? 0);
  const samples24h = Number(totals?.samples_24h ?? 0);
  // The rate is over the last 24 hours, or over the time since the first sample when collection began later:
  // a run that started an hour ago is measured over that hour, not diluted over a day it did not run.
  const firstAt = totals?.first_at == null ? null : Number(totals.first_at) * 1000;
  const windowHours =
    firstAt === null ? 24 : Math.min(24, Math.max(MIN_RATE_WINDOW_HOURS, (now.getTime() - firstAt) / HOUR));
  const perHour = samples24h / windowHours;
  const rateBasis =
    windowHours < 24
      ? `at the rate since the first sample ${windowHours.toFixed(1)} hours ago, ${perHour.toFixed(1)} samples an hour`
      : `at the last 24 hours' rate of ${perHour.toFixed(1)} samples an hour`;
  const remaining = Math.max(0, options.target - samples);
  let eta: Progress["eta"];
  if (remaining === 0) {
    eta = { remaining, hours: 0, at: now.toISOString(), basis: "the target is reached" };
  } else if (perHour === 0) {
    eta = { remaining, hours: null, at: null, basis: "no samples in the last 24 hours: no estimate" };
  } else {
    const hours = remaining / perHour;
    eta = {
      remaining,
      hours,
      at: new Date(now.getTime() + hours * HOUR).toISOString(),
      basis: rateBasis,
    };
  }
  return {
    generatedAt: now.toISOString(),
    target: options.target,
    samples,
    progress: options.target > 0 ? Math.min(1, samples / options.target) : 1,
    scoredByModel: scored,
    scoredByModelShare: samples ? scored / samples : null,
    completed,
    completedShare: samples ? completed / samples : null,
    verificationErrors: Number(totals?.errors ?? 0),
    repositories: Number(totals?.repositories ?? 0),
    recipes: Number(totals?.recipes ?? 0),
    perRepository: toCounts(perRepository),
    perRecipe: toCounts(perRecipe),
    last24h: { samples: samples24h, completed: Number(totals?.completed_24h ?? 0), perHour },
    rateWindowHours: windowHours,
    eta,
  };
}

function table(title: string, rows: ProgressCount[], total: number): string[] {
  if (rows.length === 0) return [];
  const w = Math.max(10, ...rows.map((r) => r.name.length));
  const lines = [
    `${title}${total > rows.length ? ` (top ${rows.length} of ${int(total)})` : ""}:`,
    `  ${"".padEnd(w)}  ${"samples".padStart(9)}  ${"completed".padStart(9)}  ${"success".padStart(7)}  last sample`,
  ];
  for (const r of rows) {
    lines.push(
      `  ${r.name.padEnd(w)}  ${int(r.samples).padStart(9)}  ${int(r.completed).padStart(9)}  ${pct(r.successRate).padStart(7)}  ${r.lastAt?.slice(0, 16).replace("T", " ") ?? ""}`,
    );
  }
  return lines;
}

export function renderProgress(p: Progress): string {
  const eta =
    p.eta.hours === null
      ? p.eta.basis
      : p.eta.remaining === 0
        ? "target reached"
        : `${p.eta.at?.slice(0, 16).replace("T", " ")} UTC, in ${p.eta.hours < 48 ? `${p.eta.hours.toFixed(1)} hours` : `${(p.eta.hours / 24).toFixed(1)} days`} (${p.eta.basis})`;
  return [
    `samples:            ${int(p.samples)} / ${int(p.target)} (${pct(p.progress)})`,
    `scored by model:    ${int(p.scoredByModel)} (${pct(p.scoredByModelShare)})`,
    `completed outcome:  ${int(p.completed)} (${pct(p.completedShare)})${p.verificationErrors ? `, ${count(p.verificationErrors, "verification error")}` : ""}`,
    `${rateLabel(p.rateWindowHours)}${int(p.last24h.samples)} samples, ${int(p.last24h.completed)} completed (${p.last24h.perHour.toFixed(1)} an hour)`,
    `ETA:                ${eta}`,
    `repositories:       ${int(p.repositories)}; recipes: ${int(p.recipes)}`,
    "",
    ...table("per repository", p.perRepository, p.repositories),
    ...(p.perRepository.length ? [""] : []),
    ...table("per recipe", p.perRecipe, p.recipes),
  ].join("\n");
}

/**
 * The label of the rate's line, naming the window it is measured over: the time since the first sample when that
 * is shorter than a day (padded to the other labels' width).
 */
function rateLabel(windowHours: number | undefined): string {
  const label =
    windowHours === undefined || windowHours >= 24
      ? "last 24 hours:"
      : `last ${windowHours < 1 ? `${Math.round(windowHours * 60)} min` : `${windowHours.toFixed(1)} hours`}:`;
  return `${label} `.padEnd(20);
}
