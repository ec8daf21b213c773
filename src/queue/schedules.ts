/**
 * Scheduled cycles: one BullMQ job scheduler per repository, id `schedule-r<repository>`. Upserting a scheduler
 * with an id that exists updates it, and its next job's id is derived from the scheduler and the time, so any
 * number of processes upserting the same schedule at once leave exactly one scheduler and one next job.
 */
import { createHash } from "node:crypto";
import { getNextMillis, type Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client.js";
import { listRepositories, storedConfig } from "../db/queries/repositories.js";
import type { QueueConfig } from "./config.js";
import type { CycleJobData, JobName } from "./jobs.js";

export interface ScheduleTarget {
  id: number;
  owner: string;
  name: string;
  mode: "installed" | "shadow";
}

export interface Schedules {
  /** Creates or updates the repository's scheduler; "off" removes it. Throws {@link ScheduleError} on a bad cron. */
  upsert(repo: ScheduleTarget, schedule: string): Promise<void>;
  remove(repositoryIds: readonly number[]): Promise<void>;
}

export class ScheduleError extends Error {
  constructor(
    readonly schedule: string,
    reason: string,
  ) {
    super(`invalid schedule "${schedule}": ${reason}`);
    this.name = "ScheduleError";
  }
}

export function schedulerId(repositoryId: number): string {
  return `schedule-r${repositoryId}`;
}

/**
 * The cron pattern (UTC) of a schedule, or null for "off". "daily" and "weekly" run at a minute (and weekday)
 * derived from the repository id: spread over the day, so thousands of repositories do not all start at midnight.
 */
export function cronFor(repositoryId: number, schedule: string): string | null {
  if (schedule === "off") return null;
  const h = createHash("sha256").update(`odavl-schedule-${repositoryId}`).digest();
  const minute = h.readUInt16BE(0) % 60;
  const hour = h.readUInt16BE(2) % 24;
  const weekday = h.readUInt16BE(4) % 7;
  if (schedule === "daily") return `${minute} ${hour} * * *`;
  if (schedule === "weekly") return `${minute} ${hour} * * ${weekday}`;
  try {
    if (getNextMillis(Date.now(), { pattern: schedule, tz: "UTC" }) === undefined) {
      throw new ScheduleError(schedule, "it never fires");
    }
  } catch (err) {
    if (err instanceof ScheduleError) throw err;
    throw new ScheduleError(schedule, err instanceof Error ? err.message : String(err));
  }
  return schedule;
}

/** Why a schedule cannot run for the repository ({@link ScheduleError}'s message), or null when it can. */
export function scheduleProblem(repositoryId: number, schedule: string): string | null {
  try {
    cronFor(repositoryId, schedule);
    return null;
  } catch (err) {
    if (err instanceof ScheduleError) return err.message;
    throw err;
  }
}

export function createSchedules(queue: Queue, config: QueueConfig): Schedules {
  return {
    async upsert(repo, schedule) {
      const pattern = cronFor(repo.id, schedule);
      if (pattern === null) {
        await queue.removeJobScheduler(schedulerId(repo.id));
        return;
      }
      const data: CycleJobData = {
        repositoryId: repo.id,
        repository: `${repo.owner}/${repo.name}`,
        sha: null,
        trigger: "schedule",
      };
      await queue.upsertJobScheduler(
        schedulerId(repo.id),
        { pattern, tz: "UTC" },
        { name: "cycle" satisfies JobName, data, opts: { priority: config.priorities.schedule } },
      );
    },

    async remove(repositoryIds) {
      for (const id of repositoryIds) await queue.removeJobScheduler(schedulerId(id));
    },
  };
}

/**
 * Start-up reconciliation: every repository gets its scheduler (from its stored configuration), and schedulers of
 * repositories that no longer exist are removed. Safe to run from several processes at once.
 */
export async function syncSchedules(
  queue: Queue,
  schedules: Schedules,
  repos: readonly (ScheduleTarget & { schedule: string })[],
): Promise<{ upserted: number; removed: number; invalid: { repositoryId: number; error: string }[] }> {
  const invalid: { repositoryId: number; error: string }[] = [];
  let upserted = 0;
  for (const repo of repos) {
    try {
      await schedules.upsert(repo, repo.schedule);
      upserted++;
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      // A stored config was validated when it was stored; this only happens if the cron rules changed under it.
      invalid.push({ repositoryId: repo.id, error: err.message });
    }
  }
  const known = new Set(repos.map((r) => schedulerId(r.id)));
  const orphans: string[] = [];
  for (let start = 0; ; start += 500) {
    const page = await queue.getJobSchedulers(start, start + 499, true);
    for (const s of page) if (s.key.startsWith("schedule-r") && !known.has(s.key)) orphans.push(s.key);
    if (page.length < 500) break;
  }
  for (const key of orphans) await queue.removeJobScheduler(key);
  const removed = orphans.length;
  return { upserted, removed, invalid };
}

/** syncSchedules over every stored repository, each with the schedule of its stored configuration. */
export async function reconcileSchedules(db: Db, queue: Queue, schedules: Schedules) {
  // Paused repositories and those of suspended installations have no schedule until they are resumed.
  const suspended = new Set(
    (await queryRows<{ id: number }>(db, sql`select id from installations where suspended_at is not null`)).map((r) =>
      Number(r.id),
    ),
  );
  const repos = (await listRepositories(db)).filter(
    (r) => r.pausedAt === null && (r.installationId === null || !suspended.has(Number(r.installationId))),
  );
  return syncSchedules(
    queue,
    schedules,
    repos.map((r) => ({ id: r.id, owner: r.owner, name: r.name, mode: r.mode, schedule: storedConfig(r).schedule })),
  );
}
