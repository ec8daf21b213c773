/** Job schedulers on real Redis: one per repository, whatever number of processes upsert them at once. */
import type { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCyclesQueue } from "../../src/queue/producer.js";
import { createSchedules, cronFor, ScheduleError, schedulerId, syncSchedules } from "../../src/queue/schedules.js";
import { producerConnection, testQueueConfig } from "./helpers.js";

const repos = [1, 2, 3].map((id) => ({
  id,
  owner: "acme",
  name: `r${id}`,
  mode: "installed" as const,
  schedule: "daily",
}));

describe("schedules", () => {
  const config = testQueueConfig("schedules");
  const queues: Queue[] = [];

  beforeAll(() => {
    // Five "processes" starting at once: each with its own connections.
    for (let i = 0; i < 5; i++) queues.push(createCyclesQueue(config, producerConnection()));
  });

  afterAll(async () => {
    await queues[0]?.obliterate({ force: true });
    await Promise.all(queues.map((q) => q.close()));
  });

  const first = () => queues[0] as Queue;
  const nextJobs = async () => (await first().getJobs(["delayed", "prioritized", "waiting"])).map((j) => j.id).sort();

  it("several processes syncing at once leave exactly one scheduler and one next job per repository", async () => {
    await Promise.all(queues.map((q) => syncSchedules(q, createSchedules(q, config), repos)));
    const schedulers = await first().getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(repos.map((r) => schedulerId(r.id)).sort());
    expect(schedulers.every((s) => s.pattern === cronFor(Number(s.key.slice("schedule-r".length)), "daily"))).toBe(
      true,
    );
    const jobs = await nextJobs();
    expect(jobs).toHaveLength(3);
    const job = await first().getJob(jobs[0] as string);
    expect(job?.name).toBe("cycle");
    expect(job?.data).toMatchObject({ sha: null, trigger: "schedule" });
  });

  it("updates a changed schedule in place, removes one turned off and those of repositories that are gone", async () => {
    const changed = [
      { ...(repos[0] as (typeof repos)[number]), schedule: "30 2 * * 1" },
      { ...(repos[1] as (typeof repos)[number]), schedule: "off" },
    ];
    await Promise.all(queues.map((q) => syncSchedules(q, createSchedules(q, config), changed)));
    const schedulers = await first().getJobSchedulers();
    expect(schedulers.map((s) => [s.key, s.pattern])).toEqual([[schedulerId(1), "30 2 * * 1"]]);
    expect(await nextJobs()).toHaveLength(1);
  });

  it("spreads daily and weekly runs over the day by repository, and refuses a cron that cannot fire", () => {
    expect(cronFor(1, "daily")).toMatch(/^\d+ \d+ \* \* \*$/);
    expect(cronFor(1, "weekly")).toMatch(/^\d+ \d+ \* \* [0-6]$/);
    expect(cronFor(1, "daily")).toBe(cronFor(1, "daily"));
    expect(new Set([1, 2, 3, 4, 5, 6, 7, 8].map((id) => cronFor(id, "daily"))).size).toBeGreaterThan(1);
    expect(cronFor(1, "off")).toBeNull();
    expect(cronFor(1, "15 4 * * *")).toBe("15 4 * * *");
    expect(() => cronFor(1, "99 * * * *")).toThrow(ScheduleError);
  });
});
