/**
 * Sustained load on the real web process (bench/ingest.ts's machinery): 10,000 signed push deliveries, 30% of them
 * repeats of others, sent at 200 a second. Every distinct delivery ends as exactly one job, answers stay fast, and
 * the queue holds no more than the distinct deliveries (repeats add nothing). The figures are printed for the
 * record.
 */
import { availableParallelism, loadavg } from "node:os";
import { describe, expect, it } from "vitest";
import { runIngest } from "../../bench/ingest.js";

/**
 * Latency bounds hold on a machine that is not already saturated by other work: with more than two runnable
 * processes per core before the test starts, answer times measure the machine, not the web process. They are then
 * printed and not asserted (the correctness assertions always are).
 */
function latencyBoundsApply(): boolean {
  const perCore = (loadavg()[0] ?? 0) / availableParallelism();
  if (perCore > 2) console.warn(`load ${perCore.toFixed(1)} per core: latency bounds printed, not asserted`);
  return perCore <= 2;
}

describe("ingest under sustained load", () => {
  it("10,000 deliveries with 30% repeats at 200/s: one job per distinct delivery, p99 under 500 ms", async () => {
    const f = await runIngest({
      deliveries: 10_000,
      duplicates: 0.3,
      repositories: 20,
      ratePerSecond: 200,
      concurrency: 200,
      pgServer: process.env.DATABASE_URL as string,
      redisUrl: process.env.REDIS_URL as string,
    });
    console.log(
      `load: ${f.deliveriesPerSecond} deliveries/s, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms; ` +
        `sent ${f.sent}, distinct ${f.distinct}, enqueued ${f.enqueued}, duplicated ${f.duplicated}, lost ${f.lost}, ` +
        `enqueued twice ${f.enqueuedTwice}; max queue depth ${f.maxQueueDepth}; ` +
        `web CPU ${f.webCpuMsPerDelivery} ms/delivery; statuses ${JSON.stringify(f.statuses)}; ` +
        `recorded ${JSON.stringify(f.recorded)}`,
    );
    const timed = latencyBoundsApply();
    // Every delivery answered 2xx ended as exactly one job per distinct commit; nothing was answered 5xx.
    expect(f.acceptedLost).toBe(0);
    expect(f.enqueuedTwice).toBe(0);
    expect(Object.keys(f.statuses).filter((s) => Number(s) >= 500)).toEqual([]);
    // The queue holds the distinct commits' jobs and each repository's scheduled job, nothing for the repeats.
    expect(f.maxQueueDepth).toBeLessThanOrEqual(f.distinct + 20);
    if (timed) {
      // Kept up: every delivery answered 2xx (none timed out), every distinct one enqueued, each recorded once.
      expect(f.statuses).toEqual({ 200: f.sent });
      expect(f.lost).toBe(0);
      expect(f.recorded).toEqual({ enqueued: f.distinct });
      expect(f.deliveriesPerSecond).toBeGreaterThanOrEqual(180);
      expect(f.p99Ms).toBeLessThan(500);
    }
  });
});
