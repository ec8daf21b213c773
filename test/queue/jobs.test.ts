/** Job ids, payloads that can never succeed (failed at once, not retried), and the processor registry. */
import type { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyJobId, cycleJobId } from "../../src/queue/jobs.js";
import { processJob } from "../../src/queue/processors/registry.js";
import { jobInfo, type WorkerDeps } from "../../src/queue/processors/worker-deps.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import { type RunningWorker, startWorker } from "../../src/queue/worker.js";
import { silentLogger } from "../github/helpers/probot.js";
import { finishedJob, producerConnection, testQueueConfig, workerConnection } from "./helpers.js";

const SHA = "c".repeat(40);

describe("job ids", () => {
  it("derive from the repository, the sha and the trigger", () => {
    expect(cycleJobId(3, SHA, { trigger: "push" })).toBe(`cycle-r3-${SHA}-push`);
    expect(cycleJobId(3, SHA, { trigger: "pull_request" })).toBe(`cycle-r3-${SHA}-pull_request`);
    expect(cycleJobId(3, SHA, { trigger: "manual", deliveryId: "d-1" })).toBe(`cycle-r3-${SHA}-manual-d-1`);
    expect(applyJobId(3, "8f0c2e10-0000-11ee-8000-000000000000")).toBe("apply-r3-8f0c2e10-0000-11ee-8000-000000000000");
    // Characters that are not safe in an id are hashed away.
    expect(cycleJobId(3, SHA, { trigger: "manual", deliveryId: "a:b" })).toMatch(
      /^cycle-r3-c{40}-manual-[0-9a-f]{32}$/,
    );
  });
});

describe("jobs that can never succeed", () => {
  const config = testQueueConfig("jobs");
  let queue: Queue;
  let worker: RunningWorker;

  beforeAll(() => {
    queue = createCyclesQueue(config, producerConnection());
    // The payload is checked before any collaborator is used: none is needed here.
    const deps = {} as WorkerDeps;
    worker = startWorker({
      config,
      connection: workerConnection(),
      concurrency: 1,
      processor: (job) => processJob(jobInfo(job), deps),
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it("fail at once, without retries, when their payload is invalid or their name unknown", async () => {
    await queue.add("cycle", { repositoryId: "seven" }, { jobId: "bad-payload" });
    await queue.add("launch-rockets", {}, { jobId: "bad-name" });
    for (const id of ["bad-payload", "bad-name"]) {
      const job = await finishedJob(queue, id, 30_000);
      expect(await job.getState()).toBe("failed");
      expect(job.attemptsMade).toBe(1);
      expect(job.opts.attempts).toBe(3);
    }
    expect((await queue.getJob("bad-payload"))?.failedReason).toMatch(/invalid payload: repositoryId/);
    expect((await queue.getJob("bad-name"))?.failedReason).toMatch(/no processor for jobs named "launch-rockets"/);
  });

  it("are refused when queued by an event without a sha", async () => {
    const producer = createProducer(queue, config);
    await expect(
      producer.enqueueCycle(
        { repositoryId: 1, repository: "acme/demo", sha: null, trigger: "push" },
        { trigger: "push" },
      ),
    ).rejects.toThrow(/needs its sha/);
    await expect(
      producer.enqueueCycle(
        { repositoryId: 1, repository: "acme/demo", sha: "HEAD", trigger: "push" },
        { trigger: "push" },
      ),
    ).rejects.toThrow(/full commit sha/);
  });
});
