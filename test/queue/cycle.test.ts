/**
 * Cycle and apply jobs end to end, in one process: webhooks through probot.receive(), jobs through a real BullMQ
 * worker on real Redis, real cycles on a real git repository (the demo, with two cheap recipes), real Postgres,
 * and GitHub mocked strictly with nock.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/client.js";
import { countRows } from "../../src/db/queries/cycles.js";
import { registerRepositories } from "../../src/db/queries/installations.js";
import { setConsent } from "../../src/db/queries/repositories.js";
import { registerShadowRepository } from "../../src/db/queries/shadow-repositories.js";
import { applyActionId } from "../../src/github/actions.js";
import { createApp } from "../../src/github/app.js";
import { CHECK_RUN_NAME } from "../../src/github/check-run.js";
import { CONFIG_CHECK_RUN_NAME } from "../../src/github/repo-config-sync.js";
import { APPLY_CHECK_RUN_NAME } from "../../src/queue/processors/apply.js";
import { processJob } from "../../src/queue/processors/registry.js";
import { jobInfo, type WorkerDeps } from "../../src/queue/processors/worker-deps.js";
import { createCyclesQueue, createProducer, type JobProducer } from "../../src/queue/producer.js";
import type { Schedules } from "../../src/queue/schedules.js";
import { type RunningWorker, startWorker } from "../../src/queue/worker.js";
import { GitHubMock, useStrictNock } from "../github/helpers/github-mock.js";
import {
  pullRequestClosedPayload,
  pullRequestPayload,
  pushPayload,
  type RepoIdentity,
  requestedActionPayload,
} from "../github/helpers/payloads.js";
import { receive, silentLogger, testProbot } from "../github/helpers/probot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import {
  buildDemo,
  FIXED_NOW,
  finishedJob,
  producerConnection,
  resetRepositories,
  testQueueConfig,
  testWorkerDeps,
  workerConnection,
} from "./helpers.js";

const DEMO: RepoIdentity = { owner: "acme", name: "demo", githubId: 1001, installationId: 4001 };
const CHEAP_RECIPES = "recipes:\n  enable: [ts/remove-unused-imports, biome/use-const]\n";
/** Schedules are not under test here (their next jobs must not run in the middle of a test). */
const NO_SCHEDULES: Schedules = { upsert: async () => {}, remove: async () => {} };
const CYCLE_TIMEOUT = 150_000;

describe("cycle and apply jobs", () => {
  useStrictNock();
  let db: TestDb;
  let queue: Queue;
  let jobs: JobProducer;
  let worker: RunningWorker;
  let dir: string;
  let demoDir: string;
  let sha: string;
  let current: { deps: WorkerDeps; close(): Promise<void> } | null = null;

  beforeAll(async () => {
    db = await createTestDb("postgres");
    const config = testQueueConfig("cycle");
    queue = createCyclesQueue(config, producerConnection());
    jobs = createProducer(queue, config);
    dir = mkdtempSync(join(tmpdir(), "odavl-cycle-test-"));
    demoDir = join(dir, "acme", "demo");
    sha = buildDemo(demoDir);
    worker = startWorker({
      config,
      connection: workerConnection(),
      concurrency: 1,
      processor: async (job) => {
        if (!current) throw new Error("no worker deps for this test");
        return processJob(jobInfo(job), current.deps);
      },
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await worker.close();
    await current?.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await db.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await current?.close();
    current = null;
    await resetRepositories(db.db, queue);
  });

  /** A fresh Probot (its installation tokens are cached), the app on it, and the worker's collaborators. */
  async function setUp(flags: Partial<WorkerDeps["flags"]> = {}) {
    const probot = testProbot();
    await probot.load(createApp({ db: db.db, jobs, schedules: NO_SCHEDULES }));
    current = await testWorkerDeps({ db: db.db, probot, repos: { "acme/demo": demoDir }, flags });
    return probot;
  }

  /** The clone URLs GitHub gave that the jobs asked to clone from, in order. */
  function recordClones(deps: WorkerDeps): (string | null)[] {
    const cloned: (string | null)[] = [];
    const local = deps.cloneUrl;
    deps.cloneUrl = (owner, name, fromGitHub) => {
      cloned.push(fromGitHub);
      return local(owner, name, fromGitHub);
    };
    return cloned;
  }

  const rows = async <T extends Record<string, unknown>>(q: ReturnType<typeof sql>) => queryRows<T>(db.db, q);

  it(
    "a push gives one job, one check run created in progress and then completed; ten copies of the delivery change nothing; without consent nothing is stored",
    async () => {
      const probot = await setUp();
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .configFile(CHEAP_RECIPES)
        .lastCommit()
        .createCheckRun(9001)
        .updateCheckRun(9001);

      const delivery = randomUUID();
      await Promise.all(Array.from({ length: 10 }, () => receive(probot, "push", pushPayload(DEMO, sha), delivery)));
      const jobId = `cycle-r1-${sha}-push`;
      const job = await finishedJob(queue, jobId, CYCLE_TIMEOUT);
      expect([await job.getState(), job.failedReason, job.stacktrace]).toEqual(["completed", undefined, []]);
      expect(job.returnvalue).toMatchObject({
        status: "completed",
        candidates: 2,
        verified: 2,
        stored: false,
        checkRunId: 9001,
      });

      const [create] = gh.find("POST", "/check-runs");
      expect(gh.find("POST", "/check-runs")).toHaveLength(1);
      expect(create?.body).toMatchObject({
        name: CHECK_RUN_NAME,
        head_sha: sha,
        external_id: jobId,
        status: "in_progress",
        started_at: FIXED_NOW.toISOString(),
      });
      const updates = gh.find("PATCH", "/check-runs/9001");
      expect(updates).toHaveLength(1);
      const update = updates[0]?.body;
      expect(update).toMatchObject({
        status: "completed",
        conclusion: "neutral",
        completed_at: FIXED_NOW.toISOString(),
      });
      expect(update.actions.map((a: { label: string }) => a.label)).toEqual(["Apply #1", "Apply #2"]);
      expect(update.output.annotations.every((a: { path: string }) => a.path.startsWith("src/"))).toBe(true);
      expect({ conclusion: update.conclusion, output: update.output, actions: update.actions }).toMatchSnapshot();

      const cycles = await rows(
        sql`select run_key, status, data_stored, check_run_id::int as check_run_id from cycles`,
      );
      expect(cycles).toEqual([{ run_key: jobId, status: "completed", data_stored: false, check_run_id: 9001 }]);
      const counts = await countRows(db.db);
      expect({ predictions: counts.predictions, outcomes: counts.outcomes }).toEqual({ predictions: 0, outcomes: 0 });
      expect(await rows(sql`select id from deliveries`)).toEqual([{ id: delivery }]);
    },
    CYCLE_TIMEOUT,
  );

  it(
    "an invalid .github/odavl.yml gets a check run that explains it, and the last valid configuration stays in force; the global switches stop collection and automatic pull requests",
    async () => {
      const probot = await setUp({ dataCollection: false, autoApply: false });
      const [repo] = await registerRepositories(
        db.db,
        { id: 4001, accountLogin: "acme", accountType: "Organization" },
        [{ githubId: 1001, owner: "acme", name: "demo" }],
      );
      const lastValid = { recipes: { enable: ["biome/use-const"] }, dataCollection: true, autoApply: true };
      await db.db.execute(
        sql`update repositories set config = ${JSON.stringify(lastValid)}::jsonb, config_sha = 'old' where id = ${repo?.id}`,
      );
      await setConsent(db.db, repo?.id as number, "dataCollection", true, { source: "config", actor: "maintainer" });
      await setConsent(db.db, repo?.id as number, "autoApply", true, { source: "config", actor: "maintainer" });

      const invalid = "dataCollection: yes please\nrecipes:\n  enable: [ts/remove-unused-imports]\nschedule: hourly\n";
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .configFile(invalid, "bad0000000000000000000000000000000000000")
        .createCheckRun(9002)
        .findCheckRuns(sha, CONFIG_CHECK_RUN_NAME, [])
        .createCheckRun(9003)
        .updateCheckRun(9002);

      await receive(probot, "push", pushPayload(DEMO, sha));
      const job = await finishedJob(queue, `cycle-r1-${sha}-push`, CYCLE_TIMEOUT);
      expect(job.returnvalue).toMatchObject({ status: "completed", candidates: 1, stored: false, pullRequests: [] });

      const explanation = gh.find("POST", "/check-runs").find((c) => c.body.name === CONFIG_CHECK_RUN_NAME)?.body;
      expect(explanation).toMatchObject({ head_sha: sha, status: "completed", conclusion: "failure" });
      expect(explanation.output.title).toContain(".github/odavl.yml is invalid");
      expect(explanation.output.summary).toContain("dataCollection");
      expect(explanation.output.summary).toContain("schedule");
      expect(
        explanation.output.annotations.map((a: { path: string; start_line: number; annotation_level: string }) => [
          a.path,
          a.start_line,
          a.annotation_level,
        ]),
      ).toEqual([
        [".github/odavl.yml", 1, "failure"],
        [".github/odavl.yml", 4, "failure"],
      ]);

      // The last valid configuration decided: its one recipe, and its consent (which the switches overrule).
      const summary = gh.find("PATCH", "/check-runs/9002")[0]?.body.output.summary as string;
      expect(summary).toContain("biome/use-const");
      expect(summary).not.toContain("ts/remove-unused-imports");
      expect(await rows(sql`select config_sha, data_collection, auto_apply from repositories`)).toEqual([
        { config_sha: "old", data_collection: true, auto_apply: true },
      ]);
      const counts = await countRows(db.db);
      expect({ predictions: counts.predictions, outcomes: counts.outcomes }).toEqual({ predictions: 0, outcomes: 0 });
    },
    CYCLE_TIMEOUT,
  );

  it(
    "with consent, outcomes are stored and verified auto-apply fixes open pull requests, one open per recipe",
    async () => {
      const probot = await setUp({ thresholds: { autoApply: 0.5, review: 0.3 } });
      const config = `dataCollection: true\nautoApply: true\n${CHEAP_RECIPES}`;
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .configFile(config)
        .lastCommit("maintainer")
        .createCheckRun(9004)
        .updateCheckRun(9004)
        // biome/use-const has an open autopilot pull request already: only the other recipe gets one.
        .listPulls([{ number: 3, headRef: "odavl/biome/use-const-0123456" }])
        .createTree()
        .createCommit()
        .createRef()
        .createPull(21);

      await receive(probot, "push", pushPayload(DEMO, sha));
      const job = await finishedJob(queue, `cycle-r1-${sha}-push`, CYCLE_TIMEOUT);
      expect(job.returnvalue).toMatchObject({
        status: "completed",
        stored: true,
        pullRequests: ["https://github.com/acme/demo/pull/21"],
      });
      expect(gh.find("POST", "/git/refs")[0]?.body).toEqual({
        ref: `refs/heads/odavl/ts/remove-unused-imports-${sha.slice(0, 7)}`,
        sha: "c0c0000000000000000000000000000000000000",
      });
      expect(gh.find("POST", "/pulls")[0]?.body.body).toContain("consented to `autoApply`");
      expect(await rows(sql`select number, origin, tier, state from fix_pull_requests`)).toEqual([
        { number: 21, origin: "auto-apply", tier: "auto-apply", state: "open" },
      ]);

      const counts = await countRows(db.db);
      expect({ predictions: counts.predictions, outcomes: counts.outcomes }).toEqual({ predictions: 2, outcomes: 2 });
      const consent = await rows(sql`select field, value, source, actor from consent_events order by field`);
      expect(consent).toEqual([
        { field: "autoApply", value: true, source: "config", actor: "maintainer" },
        { field: "dataCollection", value: true, source: "config", actor: "maintainer" },
      ]);
    },
    CYCLE_TIMEOUT,
  );

  it(
    "Apply re-verifies the fix on the branch's current head and opens a pull request with its branch, files and evidence",
    async () => {
      const probot = await setUp();
      const identifier = applyActionId("ts/remove-unused-imports");
      const branch = `odavl/ts/remove-unused-imports-${sha.slice(0, 7)}`;
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .configFile(CHEAP_RECIPES)
        .lastCommit()
        .branchHead("main", sha)
        .listPulls([])
        .createTree()
        .createCommit()
        .createRef()
        .createPull(12);

      const delivery = await receive(
        probot,
        "check_run",
        requestedActionPayload(DEMO, { checkRunId: 9001, headSha: sha, identifier, sender: "maintainer" }),
      );
      const job = await finishedJob(queue, `apply-r1-${delivery}`, CYCLE_TIMEOUT);
      expect(job.failedReason).toBeUndefined();
      expect(job.returnvalue).toEqual({
        status: "opened",
        pullRequest: "https://github.com/acme/demo/pull/12",
        number: 12,
        branch,
      });

      const baseTree = execFileSync("git", ["-C", demoDir, "rev-parse", `${sha}^{tree}`], { encoding: "utf8" }).trim();
      const tree = gh.find("POST", "/git/trees")[0]?.body;
      expect(tree.base_tree).toBe(baseTree);
      expect(tree.tree.map((e: { path: string; mode: string; type: string }) => [e.path, e.mode, e.type])).toEqual([
        ["src/format.ts", "100644", "blob"],
        ["src/math.ts", "100644", "blob"],
      ]);
      const math = tree.tree.find((e: { path: string }) => e.path === "src/math.ts").content as string;
      expect(math).not.toContain("readFileSync");
      expect(math).toContain("export function sum");
      expect(gh.find("POST", "/git/commits")[0]?.body).toMatchObject({
        tree: "7ee0000000000000000000000000000000000000",
        parents: [sha],
      });
      expect(gh.find("POST", "/git/refs")[0]?.body).toEqual({
        ref: `refs/heads/${branch}`,
        sha: "c0c0000000000000000000000000000000000000",
      });
      const pull = gh.find("POST", "/pulls")[0]?.body;
      expect(pull).toMatchObject({ head: branch, base: "main", title: "ODAVL: Remove unused imports" });
      expect(pull.body).toContain("requested by `maintainer`");
      expect(pull.body).toMatch(/trust \*\*0\.\d\d\*\*/);
      expect(pull.body).toContain("**Why this trust:**");
      expect(pull.body).toContain("**Verification:** type check");
      expect(pull.body).toContain("```diff");
    },
    CYCLE_TIMEOUT,
  );

  it(
    "the pull request of a fix shows the trust its check run showed, also when re-verified on a newer head whose history holds the cycle's outcomes",
    async () => {
      const probot = await setUp();
      const cloned = recordClones(current?.deps as WorkerDeps);
      const config = `dataCollection: true\n${CHEAP_RECIPES}`;
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .configFile(config)
        .lastCommit("maintainer")
        .createCheckRun(9401)
        .updateCheckRun(9401);
      await receive(probot, "push", pushPayload(DEMO, sha));
      const cycleJob = await finishedJob(queue, `cycle-r1-${sha}-push`, CYCLE_TIMEOUT);
      expect(cycleJob.returnvalue).toMatchObject({ status: "completed", stored: true, checkRunId: 9401 });
      const summary = gh.find("PATCH", "/check-runs/9401")[0]?.body.output.summary as string;
      const row = summary.split("\n").find((l) => l.includes("`ts/remove-unused-imports`")) ?? "";
      const shown = row
        .split("|")[6]
        ?.trim()
        .match(/^\d\.\d\d/)?.[0];
      expect(shown).toMatch(/^\d\.\d\d$/);

      // The branch moved on by a commit that leaves the fixed files alone: the same patch, re-verified on a commit
      // whose history now holds the first cycle's outcomes (a new prediction could differ from what was shown).
      execFileSync("git", ["-C", demoDir, "checkout", "-q", "-b", "moved-on"]);
      writeFileSync(join(demoDir, "NOTES.md"), "notes\n");
      execFileSync("git", ["-C", demoDir, "add", "NOTES.md"]);
      execFileSync("git", [
        "-C",
        demoDir,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-qm",
        "notes",
      ]);
      const moved = execFileSync("git", ["-C", demoDir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
      execFileSync("git", ["-C", demoDir, "checkout", "-q", "-"]);
      const apply = new GitHubMock("acme", "demo")
        .configFile(config)
        .branchHead("main", moved)
        .compare("main", sha, "behind")
        .listPulls([])
        .createTree()
        .createCommit()
        .createRef()
        .createPull(14);
      const delivery = await receive(
        probot,
        "check_run",
        requestedActionPayload(DEMO, {
          checkRunId: 9401,
          headSha: sha,
          identifier: applyActionId("ts/remove-unused-imports"),
          sender: "maintainer",
        }),
      );
      const job = await finishedJob(queue, `apply-r1-${delivery}`, CYCLE_TIMEOUT);
      expect(job.returnvalue).toMatchObject({ status: "opened", number: 14 });
      // Both jobs cloned from the clone_url of their events.
      expect(cloned).toEqual(["https://github.com/acme/demo.git", "https://github.com/acme/demo.git"]);
      const body = apply.find("POST", "/pulls")[0]?.body.body as string;
      expect(body).toContain(`trust **${shown}**`);
      const bodyRow = body.split("\n").find((l) => l.includes("`ts/remove-unused-imports`") && l.startsWith("|")) ?? "";
      expect(bodyRow.split("|")[6]?.trim()).toBe(row.split("|")[6]?.trim());

      // With consent, the press and the pull request are stored beside the fix's predictions, with the trust the
      // pull request showed; GitHub's recorded close of it (merged) is the maintainers' answer.
      expect(
        await rows(sql`select check_run_id::int, recipe_id, result, pull_request_number from apply_clicks`),
      ).toEqual([
        { check_run_id: 9401, recipe_id: "ts/remove-unused-imports", result: "opened", pull_request_number: 14 },
      ]);
      const branch = `odavl/ts/remove-unused-imports-${moved.slice(0, 7)}`;
      const [pr] = await rows<{ trust: number; patch_hash: string }>(
        sql`select f.number, f.branch, f.base, f.title, f.origin, f.state, f.trust, f.patch_hash, c.trigger
          from fix_pull_requests f join cycles c on c.id = f.cycle_id`,
      );
      expect(pr).toMatchObject({ number: 14, branch, base: "main", origin: "apply", state: "open", trigger: "apply" });
      expect(pr?.trust.toFixed(2)).toBe(shown);
      // The verifying cycle stored the same patch: its predictions carry the label.
      expect(await rows(sql`select count(*)::int as n from predictions where patch_hash = ${pr?.patch_hash}`)).toEqual([
        { n: 2 },
      ]);
      await receive(
        probot,
        "pull_request",
        pullRequestClosedPayload(DEMO, { number: 14, branch, title: "ODAVL: Remove unused imports", merged: true }),
      );
      expect(await rows(sql`select state from fix_pull_requests`)).toEqual([{ state: "merged" }]);
    },
    CYCLE_TIMEOUT,
  );

  it("a second Apply while the fix's pull request is open opens none and answers in the check run", async () => {
    const probot = await setUp();
    const identifier = applyActionId("ts/remove-unused-imports");
    const moved = "b".repeat(40);
    const gh = new GitHubMock("acme", "demo")
      .accessToken(4001)
      // The job reads the consent from the configuration before it answers: the press is recorded.
      .configFile(`dataCollection: true\n${CHEAP_RECIPES}`)
      .lastCommit()
      .branchHead("main", moved)
      .compare("main", sha, "behind")
      // Opened from an older head: the base moved on since, and it is still the same fix.
      .listPulls([{ number: 12, headRef: `odavl/ts/remove-unused-imports-${sha.slice(0, 7)}`, baseRef: "main" }])
      .findCheckRuns(moved, APPLY_CHECK_RUN_NAME, [])
      .createCheckRun(9101);
    const delivery = await receive(
      probot,
      "check_run",
      requestedActionPayload(DEMO, { checkRunId: 9001, headSha: sha, identifier, sender: "maintainer" }),
    );
    const job = await finishedJob(queue, `apply-r1-${delivery}`, CYCLE_TIMEOUT);
    expect(job.returnvalue).toMatchObject({ status: "exists", number: 12 });
    const answer = gh.find("POST", "/check-runs")[0]?.body;
    expect(answer).toMatchObject({ name: APPLY_CHECK_RUN_NAME, head_sha: moved, conclusion: "neutral" });
    expect(answer.output.title).toBe("Already open: #12 applies ts/remove-unused-imports to main");
    expect(await rows(sql`select check_run_id::int, recipe_id, result, pull_request_number from apply_clicks`)).toEqual(
      [{ check_run_id: 9001, recipe_id: "ts/remove-unused-imports", result: "exists", pull_request_number: 12 }],
    );
  });

  it(
    "Apply on a fork's commit opens no pull request against the base branch and offers the verified patch",
    async () => {
      const probot = await setUp();
      const identifier = applyActionId("ts/remove-unused-imports");
      // The fork's branch is called "main" too, and GitHub lists no pull request on a fork's check run.
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .configFile(CHEAP_RECIPES)
        .lastCommit()
        .branchHead("main", "b".repeat(40))
        .compare("main", sha, "diverged")
        .findCheckRuns(sha, APPLY_CHECK_RUN_NAME, [])
        .createCheckRun(9102);
      const delivery = await receive(
        probot,
        "check_run",
        requestedActionPayload(DEMO, { checkRunId: 9001, headSha: sha, identifier, branch: "main" }),
      );
      const job = await finishedJob(queue, `apply-r1-${delivery}`, CYCLE_TIMEOUT);
      expect(job.returnvalue).toEqual({ status: "not-applied", reason: "fork: offered as a patch", head: sha });
      expect(gh.find("POST", "/pulls")).toEqual([]);
      const answer = gh.find("POST", "/check-runs")[0]?.body;
      expect(answer.output.title).toBe(
        "Fork pull request: ts/remove-unused-imports is offered as a patch, not applied",
      );
      expect(answer.output.text).toContain("```diff");
      expect(answer.output.text).toContain("readFileSync");
    },
    CYCLE_TIMEOUT,
  );

  it(
    "Apply on a pull request's check run opens the pull request into that pull request's branch and says so",
    async () => {
      const probot = await setUp();
      const identifier = applyActionId("ts/remove-unused-imports");
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .configFile(CHEAP_RECIPES)
        .lastCommit()
        .pullRequest(7, { headSha: sha, headRef: "feature" })
        .branchHead("feature", sha)
        .listPulls([])
        .createTree()
        .createCommit()
        .createRef()
        .createPull(13)
        .findCheckRuns(sha, APPLY_CHECK_RUN_NAME, [])
        .createCheckRun(9103);
      const delivery = await receive(
        probot,
        "check_run",
        requestedActionPayload(DEMO, {
          checkRunId: 9001,
          headSha: sha,
          identifier,
          branch: "feature",
          pullRequests: [7],
        }),
      );
      const job = await finishedJob(queue, `apply-r1-${delivery}`, CYCLE_TIMEOUT);
      expect(job.returnvalue).toMatchObject({ status: "opened", number: 13 });
      expect(gh.find("POST", "/pulls")[0]?.body).toMatchObject({ base: "feature" });
      const answer = gh.find("POST", "/check-runs")[0]?.body;
      expect(answer.output.title).toBe("Opened #13 into feature, the branch of pull request #7");
    },
    CYCLE_TIMEOUT,
  );

  it(
    "a scheduled cycle on an unchanged commit publishes nothing when its report is the same, and a new check run when it differs",
    async () => {
      await setUp();
      const [repo] = await registerRepositories(
        db.db,
        { id: 4001, accountLogin: "acme", accountType: "Organization" },
        [{ githubId: 1001, owner: "acme", name: "demo" }],
      );
      const scheduled = (id: string) => ({
        id,
        name: "cycle",
        data: { repositoryId: repo?.id, repository: "acme/demo", sha: null, trigger: "schedule" },
        attemptsStarted: 1,
        maxAttempts: 1,
      });
      const deps = current?.deps as WorkerDeps;
      const cloned = recordClones(deps);

      // The first scheduled cycle on the commit: no report yet, so one is published.
      const first = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .repository("main", 1001, "https://github.example.com/scm/acme/demo.git")
        .branchHead("main", sha)
        .configFile(CHEAP_RECIPES)
        .lastCommit()
        .findCheckRuns(sha, CHECK_RUN_NAME, [])
        .createCheckRun(9301)
        .updateCheckRun(9301);
      expect(await processJob(scheduled("schedule-1"), deps)).toMatchObject({ status: "completed", checkRunId: 9301 });
      // Cloned from where GitHub's API says the repository is.
      expect(cloned[0]).toBe("https://github.example.com/scm/acme/demo.git");
      const published = first.find("PATCH", "/check-runs/9301")[0]?.body;
      expect(published).toMatchObject({ status: "completed", conclusion: "neutral" });
      const earlier = {
        id: 9301,
        external_id: "schedule-1",
        status: "completed" as const,
        conclusion: published.conclusion as string,
        output: published.output as { title: string; summary: string; text: string },
      };

      // The next one on the same commit with the same summary: not a single write.
      const second = new GitHubMock("acme", "demo")
        .repository("main")
        .branchHead("main", sha)
        .configFile(CHEAP_RECIPES)
        .findCheckRuns(sha, CHECK_RUN_NAME, [earlier]);
      expect(await processJob(scheduled("schedule-2"), deps)).toMatchObject({ status: "completed", checkRunId: 9301 });
      expect(second.calls).toEqual([]);

      // A report that differs from the one shown (here: the earlier summary was another): a new check run.
      const third = new GitHubMock("acme", "demo")
        .repository("main")
        .branchHead("main", sha)
        .configFile(CHEAP_RECIPES)
        .findCheckRuns(sha, CHECK_RUN_NAME, [{ ...earlier, output: { ...earlier.output, summary: "older" } }])
        .createCheckRun(9302)
        .updateCheckRun(9302);
      expect(await processJob(scheduled("schedule-3"), deps)).toMatchObject({ status: "completed", checkRunId: 9302 });
      expect(third.find("POST", "/check-runs")[0]?.body).toMatchObject({ head_sha: sha, external_id: "schedule-3" });
      expect(third.find("PATCH", "/check-runs/9302")[0]?.body.output).toEqual(published.output);

      expect(await rows(sql`select run_key, check_run_id::int as check_run_id from cycles order by run_key`)).toEqual([
        { run_key: "schedule-1", check_run_id: 9301 },
        { run_key: "schedule-2", check_run_id: 9301 },
        { run_key: "schedule-3", check_run_id: 9302 },
      ]);
    },
    CYCLE_TIMEOUT,
  );

  it(
    "a shadow repository's cycle completes without a single GitHub call",
    async () => {
      await setUp();
      let installations = 0;
      const deps = current?.deps as WorkerDeps;
      const real = deps.github;
      deps.github = {
        installation: (id) => {
          installations++;
          return real.installation(id);
        },
      };
      const repo = await registerShadowRepository(db.db, {
        owner: "local",
        name: "demo",
        source: demoDir,
        schedule: "off",
      });
      await db.db.execute(
        sql`update repositories set config = ${JSON.stringify({ recipes: { enable: ["biome/use-const"] }, schedule: "off" })}::jsonb where id = ${repo.id}`,
      );
      await setConsent(db.db, repo.id, "dataCollection", true, { source: "operator", actor: "ops" });

      const jobId = await jobs.enqueueCycle(
        { repositoryId: repo.id, repository: "local/demo", sha, trigger: "shadow" },
        { trigger: "shadow" },
      );
      const job = await finishedJob(queue, jobId, CYCLE_TIMEOUT);
      expect(job.failedReason).toBeUndefined();
      expect(job.returnvalue).toMatchObject({ status: "completed", stored: true, checkRunId: null, pullRequests: [] });
      expect(installations).toBe(0);
      const counts = await countRows(db.db);
      expect(counts.predictions).toBe(job.returnvalue.candidates);
      expect(counts.outcomes).toBe(job.returnvalue.candidates);
    },
    CYCLE_TIMEOUT,
  );

  it(
    "events out of order: a pull request's head moves on while its cycle runs; the older head's report is not published",
    async () => {
      const probot = await setUp();
      const newer = "c".repeat(40);
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        // Current when the job starts; moved on to a newer head by the time the cycle ends.
        .pullRequest(7, { headSha: sha })
        .configFile(CHEAP_RECIPES)
        .lastCommit()
        .createCheckRun(9201)
        .pullRequest(7, { headSha: newer })
        .updateCheckRun(9201);
      await receive(probot, "pull_request", pullRequestPayload(DEMO, { number: 7, headSha: sha }));
      const job = await finishedJob(queue, `cycle-r1-${sha}-pull_request`, CYCLE_TIMEOUT);
      expect(job.failedReason).toBeUndefined();
      expect(job.returnvalue).toMatchObject({ status: "superseded", head: newer });
      // The one update marks the run superseded: no report, no Apply buttons, for a head that is no longer current.
      const updates = gh.find("PATCH", "/check-runs/9201");
      expect(updates).toHaveLength(1);
      expect(updates[0]?.body).toMatchObject({ status: "completed", conclusion: "skipped" });
      expect(updates[0]?.body.output.title).toBe("Superseded by a newer commit");
      expect(updates[0]?.body.actions).toBeUndefined();
      expect(await rows(sql`select status, check_run_id::int as check_run_id from cycles`)).toEqual([
        { status: "superseded", check_run_id: 9201 },
      ]);
    },
    CYCLE_TIMEOUT,
  );

  it(
    "an invalid .github/odavl.yml on the default branch is not reported on a contributor's pull request",
    async () => {
      const probot = await setUp({ dataCollection: false, autoApply: false });
      const [repo] = await registerRepositories(
        db.db,
        { id: 4001, accountLogin: "acme", accountType: "Organization" },
        [{ githubId: 1001, owner: "acme", name: "demo" }],
      );
      const lastValid = { recipes: { enable: ["biome/use-const"] } };
      await db.db.execute(
        sql`update repositories set config = ${JSON.stringify(lastValid)}::jsonb, config_sha = 'old' where id = ${repo?.id}`,
      );
      const gh = new GitHubMock("acme", "demo")
        .accessToken(4001)
        .pullRequest(7, { headSha: sha })
        .configFile("dataCollection: yes please\n", "bad0000000000000000000000000000000000000")
        .createCheckRun(9005)
        .pullRequest(7, { headSha: sha })
        .updateCheckRun(9005);

      await receive(probot, "pull_request", pullRequestPayload(DEMO, { number: 7, headSha: sha }));
      const job = await finishedJob(queue, `cycle-r1-${sha}-pull_request`, CYCLE_TIMEOUT);
      expect(job.returnvalue).toMatchObject({ status: "completed", checkRunId: 9005 });
      // Only the cycle's own check run: none about the configuration (strict nock: no such request was mocked).
      expect(gh.find("POST", "/check-runs").map((c) => c.body.name)).toEqual([CHECK_RUN_NAME]);
    },
    CYCLE_TIMEOUT,
  );

  it("a pull-request job whose head moved on is marked superseded and not run", async () => {
    const probot = await setUp();
    const newer = "b".repeat(40);
    new GitHubMock("acme", "demo").accessToken(4001).pullRequest(7, { headSha: newer });
    await receive(probot, "pull_request", pullRequestPayload(DEMO, { number: 7, headSha: sha }));
    const job = await finishedJob(queue, `cycle-r1-${sha}-pull_request`);
    expect(job.returnvalue).toMatchObject({ status: "superseded", head: newer });
    expect(await rows(sql`select status, check_run_id::int as check_run_id from cycles`)).toEqual([
      { status: "superseded", check_run_id: null },
    ]);
  });
});
