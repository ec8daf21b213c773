/**
 * The web process: signed webhooks in, deliveries recorded once, jobs with deterministic ids out; installations
 * registered and forgotten. Real Postgres, real Redis; the app is driven over HTTP (signatures) and through
 * probot.receive().
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { UnrecoverableError, Worker } from "bullmq";
import { sql } from "drizzle-orm";
import type { Probot } from "probot";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { startCycle } from "../../src/db/queries/cycles.js";
import { setConsent } from "../../src/db/queries/repositories.js";
import { outcomes, predictions } from "../../src/db/schema.js";
import { applyActionId } from "../../src/github/actions.js";
import { createApp } from "../../src/github/app.js";
import { schedulerId } from "../../src/queue/schedules.js";
import { ONE_FINDING_FIXED } from "../helpers/samples.js";
import { workerConnection } from "../queue/helpers.js";
import { useStrictNock } from "./helpers/github-mock.js";
import {
  installationPayload,
  type Payload,
  pullRequestPayload,
  pushPayload,
  type RepoIdentity,
  repositoriesRemovedPayload,
  requestedActionPayload,
} from "./helpers/payloads.js";
import { postWebhook, receive, testProbot } from "./helpers/probot.js";
import { useWebhookServer } from "./helpers/web-server.js";

const EXAMPLES = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Payload[];
}[];

const DEMO: RepoIdentity = { owner: "acme", name: "demo", githubId: 1001, installationId: 4001 };
const SHA = "a".repeat(40);

describe("web process", () => {
  useStrictNock();
  const web = useWebhookServer("web");
  let probot: Probot;

  beforeAll(async () => {
    // The same handlers as a Probot app, fed through probot.receive().
    probot = testProbot();
    await probot.load(createApp(web.deps));
  });

  const count = async (table: string) =>
    Number((await queryRows<{ n: number }>(web.db.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n);
  /** Jobs queued by events (the schedulers' next jobs are checked apart). */
  const jobIds = async () =>
    (await web.queue.getJobs(["waiting", "prioritized", "delayed", "active"]))
      .map((j) => j.id)
      .filter((id) => !id?.startsWith("repeat:"));

  it("answers a missing or wrong signature with 400, and stores and queues nothing", async () => {
    const payload = pushPayload(DEMO, SHA);
    const wrong = await postWebhook(web.url, "push", payload, { signature: `sha256=${"0".repeat(64)}` });
    const missing = await postWebhook(web.url, "push", payload, { signature: null });
    const otherSecret = await postWebhook(web.url, "push", payload, {
      signature: `sha256=${"1".repeat(64)}`,
    });
    expect([wrong.status, missing.status, otherSecret.status]).toEqual([400, 400, 400]);
    expect(await count("deliveries")).toBe(0);
    expect(await count("repositories")).toBe(0);
    expect(await web.queue.count()).toBe(0);
  });

  it("queues exactly one cycle for a signed push, however many times the delivery arrives at once", async () => {
    const id = randomUUID();
    const payload = pushPayload(DEMO, SHA);
    // The clone URL is GitHub's, whatever it looks like (a server under a path, say): the job carries it.
    payload.repository.clone_url = "https://git.example.com/scm/acme/demo.git";
    const answers = await Promise.all(Array.from({ length: 10 }, () => postWebhook(web.url, "push", payload, { id })));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));

    const [repo] = await queryRows<{ id: number }>(web.db.db, sql`select id from repositories`);
    const jobId = `cycle-r${repo?.id}-${SHA}-push`;
    expect(await jobIds()).toEqual([jobId]);
    const deliveries = await queryRows(web.db.db, sql`select id, event, result, job_id from deliveries`);
    expect(deliveries).toEqual([{ id, event: "push", result: "enqueued", job_id: jobId }]);
    const job = await web.queue.getJob(jobId);
    expect(job?.name).toBe("cycle");
    expect(job?.data).toMatchObject({
      repositoryId: repo?.id,
      repository: "acme/demo",
      cloneUrl: "https://git.example.com/scm/acme/demo.git",
      sha: SHA,
      trigger: "push",
    });

    // Another delivery of the same push (GitHub sends each event once, but not always only once): same job.
    expect((await postWebhook(web.url, "push", payload)).status).toBe(200);
    expect(await jobIds()).toEqual([jobId]);
  });

  it("accepts event names with digits (projects_v2_item) and ignores the events it does not handle", async () => {
    const answer = await postWebhook(web.url, "projects_v2_item", { action: "edited", projects_v2_item: { id: 1 } });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ result: "ignored" });
    const malformed = await postWebhook(web.url, "Projects-V2", { action: "edited" });
    expect(malformed.status).toBe(400);
    expect(await web.queue.count()).toBe(0);
  });

  it("runs a redelivered delivery whose job failed for good again, once", async () => {
    const id = randomUUID();
    const payload = pushPayload(DEMO, SHA);
    const first = await postWebhook(web.url, "push", payload, { id });
    const { jobId } = (await first.json()) as { jobId: string };
    // The job fails for good (a real worker, an error that is never retried).
    let runs = 0;
    const worker = new Worker(
      web.queue.name,
      async () => {
        runs++;
        if (runs === 1) throw new UnrecoverableError("GitHub answered 500");
        return "done";
      },
      { connection: workerConnection(), prefix: web.queue.opts.prefix },
    );
    try {
      await vi.waitFor(async () => expect(await web.queue.getJobState(jobId)).toBe("failed"), { timeout: 10_000 });
      await worker.pause();
      expect(runs).toBe(1);

      // GitHub's redelivery carries the same delivery id; three at once queue the job once.
      const answers = await Promise.all([1, 2, 3].map(() => postWebhook(web.url, "push", payload, { id })));
      const results = await Promise.all(answers.map(async (a) => ((await a.json()) as { result: string }).result));
      expect(results.sort()).toEqual(["already handled", "already handled", "enqueued again"]);
      expect(["waiting", "prioritized"]).toContain(await web.queue.getJobState(jobId));
      worker.resume();
      await vi.waitFor(async () => expect(await web.queue.getJobState(jobId)).toBe("completed"), { timeout: 10_000 });
      expect(runs).toBe(2);
      // A completed job is not run again by a redelivery.
      const again = await postWebhook(web.url, "push", payload, { id });
      expect(((await again.json()) as { result: string }).result).toBe("already handled");
      expect(runs).toBe(2);
    } finally {
      await worker.close();
    }
  });

  it("ignores pushes to other branches and branch deletions", async () => {
    await receive(probot, "push", pushPayload(DEMO, SHA, "feature"));
    const deleted = pushPayload(DEMO, "0".repeat(40));
    deleted.deleted = true;
    await receive(probot, "push", deleted);
    expect(await web.queue.count()).toBe(0);
    expect(await count("deliveries")).toBe(0);
  });

  it("queues pull-request cycles with the pull request, and a cycle per re-request", async () => {
    await receive(probot, "pull_request", pullRequestPayload(DEMO, { number: 7, headSha: SHA }));
    const [job] = await web.queue.getJobs(["prioritized", "waiting"]);
    expect(job?.id).toMatch(new RegExp(`^cycle-r\\d+-${SHA}-pull_request$`));
    expect(job?.data).toMatchObject({ trigger: "pull_request", pullRequest: 7, branch: "feature" });

    const rerequest = (await import("./helpers/payloads.js")).fixture("check_suite.rerequested");
    rerequest.repository = pushPayload(DEMO, SHA).repository;
    rerequest.check_suite.head_sha = SHA;
    const first = await receive(probot, "check_suite", rerequest);
    const second = await receive(probot, "check_suite", rerequest);
    const ids = await jobIds();
    expect(ids).toHaveLength(3);
    expect(ids).toEqual(
      expect.arrayContaining([expect.stringContaining(`manual-${first}`), expect.stringContaining(`manual-${second}`)]),
    );
  });

  it("registers an installation's repositories with their schedules, and forgets everything when uninstalled", async () => {
    await receive(
      probot,
      "installation",
      installationPayload("installation.created", 4001, "acme", [
        { id: 1001, name: "demo" },
        { id: 1002, name: "tools" },
      ]),
    );
    const repos = await queryRows<{ id: number; name: string; mode: string; installation_id: number }>(
      web.db.db,
      sql`select id, name, mode, installation_id from repositories order by name`,
    );
    expect(repos.map((r) => [r.name, r.mode, Number(r.installation_id)])).toEqual([
      ["demo", "installed", 4001],
      ["tools", "installed", 4001],
    ]);
    const schedulers = await web.queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key).sort()).toEqual(repos.map((r) => schedulerId(r.id)).sort());

    // Data of every kind the installation's repositories can have.
    const demo = repos[0] as { id: number };
    await receive(probot, "push", pushPayload(DEMO, SHA));
    await setConsent(web.db.db, demo.id, "dataCollection", true, { source: "config", actor: "maintainer" });
    const cycle = await startCycle(web.db.db, { repositoryId: demo.id, runKey: "run-1", sha: SHA, trigger: "push" });
    const [prediction] = await web.db.db
      .insert(predictions)
      .values({
        cycleId: cycle.id,
        repositoryId: demo.id,
        sha: SHA,
        candidateKey: "ts/remove-unused-imports@all",
        recipeId: "ts/remove-unused-imports",
        family: "ts-codefix",
        safety: "safe",
        scope: "all",
        files: ["src/a.ts"],
        linesAdded: 0,
        linesRemoved: 1,
        patchHash: "p",
        featureSchemaVersion: 2,
        features: [1, 2],
        heuristicTrust: 0.9,
        trust: 0.9,
        tier: "auto-apply",
        usedMl: false,
        latencyMs: 1,
        confidence: 0.8,
        reason: "r",
      })
      .returning({ id: predictions.id });
    await web.db.db.insert(outcomes).values({
      predictionId: prediction?.id as number,
      success: true,
      status: "verified",
      ...ONE_FINDING_FIXED,
      tests: "pass",
      verificationScore: 1,
      durationsMs: {},
    });
    expect(await web.queue.count()).toBeGreaterThan(0);

    const deletion = installationPayload("installation.deleted", 4001, "acme", [{ id: 1001, name: "demo" }]);
    const deliveryId = await receive(probot, "installation", deletion);
    const tables = [
      "installations",
      "repositories",
      "cycles",
      "predictions",
      "outcomes",
      "consent_events",
      "deliveries",
    ];
    const counts = async () => Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(t)])));
    const after = await counts();
    expect(after).toEqual({
      installations: 0,
      repositories: 0,
      cycles: 0,
      predictions: 0,
      outcomes: 0,
      consent_events: 0,
      // The uninstall itself, so that a replay is recognised.
      deliveries: 1,
    });
    expect(await jobIds()).toEqual([]);
    expect(await web.queue.getJobSchedulers()).toEqual([]);

    await receive(probot, "installation", deletion, deliveryId);
    expect(await counts()).toEqual(after);
    expect(await queryRows(web.db.db, sql`select id, result from deliveries`)).toEqual([
      { id: deliveryId, result: "deleted 2" },
    ]);
  });

  it("forgets repositories removed from an installation and keeps the others", async () => {
    await receive(
      probot,
      "installation",
      installationPayload("installation.created", 4001, "acme", [
        { id: 1001, name: "demo" },
        { id: 1002, name: "tools" },
      ]),
    );
    await receive(
      probot,
      "installation_repositories",
      repositoriesRemovedPayload(4001, "acme", [{ id: 1002, name: "tools" }]),
    );
    const names = await queryRows<{ name: string }>(web.db.db, sql`select name from repositories`);
    expect(names).toEqual([{ name: "demo" }]);
    expect((await web.queue.getJobSchedulers()).map((s) => s.key)).toHaveLength(1);
  });

  it("queues an apply job for our Apply button, and ignores identifiers that are not ours", async () => {
    const identifier = applyActionId("ts/remove-unused-imports");
    const deliveryId = await receive(
      probot,
      "check_run",
      requestedActionPayload(DEMO, { checkRunId: 77, headSha: SHA, identifier, sender: "maintainer" }),
    );
    await receive(
      probot,
      "check_run",
      requestedActionPayload(DEMO, { checkRunId: 77, headSha: SHA, identifier: "something-else" }),
    );
    const jobs = await web.queue.getJobs(["prioritized", "waiting"]);
    expect(jobs.map((j) => j.name)).toEqual(["apply"]);
    expect(jobs[0]?.id).toBe(`apply-r1-${deliveryId}`);
    expect(jobs[0]?.data).toMatchObject({
      cloneUrl: "https://github.com/acme/demo.git",
      checkRunId: 77,
      headSha: SHA,
      headBranch: "main",
      action: identifier,
      requestedBy: "maintainer",
    });
  });
  /** One of GitHub's recorded payloads (`@octokit/webhooks-examples`), with our installation and repository. */
  function recorded(event: string, action: string, repo: RepoIdentity = DEMO): Payload {
    const definition = EXAMPLES.find((e) => e.name === event);
    const example = definition?.examples.find((p) => p.action === action && p.installation);
    if (!example) throw new Error(`no recorded ${event}.${action} payload of an installation`);
    const p = structuredClone(example);
    p.installation = {
      ...p.installation,
      id: repo.installationId,
      account: { login: repo.owner, type: "Organization" },
    };
    if (p.repository) {
      p.repository = {
        ...p.repository,
        id: repo.githubId,
        name: repo.name,
        full_name: `${repo.owner}/${repo.name}`,
        owner: { ...p.repository.owner, login: repo.owner },
        default_branch: "main",
      };
    }
    return p;
  }

  it("stops an installation's schedules and queued jobs while it is suspended, and starts them again", async () => {
    await receive(
      probot,
      "installation",
      installationPayload("installation.created", 4001, "acme", [
        { id: 1001, name: "demo" },
        { id: 1002, name: "tools" },
      ]),
    );
    await receive(probot, "push", pushPayload(DEMO, SHA));
    expect(await jobIds()).toHaveLength(1);
    expect(await web.queue.getJobSchedulers()).toHaveLength(2);

    const suspend = await postWebhook(web.url, "installation", recorded("installation", "suspend"));
    expect(await suspend.json()).toEqual({ result: "suspended 2" });
    expect(await jobIds()).toEqual([]);
    expect(await web.queue.getJobSchedulers()).toEqual([]);
    expect(
      await queryRows(web.db.db, sql`select id::int as id, suspended_at is not null as suspended from installations`),
    ).toEqual([{ id: 4001, suspended: true }]);

    const unsuspend = await postWebhook(web.url, "installation", recorded("installation", "unsuspend"));
    expect(await unsuspend.json()).toEqual({ result: "resumed 2" });
    expect(await web.queue.getJobSchedulers()).toHaveLength(2);
    expect(await queryRows(web.db.db, sql`select suspended_at from installations`)).toEqual([{ suspended_at: null }]);
  });

  it("follows a renamed or transferred repository, and forgets a deleted or archived one", async () => {
    await receive(probot, "push", pushPayload(DEMO, SHA));
    const [before] = await queryRows<{ id: number }>(web.db.db, sql`select id from repositories`);

    const renamed = recorded("repository", "renamed", { ...DEMO, name: "demo-2" });
    expect((await postWebhook(web.url, "repository", renamed)).status).toBe(200);
    const transferred = recorded("repository", "transferred", { ...DEMO, owner: "acme-labs", name: "demo-2" });
    expect((await postWebhook(web.url, "repository", transferred)).status).toBe(200);
    expect(await queryRows(web.db.db, sql`select id, owner, name from repositories`)).toEqual([
      { id: before?.id, owner: "acme-labs", name: "demo-2" },
    ]);
    expect((await web.queue.getJobSchedulers()).map((s) => s.key)).toEqual([schedulerId(before?.id as number)]);

    for (const action of ["archived", "deleted"]) {
      await receive(probot, "push", pushPayload(DEMO, SHA));
      const gone = recorded("repository", "renamed");
      gone.action = action;
      const answer = await postWebhook(web.url, "repository", gone);
      expect(await answer.json()).toEqual({ result: "deleted 1" });
      expect(await count("repositories")).toBe(0);
      expect(await jobIds()).toEqual([]);
      expect(await web.queue.getJobSchedulers()).toEqual([]);
    }
  });
});
