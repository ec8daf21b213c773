/**
 * Queue tests: a queue config of their own (unique prefix, short timings), real git repositories built here with
 * fixed dates (so their shas, and the summaries that name them, are the same on every run), and job processors'
 * collaborators wired to a test database and a test Probot.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Job, Queue } from "bullmq";
import { sql } from "drizzle-orm";
import type { Probot } from "probot";
import { afterAll, afterEach, beforeAll } from "vitest";
import { DEMO_FILES, linkTypeScript } from "../../src/cli/demo-repo.js";
import { readEnv } from "../../src/config/env.js";
import { type Db, queryRows } from "../../src/db/client.js";
import { registerRepositories } from "../../src/db/queries/installations.js";
import { createGitHubApi } from "../../src/github/api.js";
import { CYCLES_QUEUE, type QueueConfig, redisConnection } from "../../src/queue/config.js";
import type { WorkerDeps, WorkerFlags } from "../../src/queue/processors/worker-deps.js";
import { createCyclesQueue, createProducer } from "../../src/queue/producer.js";
import type { Schedules } from "../../src/queue/schedules.js";
import { createRuntime } from "../../src/runtime/create-runtime.js";
import { createCycleStore } from "../../src/runtime/cycle-store.js";
import { checkout, createWorkspaceRoot } from "../../src/workspace/index.js";
import { silentLogger, testPrivateKey } from "../github/helpers/probot.js";
import { createTestDb, type TestDb } from "../helpers/db.js";

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error("REDIS_URL is not set (run the tests with npm test)");
  return url;
}

/** A queue of the test file's own: nothing it adds is seen by another file or a running deployment. */
export function testQueueConfig(tag: string, worker: Partial<QueueConfig["worker"]> = {}): QueueConfig {
  return {
    ...CYCLES_QUEUE,
    prefix: `odavl-test-${tag}-${randomBytes(4).toString("hex")}`,
    defaultJobOptions: {
      ...CYCLES_QUEUE.defaultJobOptions,
      attempts: 3,
      backoff: { type: "fixed", delay: 200 },
    },
    worker: { ...CYCLES_QUEUE.worker, drainDelaySeconds: 1, ...worker },
  };
}

/**
 * Before a test: no delivery, installation or repository rows (nor what hangs off them), and an empty queue
 * (tests reuse job ids: same repository, same sha; a job kept from the last test would absorb the next one).
 */
export async function resetRepositories(db: Db, queue: Queue | null): Promise<void> {
  await db.execute(sql`truncate deliveries, installations, repositories restart identity cascade`);
  await queue?.obliterate({ force: true });
}

export const producerConnection = () => redisConnection(redisUrl(), "producer");
export const workerConnection = () => redisConnection(redisUrl(), "worker");

/** Fixed dates and identities make commits, and so their shas, reproducible. */
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "odavl test",
  GIT_AUTHOR_EMAIL: "test@odavl.invalid",
  GIT_COMMITTER_NAME: "odavl test",
  GIT_COMMITTER_EMAIL: "test@odavl.invalid",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "core.hooksPath=/dev/null", ...args], {
    cwd: dir,
    env: GIT_ENV,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** Writes files into a git repository at `dir` (created on first use) and commits them; returns the sha. */
export function commitFiles(dir: string, files: Record<string, string>, message: string): string {
  mkdirSync(dir, { recursive: true });
  try {
    git(dir, "rev-parse", "--git-dir");
  } catch {
    git(dir, "init", "-q", "-b", "main");
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}

/** The demo repository (real problems, planted failures), with only the files a cycle needs. */
export function buildDemo(dir: string, extra: Record<string, string> = {}): string {
  return commitFiles(dir, { ...DEMO_FILES, ".gitignore": "node_modules/\nbuild/\n", ...extra }, "demo repository");
}

export interface TestWorkerOptions {
  db: Db;
  probot: Probot;
  /** owner/name -> local git repository the "GitHub" clone of that repository comes from. */
  repos: Record<string, string>;
  flags?: Partial<WorkerFlags>;
  schedules?: Schedules | null;
}

export const FIXED_NOW = new Date("2026-01-02T03:04:05Z");

/** The collaborators of the job processors, as the worker builds them, with test doubles where GitHub would be. */
export async function testWorkerDeps(o: TestWorkerOptions): Promise<{ deps: WorkerDeps; close(): Promise<void> }> {
  // The heuristic scores: the check-run snapshots must not change whenever the shipped model is retrained.
  const runtime = await createRuntime(readEnv({ ML_ENABLE: "false" }), { store: false, allowUnsandboxed: true });
  const workspaceRoot = await createWorkspaceRoot("odavl-test-jobs-");
  const deps: WorkerDeps = {
    db: o.db,
    cycle: { ...runtime.deps, store: createCycleStore(o.db, { probation: false }) },
    github: {
      async installation(installationId) {
        const octokit = await o.probot.auth(installationId);
        return {
          api: createGitHubApi(octokit),
          token: async () => ((await octokit.auth({ type: "installation" })) as { token: string }).token,
        };
      },
    },
    async checkout(options) {
      const r = await checkout(options);
      return { dir: r.dir, sha: r.sha };
    },
    // The demo repository's TypeScript comes from a link (as `odavl demo` makes it), not from the registry.
    prepare: async (dir) => linkTypeScript(dir),
    cloneUrl: (owner, name) => {
      const path = o.repos[`${owner}/${name}`];
      if (!path) throw new Error(`no test repository for ${owner}/${name}`);
      return path;
    },
    workspaceRoot,
    schedules: o.schedules ?? null,
    flags: {
      dataCollection: true,
      autoApply: true,
      thresholds: { autoApply: 0.85, review: 0.65 },
      runTests: false,
      ...o.flags,
    },
    logger: silentLogger,
    clock: () => FIXED_NOW,
  };
  return {
    deps,
    async close() {
      await runtime.close();
      await rm(workspaceRoot, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(
  f: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await f();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the job is completed or failed for good, and returns it. */
export async function finishedJob(queue: Queue, jobId: string, timeoutMs = 120_000): Promise<Job> {
  await waitFor(
    async () => {
      const state = await queue.getJobState(jobId);
      return state === "completed" || state === "failed";
    },
    timeoutMs,
    `job ${jobId}`,
  );
  // Read after it finished: a job read while it ran has no return value.
  const job = await queue.getJob(jobId);
  if (!job) throw new Error(`job ${jobId} vanished`);
  return job;
}

/** The repository's root: where `bin/odavl.js` and the worker fixtures are run from. */
const REPO_ROOT = resolve(import.meta.dirname, "../..");

export interface Spawned {
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output: () => string;
  exited: Promise<number | null>;
}

const spawned: Spawned[] = [];

/**
 * A node process (`args` as for node, from the repository's root) in its own process group, so that a kill takes
 * its whole tree, as a container kill does. Stopped by {@link killSpawned}.
 */
export function spawnNode(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const s = { child, output: () => output, exited };
  spawned.push(s);
  return s;
}

/** Sends a signal to the process group of a spawned process (nothing when it is gone). */
export function killGroup(s: Spawned, signal: NodeJS.Signals): void {
  try {
    if (s.child.pid) process.kill(-s.child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Kills every process spawned so far (with its children) and waits for them: for afterEach. */
export async function killSpawned(): Promise<void> {
  for (const s of spawned.splice(0)) {
    killGroup(s, "SIGKILL");
    await s.exited;
  }
}

/** The JSON lines a process logged (pino), skipping anything else it wrote. */
export function logLines(output: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // Not a log line.
    }
  }
  return lines;
}

/** The worker of test/queue/fixtures/worker-process.ts: `odavl worker`'s worker, with GitHub mocked in its children. */
export const NOCKED_WORKER = ["--import", "tsx", "test/queue/fixtures/worker-process.ts"];

/**
 * The environment of {@link NOCKED_WORKER}: the test's database and queue, repositories cloned from `cloneBase`
 * (owner/name directories), GitHub's requests logged to `githubLog`, `.github/odavl.yml` answered with `odavlYml`.
 */
export function nockedWorkerEnv(o: {
  databaseUrl: string;
  queue: QueueConfig;
  cloneBase: string;
  githubLog: string;
  odavlYml: string;
  logLevel?: string;
}): Record<string, string> {
  return {
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: redisUrl(),
    APP_ID: "1",
    PRIVATE_KEY: testPrivateKey(),
    ODAVL_TEST_QUEUE: JSON.stringify(o.queue),
    ODAVL_TEST_CLONE_BASE: o.cloneBase,
    ODAVL_TEST_GH_LOG: o.githubLog,
    ODAVL_TEST_CONFIG: o.odavlYml,
    LOG_LEVEL: o.logLevel ?? "warn",
  };
}

export interface GitHubCall {
  pid: number;
  method: string;
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are JSON.
  body: any;
  id?: number;
}

/** The GitHub requests the nocked children made (see fixtures/github-nock.ts), in order. */
export function githubCalls(githubLog: string): GitHubCall[] {
  if (!existsSync(githubLog)) return [];
  return readFileSync(githubLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as GitHubCall);
}

/** Check runs created (POST) and completed (PATCH with status completed), and requests nothing answered. */
export function checkRunCalls(calls: GitHubCall[]) {
  return {
    unmatched: calls.filter((c) => c.path.startsWith("UNMATCHED")),
    creates: calls.filter((c) => c.method === "POST" && c.path.endsWith("/check-runs")),
    completions: calls.filter((c) => c.method === "PATCH" && c.body?.status === "completed"),
  };
}

/**
 * Waits until the cycle of a job has its check run stored: the job is then past its GitHub set-up, checking out
 * and running the engine (the middle of the cycle, for tests that disturb it there). Returns the check run's id.
 */
export async function waitForCycleUnderWay(db: Db, jobId: string, timeoutMs: number, context: () => string) {
  return waitFor(
    async () =>
      (
        await queryRows<{ id: number | null }>(
          db,
          sql`select check_run_id::int as id from cycles where run_key = ${jobId} and status = 'running'`,
        )
      )[0]?.id,
    timeoutMs,
    `the cycle of ${jobId} to be under way\n${context()}`,
  );
}

/** The cycle rows of a run key, and the predictions and outcomes stored for them. */
export async function cycleRecord(db: Db, runKey: string) {
  const cycles = await queryRows<{ id: string; status: string; candidates: number | null; data_stored: boolean }>(
    db,
    sql`select id, status, candidates, data_stored from cycles where run_key = ${runKey}`,
  );
  const [counts] = await queryRows<{ predictions: number; outcomes: number }>(
    db,
    sql`select (select count(*)::int from predictions p join cycles c on c.id = p.cycle_id where c.run_key = ${runKey}) as predictions,
               (select count(*)::int from outcomes o join predictions p on p.id = o.prediction_id join cycles c on c.id = p.cycle_id where c.run_key = ${runKey}) as outcomes`,
  );
  return { cycles, predictions: counts?.predictions ?? 0, outcomes: counts?.outcomes ?? 0 };
}

export interface InstalledScenario {
  config: QueueConfig;
  queue: Queue;
  repositoryId: number;
  sha: string;
  /** The GitHub requests of the workers' cycle processes (see {@link githubCalls}). */
  githubLog: string;
  /** The environment of a {@link NOCKED_WORKER} process serving this scenario. */
  env: Record<string, string>;
  /** Enqueues the push cycle of `sha` (as the push webhook does); returns the job id. */
  enqueuePush(deliveryId?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * An installed repository `owner/name` (the demo repository, committed under `dir/owner/name`) with its own
 * queue: what the fault tests start workers on. `odavlYml` is the repository's `.github/odavl.yml` as GitHub
 * answers it (default: data collection on, two recipes).
 */
export async function installedScenario(o: {
  db: Db;
  databaseUrl: string;
  dir: string;
  tag: string;
  installationId: number;
  githubId: number;
  owner?: string;
  name?: string;
  worker?: Partial<QueueConfig["worker"]>;
  jobOptions?: Partial<QueueConfig["defaultJobOptions"]>;
  odavlYml?: string;
  logLevel?: string;
}): Promise<InstalledScenario> {
  const owner = o.owner ?? "acme";
  const name = o.name ?? "demo";
  const base = testQueueConfig(o.tag, o.worker);
  const config = { ...base, defaultJobOptions: { ...base.defaultJobOptions, ...o.jobOptions } };
  const queue = createCyclesQueue(config, producerConnection());
  const sha = buildDemo(join(o.dir, owner, name));
  const [repo] = await registerRepositories(
    o.db,
    { id: o.installationId, accountLogin: owner, accountType: "Organization" },
    [{ githubId: o.githubId, owner, name }],
  );
  if (!repo) throw new Error("installedScenario: the repository was not registered");
  const githubLog = join(o.dir, `github-${o.tag}.log`);
  const env = nockedWorkerEnv({
    databaseUrl: o.databaseUrl,
    queue: config,
    cloneBase: o.dir,
    githubLog,
    odavlYml: o.odavlYml ?? "dataCollection: true\nrecipes:\n  enable: [ts/remove-unused-imports, biome/use-const]\n",
    ...(o.logLevel ? { logLevel: o.logLevel } : {}),
  });
  const producer = createProducer(queue, config);
  return {
    config,
    queue,
    repositoryId: repo.id,
    sha,
    githubLog,
    env,
    enqueuePush: (deliveryId) =>
      producer.enqueueCycle(
        { repositoryId: repo.id, repository: `${owner}/${name}`, sha, trigger: "push", deliveryId: deliveryId ?? null },
        { trigger: "push" },
      ),
    async close() {
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

/**
 * For a describe block of worker-process tests: a fresh Postgres database and a scratch directory, made before its
 * tests and removed after them; the worker processes a test spawned are killed after each test.
 */
export interface WorkerFixture {
  readonly db: TestDb;
  readonly dir: string;
  /** {@link installedScenario} on this fixture's database and directory. */
  scenario(
    o: Omit<Parameters<typeof installedScenario>[0], "db" | "databaseUrl" | "dir">,
  ): ReturnType<typeof installedScenario>;
}

export function useWorkerFixture(tag: string): WorkerFixture {
  let db: TestDb | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    db = await createTestDb("postgres");
    dir = mkdtempSync(join(tmpdir(), `odavl-worker-${tag}-`));
  });
  afterEach(killSpawned);
  afterAll(async () => {
    await db?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get db(): TestDb {
      if (!db) throw new Error("useWorkerFixture: the database is made in beforeAll");
      return db;
    },
    get dir(): string {
      if (!dir) throw new Error("useWorkerFixture: the directory is made in beforeAll");
      return dir;
    },
    scenario(o) {
      return installedScenario({ ...o, db: this.db.db, databaseUrl: this.db.url as string, dir: this.dir });
    },
  };
}
