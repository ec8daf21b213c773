/**
 * What a job processor is given: the job (the part of BullMQ's in-process and sandboxed jobs it uses) and its
 * collaborators, built once per process by the entry point (or by a test).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { SandboxedJob } from "bullmq";
import { type Job, UnrecoverableError } from "bullmq";
import type { Logger } from "pino";
import type { ZodType } from "zod";
import type { Db } from "../../db/client.js";
import type { RepositoryRow } from "../../db/queries/repositories.js";
import { runCycle } from "../../engine/cycle.js";
import type { CycleDeps, StartedCycle } from "../../engine/ports.js";
import type { RepoConfig } from "../../engine/repo-config.js";
import type { CycleRequest } from "../../engine/request.js";
import type { CandidateScope, CycleSummary, Trigger } from "../../engine/types.js";
import type { InstallationGitHub } from "../../github/api.js";
import { effectiveThresholds, type TierThresholds } from "../../model/tiers.js";
import { type CycleSeries, observeCycle } from "../../observability/relay.js";
import { selectRecipes } from "../../recipes/index.js";
import type { Schedules } from "../schedules.js";

export interface JobInfo {
  id: string;
  name: string;
  data: unknown;
  /** 1 on the first run; more when the job is retried or its worker died. */
  attemptsStarted: number;
  maxAttempts: number;
}

export function jobInfo(job: Job | SandboxedJob): JobInfo {
  return {
    id: job.id ?? "",
    name: job.name,
    data: job.data,
    attemptsStarted: job.attemptsStarted,
    maxAttempts: job.opts.attempts ?? 1,
  };
}

/** The last attempt BullMQ will make: what it leaves behind (a check run) must not stay "in progress". */
export function isLastAttempt(job: JobInfo): boolean {
  return job.attemptsStarted >= job.maxAttempts;
}

export interface GitHubFactory {
  installation(installationId: number): Promise<InstallationGitHub>;
}

/** Checks a repository out at a ref into `dest` (see workspace/checkout.ts); the auth header is never persisted. */
export type Checkout = (o: {
  source: string;
  ref?: string;
  dest: string;
  authHeader?: string;
}) => Promise<{ dir: string; sha: string }>;

export interface WorkerFlags {
  /** DATA_COLLECTION_ENABLED: false stores nothing, whatever repositories consented to. */
  dataCollection: boolean;
  /** FEATURE_AUTO_APPROVE: false opens no pull request without a click. */
  autoApply: boolean;
  thresholds: TierThresholds;
  runTests: boolean;
  /** CYCLE_MAX_CANDIDATES: candidates verified per cycle at most (default: the engine's). */
  maxCandidates?: number;
}

export interface WorkerDeps {
  db: Db;
  cycle: CycleDeps;
  github: GitHubFactory;
  checkout: Checkout;
  /** Runs after a checkout: installs dependencies without running any of their scripts. */
  prepare: (dir: string) => Promise<void>;
  /**
   * Where an installed repository is cloned from (shadow repositories carry their own source), given the
   * `clone_url` GitHub gave for it, when it gave one.
   */
  cloneUrl: (owner: string, name: string, fromGitHub: string | null) => string;
  /** A directory only this process can enter; each job makes its own workspace inside. */
  workspaceRoot: string;
  schedules: Schedules | null;
  flags: WorkerFlags;
  logger: Logger;
  clock: () => Date;
  /** Where cycles' phase durations and candidates by tier are observed (none: not observed). */
  prometheus?: CycleSeries;
}

export function parsePayload<T>(schema: ZodType<T>, job: JobInfo): T {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(payload)"}: ${i.message}`).join("; ");
    // A payload that does not parse never will: retrying would only fail again.
    throw new UnrecoverableError(`job ${job.id} (${job.name}) has an invalid payload: ${issues}`);
  }
  return parsed.data;
}

/** A fresh workspace directory for one job, removed when `f` is done. */
export async function withWorkspace<T>(deps: WorkerDeps, f: (dest: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(deps.workspaceRoot, "job-"));
  try {
    return await f(join(dir, "repo"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `Authorization` header for cloning over https with an installation token. */
export function tokenHeader(token: string): string {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
}

export function isHttps(source: string): boolean {
  return /^https:\/\//i.test(source);
}

export interface CycleRequestInput {
  repo: RepositoryRow;
  config: RepoConfig;
  root: string;
  sha: string;
  trigger: Trigger;
  runKey: string;
  scopes: readonly CandidateScope[];
  collectData: boolean;
  recipeIds?: readonly string[];
  /** The cycle row the job started itself (an installed repository's), which the engine then runs on. */
  started?: StartedCycle;
}

/** The engine's request for a repository, with its configuration and the global switches applied. */
export function cycleRequest(deps: WorkerDeps, p: CycleRequestInput): CycleRequest {
  const configured = selectRecipes({
    ...(p.config.recipes.enable ? { enabled: p.config.recipes.enable } : {}),
    disabled: p.config.recipes.disable,
  });
  const recipes = p.recipeIds ? configured.filter((r) => p.recipeIds?.includes(r.id)) : configured;
  return {
    root: p.root,
    repository: {
      owner: p.repo.owner,
      name: p.repo.name,
      mode: p.repo.mode,
      githubId: p.repo.githubId,
      installationId: p.repo.installationId,
      source: p.repo.source,
      defaultBranch: p.repo.defaultBranch,
    },
    sha: p.sha,
    trigger: p.trigger,
    runKey: p.runKey,
    repositoryId: p.repo.id,
    ...(p.started ? { started: p.started } : {}),
    recipes,
    judgeRecipes: configured,
    config: p.config,
    thresholds: effectiveThresholds(deps.flags.thresholds, p.config.thresholds),
    scopes: p.scopes,
    runTests: deps.flags.runTests,
    ...(deps.flags.maxCandidates ? { maxCandidates: deps.flags.maxCandidates } : {}),
    collectData: p.collectData && deps.flags.dataCollection,
  };
}

/** Runs the engine and observes the cycle's phase durations and candidates by tier (see observability/relay.ts). */
export async function observedCycle(deps: WorkerDeps, request: CycleRequest): Promise<CycleSummary> {
  const summary = await runCycle(request, deps.cycle);
  observeCycle(deps.prometheus, summary);
  return summary;
}
