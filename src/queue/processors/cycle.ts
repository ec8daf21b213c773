/**
 * A cycle job. Installed repositories: read the configuration, drop a pull-request job whose head moved on,
 * create the check run (once: a retried job finds it), check out, run the engine, publish, and open the pull
 * requests the repository consented to. Shadow repositories: check out and run the engine; no GitHub call at all.
 */
import { UnrecoverableError } from "bullmq";
import type { Logger } from "pino";
import type { Db } from "../../db/client.js";
import {
  CycleGoneError,
  type CycleRow,
  finishCycle,
  markCycleFailed,
  markCycleSuperseded,
  setCycleCheckRun,
  startCycle,
} from "../../db/queries/cycles.js";
import { recordFixPullRequest } from "../../db/queries/fix-labels.js";
import { installationSuspended, markInstallationSuspended } from "../../db/queries/installations.js";
import {
  findRepositoryById,
  pauseRepository,
  type RepositoryRow,
  setDefaultBranch,
  storedConfig,
} from "../../db/queries/repositories.js";
import type { CycleSummary, Trigger } from "../../engine/types.js";
import {
  type CheckRunInfo,
  type GitHubApi,
  GitHubRequestError,
  type InstallationGitHub,
  type RepoRef,
  statusOf,
} from "../../github/api.js";
import {
  buildCheckRunContent,
  CHECK_RUN_NAME,
  type CheckRunContent,
  failCheckRun,
  publishCheckRun,
  startCheckRun,
  supersedeCheckRun,
} from "../../github/check-run.js";
import {
  fixBranchName,
  fixBranchPrefix,
  openFixPullRequest,
  renderPullRequestBody,
} from "../../github/pull-request.js";
import { explainInvalidConfig, syncRepoConfig } from "../../github/repo-config-sync.js";
import { setJobSha } from "../../observability/logging.js";
import { jobTags } from "../../observability/sentry.js";
import { type CycleJob, cycleJobSchema } from "../jobs.js";
import { scheduleProblem } from "../schedules.js";
import {
  cycleRequest,
  isHttps,
  isLastAttempt,
  type JobInfo,
  observedCycle,
  parsePayload,
  tokenHeader,
  type WorkerDeps,
  withWorkspace,
} from "./worker-deps.js";

export type CycleJobResult =
  | { status: "skipped"; reason: string }
  | { status: "superseded"; cycleId: string; head: string }
  | {
      status: CycleSummary["status"];
      cycleId: string;
      sha: string | null;
      candidates: number;
      verified: number;
      stored: boolean;
      checkRunId: number | null;
      pullRequests: string[];
    };

export async function processCycleJob(job: JobInfo, deps: WorkerDeps): Promise<CycleJobResult> {
  const data = parsePayload(cycleJobSchema, job);
  const log = deps.logger.child(jobTags(job));
  const repo = await findRepositoryById(deps.db, data.repositoryId);
  if (!repo) {
    // Uninstalled or removed after the job was queued: its data is gone and nothing may be written back.
    log.info("repository removed; the job has nothing to do");
    return { status: "skipped", reason: "repository removed" };
  }
  const paused = await pausedReason(deps, repo);
  if (paused) {
    log.info({ reason: paused }, "repository paused; the job has nothing to do");
    return { status: "skipped", reason: paused };
  }
  try {
    return repo.mode === "shadow"
      ? await runShadowCycle(job, data, repo, deps, log)
      : await runInstalledCycle(job, data, repo, deps, log);
  } catch (err) {
    const refused = await pauseIfRefused(deps, repo, err);
    if (refused) {
      log.warn({ err: err instanceof Error ? err.message : String(err), reason: refused }, "paused");
      return { status: "skipped", reason: refused };
    }
    if (err instanceof CycleGoneError || (await repositoryGone(deps, data.repositoryId))) {
      // Uninstalled or removed while the cycle ran: whatever failed on the way (the cycle's rows are gone, or a
      // write refused for want of its installation), nothing was stored and there is nothing to retry.
      log.info(
        { err: err instanceof Error ? err.message : String(err) },
        "repository removed while the cycle ran; nothing was stored",
      );
      return { status: "skipped", reason: "repository removed" };
    }
    throw err;
  }
}

/** Why the repository is not worked on (paused, or its installation suspended), or null. */
export async function pausedReason(deps: WorkerDeps, repo: RepositoryRow): Promise<string | null> {
  if (repo.pausedAt !== null) return `repository paused: ${repo.pausedReason ?? "refused by GitHub"}`;
  if (repo.installationId !== null && (await installationSuspended(deps.db, repo.installationId))) {
    return "installation suspended";
  }
  return null;
}

/**
 * GitHub refused for good: the installation is suspended (403 "…suspended") or the repository is no longer
 * visible to the app (404 on the repository itself). Retrying cannot help, so the installation is marked suspended
 * or the repository paused, and their schedules removed; an event about them (unsuspend, a push, added again)
 * resumes them. Returns why, or null for any other error.
 */
async function pauseIfRefused(deps: WorkerDeps, repo: RepositoryRow, err: unknown): Promise<string | null> {
  const status = statusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status === 403 && /suspended/i.test(message) && repo.installationId !== null) {
    const ids = await markInstallationSuspended(deps.db, repo.installationId);
    await deps.schedules?.remove(ids);
    return "installation suspended";
  }
  if (status === 404 && err instanceof GitHubRequestError && err.endpoint === "GET repo") {
    const reason = `GitHub answered 404 for ${repo.owner}/${repo.name}`;
    await pauseRepository(deps.db, repo.id, reason);
    await deps.schedules?.remove([repo.id]);
    return `repository paused: ${reason}`;
  }
  return null;
}

/** True when the repository's row is gone; false when it exists or cannot be read (the database is down). */
async function repositoryGone(deps: WorkerDeps, repositoryId: number): Promise<boolean> {
  try {
    return (await findRepositoryById(deps.db, repositoryId)) === undefined;
  } catch {
    return false;
  }
}

async function runShadowCycle(
  job: JobInfo,
  data: CycleJob,
  repo: RepositoryRow,
  deps: WorkerDeps,
  log: Logger,
): Promise<CycleJobResult> {
  if (!repo.source) throw new UnrecoverableError(`shadow repository ${repo.owner}/${repo.name} has no source`);
  const source = repo.source;
  const collection = data.collection;
  const summary = await withWorkspace(deps, async (dest) => {
    const co = await deps.checkout({ source, dest, ...(data.sha ? { ref: data.sha } : {}) });
    if (data.sha === null) setJobSha(co.sha);
    await deps.prepare(co.dir);
    const request = cycleRequest(deps, {
      repo,
      config: storedConfig(repo),
      root: co.dir,
      sha: co.sha,
      trigger: data.trigger === "schedule" ? "schedule" : "shadow",
      runKey: job.id,
      // Shadow cycles collect data: file-scope candidates are finer samples than whole-repository ones.
      scopes: ["all", "file"],
      collectData: repo.dataCollection,
      ...(collection?.recipeIds ? { recipeIds: collection.recipeIds } : {}),
    });
    return observedCycle(deps, {
      ...request,
      // The options of the collection run that queued this cycle, when one did.
      ...(collection?.testCommand ? { testCommand: collection.testCommand } : {}),
      ...(collection?.testScopes ? { testScopes: collection.testScopes } : {}),
      ...(collection?.maxFileCandidatesPerRecipe
        ? { maxFileCandidatesPerRecipe: collection.maxFileCandidatesPerRecipe }
        : {}),
      // Data collection samples every candidate: no cost budget.
      ...(collection ? { maxCandidates: null } : {}),
      // Shadow cycles are training data: every label from the candidate's own test run, never a group's.
      groupTests: false,
    });
  });
  const done = data.sha === null && summary.sha ? deps.logger.child({ ...jobTags(job), sha: summary.sha }) : log;
  done.info({ status: summary.status, candidates: summary.results.length }, "shadow cycle finished");
  return result(summary, null, []);
}

async function runInstalledCycle(
  job: JobInfo,
  data: CycleJob,
  initial: RepositoryRow,
  deps: WorkerDeps,
  jobLog: Logger,
): Promise<CycleJobResult> {
  let log = jobLog;
  if (initial.installationId === null) {
    throw new UnrecoverableError(`repository ${initial.owner}/${initial.name} is installed but has no installation`);
  }
  const gh = await deps.github.installation(initial.installationId);
  const ref: RepoRef = { owner: initial.owner, repo: initial.name };
  let repo = initial;
  // Where to clone from: the clone URL GitHub gave in the event, or in its answer below.
  let cloneUrl = data.cloneUrl;

  // 1. The commit: the job's, or the default branch's head for a scheduled job.
  if (data.sha === null) {
    // Scheduled: nothing in the payload says what the default branch is now.
    const info = await gh.api.getRepository(ref);
    cloneUrl = info.cloneUrl ?? cloneUrl;
    if (info.defaultBranch !== repo.defaultBranch) {
      await setDefaultBranch(deps.db, repo.id, info.defaultBranch);
      repo = { ...repo, defaultBranch: info.defaultBranch };
    }
  }
  const sha = data.sha ?? (await gh.api.getBranchHead(ref, repo.defaultBranch));
  if (sha === null) throw new UnrecoverableError(`${repo.owner}/${repo.name} has no branch ${repo.defaultBranch}`);
  if (data.sha === null) {
    // From here on the job's lines name the commit it runs on.
    setJobSha(sha);
    log = deps.logger.child({ ...jobTags(job), sha });
  }
  const trigger: Trigger = data.trigger;

  // 2. The cycle row (a retried job takes over its own), so that a failure from here on is recorded on it.
  const cycle = await startCycle(deps.db, { repositoryId: repo.id, runKey: job.id, sha, trigger });
  let checkRunId = cycle.checkRunId;
  try {
    // 3. A pull request whose head moved on: a newer job checks the newer head.
    if (data.pullRequest !== null) {
      const pr = await gh.api.getPullRequest(ref, data.pullRequest);
      if (pr.state !== "open" || pr.headSha !== sha) {
        await finishCycle(deps.db, {
          cycleId: cycle.id,
          repositoryId: repo.id,
          sha,
          status: "superseded",
          error: null,
          durationsMs: {},
          facts: null,
          results: [],
          storeData: false,
        });
        if (checkRunId !== null) {
          await supersedeCheckRun(gh.api, ref, checkRunId, { now: deps.clock(), newHead: pr.headSha });
        }
        log.info({ head: pr.headSha, state: pr.state }, "pull request head moved on; superseded");
        return { status: "superseded", cycleId: cycle.id, head: pr.headSha };
      }
    }

    // 4. The configuration on the default branch (consent, recipes, budget, schedule); the check run, created once.
    const sync = await syncRepoConfig(
      { db: deps.db, api: gh.api, schedules: deps.schedules, scheduleProblem },
      repo,
      ref,
    );
    if (sync.consentChanged.length > 0) log.info({ consentChanged: sync.consentChanged }, "consent changed");
    repo = (await findRepositoryById(deps.db, repo.id)) ?? repo;
    // An unchanged commit: a scheduled cycle on a commit that has a completed check run already creates no check run
    // up front; it publishes a new one only if its content differs from every earlier one's.
    const earlier =
      trigger === "schedule" && cycle.checkRunId === null ? await earlierCheckRuns(gh.api, ref, sha, job.id) : [];
    let runId = earlier.length > 0 ? null : await ensureCheckRun(deps, gh.api, ref, cycle, sha, job);
    checkRunId = runId;
    // The file is the default branch's: its errors are reported on the default branch's commits only, never on a
    // contributor's pull request (whose author did not write it and cannot fix it there).
    const onDefaultBranch = data.pullRequest === null && (data.branch === null || data.branch === repo.defaultBranch);
    if (sync.invalid && onDefaultBranch) {
      await explainInvalidConfig(gh.api, ref, {
        sha,
        error: sync.invalid,
        defaultBranch: repo.defaultBranch,
        now: deps.clock(),
      });
    }

    // 5. Check out, run, publish, open what was consented to.
    const current = repo;
    return await withWorkspace(deps, async (dest) => {
      const source = deps.cloneUrl(current.owner, current.name, cloneUrl);
      const auth = isHttps(source) ? { authHeader: tokenHeader(await gh.token()) } : {};
      const co = await deps.checkout({ source, ref: sha, dest, ...auth });
      await deps.prepare(co.dir);
      const summary = await observedCycle(
        deps,
        cycleRequest(deps, {
          repo: current,
          config: sync.config,
          root: co.dir,
          sha,
          trigger,
          runKey: job.id,
          scopes: ["all"],
          collectData: current.dataCollection,
          // The row started above: the engine finishes it, and does not start it again.
          started: { cycleId: cycle.id, repositoryId: current.id },
        }),
      );
      // 6. Events out of order: a newer head may have come while this one ran; only the current head is reported.
      // The cycle's outcomes are real and stay; its summary is not published.
      if (data.pullRequest !== null) {
        const pr = await gh.api.getPullRequest(ref, data.pullRequest);
        if (pr.state !== "open" || pr.headSha !== sha) {
          await markCycleSuperseded(deps.db, cycle.id);
          if (runId !== null) {
            await supersedeCheckRun(gh.api, ref, runId, { now: deps.clock(), newHead: pr.headSha });
          }
          log.info({ head: pr.headSha, state: pr.state }, "pull request head moved on while the cycle ran; superseded");
          return { status: "superseded", cycleId: cycle.id, head: pr.headSha };
        }
      }
      const content = buildCheckRunContent(summary, { offerApply: true });
      const same = earlier.find((r) => showsSame(r, content));
      if (same) {
        await setCycleCheckRun(deps.db, cycle.id, same.id);
        log.info({ checkRunId: same.id }, "unchanged commit with the same summary; nothing published");
        return result(summary, same.id, []);
      }
      if (runId === null) {
        runId = await ensureCheckRun(deps, gh.api, ref, cycle, sha, job);
        checkRunId = runId;
      }
      const skipAnnotations = job.attemptsStarted > 1 && (await annotationsOf(gh.api, ref, sha, runId)) > 0;
      await publishCheckRun(gh.api, ref, runId, content, { now: deps.clock(), skipAnnotations });
      const pullRequests =
        deps.flags.autoApply && current.autoApply && (trigger === "push" || trigger === "schedule")
          ? await autoApply(
              gh,
              ref,
              { db: deps.db, repositoryId: current.id, workdir: co.dir, sha, base: current.defaultBranch, summary },
              log,
            )
          : [];
      log.info({ status: summary.status, candidates: summary.results.length, pullRequests }, "cycle published");
      return result(summary, runId, pullRequests);
    });
  } catch (err) {
    // The last attempt (or one that can never succeed): nothing may be left "running" or "in progress".
    if (!(err instanceof CycleGoneError) && (isLastAttempt(job) || err instanceof UnrecoverableError)) {
      const message = err instanceof Error ? err.message : String(err);
      await markCycleFailed(deps.db, cycle.id, message).catch((e: unknown) =>
        log.warn({ err: e }, "could not record the cycle as failed"),
      );
      if (checkRunId !== null) {
        await failCheckRun(gh.api, ref, checkRunId, {
          now: deps.clock(),
          error: message,
          attempts: job.attemptsStarted,
        }).catch((e: unknown) => log.warn({ err: e }, "could not mark the check run as failed"));
      }
    }
    throw err;
  }
}

/**
 * The check run of this job: the one stored on the cycle, or, when an earlier attempt died between creating it
 * and storing its id, the one GitHub has with this job's id as external id. Created only when neither exists.
 */
async function ensureCheckRun(
  deps: WorkerDeps,
  api: GitHubApi,
  ref: RepoRef,
  cycle: CycleRow,
  sha: string,
  job: JobInfo,
): Promise<number> {
  if (cycle.checkRunId !== null) return cycle.checkRunId;
  if (job.attemptsStarted > 1) {
    const found = (await api.findCheckRuns(ref, sha, CHECK_RUN_NAME)).find((c) => c.externalId === job.id);
    if (found) {
      await setCycleCheckRun(deps.db, cycle.id, found.id);
      return found.id;
    }
  }
  const id = await startCheckRun(api, ref, { sha, externalId: job.id, now: deps.clock() });
  await setCycleCheckRun(deps.db, cycle.id, id);
  return id;
}

/**
 * The completed check runs this commit has (none when this job made a check run of its own in an earlier attempt:
 * that one is completed instead). A failed or superseded run shows no summary.
 */
async function earlierCheckRuns(api: GitHubApi, ref: RepoRef, sha: string, jobId: string): Promise<CheckRunInfo[]> {
  const runs = await api.findCheckRuns(ref, sha, CHECK_RUN_NAME);
  if (runs.some((r) => r.externalId === jobId)) return [];
  return runs.filter((r) => r.status === "completed" && (r.conclusion === "neutral" || r.conclusion === "success"));
}

/** True when a check run already shows what this content would. */
function showsSame(run: CheckRunInfo, content: CheckRunContent): boolean {
  return (
    run.status === "completed" &&
    run.conclusion === content.conclusion &&
    run.output.title === content.output.title &&
    run.output.summary === content.output.summary &&
    run.output.text === content.output.text
  );
}

async function annotationsOf(api: GitHubApi, ref: RepoRef, sha: string, checkRunId: number): Promise<number> {
  const runs = await api.findCheckRuns(ref, sha, CHECK_RUN_NAME);
  return runs.find((c) => c.id === checkRunId)?.annotationsCount ?? 0;
}

/**
 * Verified fixes in the auto-apply tier become pull requests without a click, at most one open autopilot pull
 * request per recipe (a maintainer reviews one fix of a kind at a time).
 */
async function autoApply(
  gh: InstallationGitHub,
  ref: RepoRef,
  p: { db: Db; repositoryId: number; workdir: string; sha: string; base: string; summary: CycleSummary },
  log: Logger,
): Promise<string[]> {
  const eligible = p.summary.results.filter(
    (r) => r.prediction.tier === "auto-apply" && r.outcome?.success === true && r.candidate.scope === "all",
  );
  if (eligible.length === 0) return [];
  const open = await gh.api.listOpenPullRequests(ref);
  const opened: string[] = [];
  for (const r of eligible) {
    const recipe = r.candidate.recipe;
    if (open.some((pr) => pr.headRef.startsWith(fixBranchPrefix(recipe.id)))) continue;
    const branch = fixBranchName(recipe.id, p.sha);
    const title = `ODAVL: ${recipe.title}`;
    const pr = await openFixPullRequest(gh.api, ref, {
      workdir: p.workdir,
      headSha: p.sha,
      base: p.base,
      branch,
      files: r.candidate.files,
      title,
      body: renderPullRequestBody({ cycle: p.summary, result: r, base: p.base, headSha: p.sha, requestedBy: null }),
    });
    // The maintainers' answer to it becomes a label (with data-collection consent).
    await recordFixPullRequest(p.db, {
      repositoryId: p.repositoryId,
      number: pr.number,
      branch,
      base: p.base,
      title,
      recipeId: recipe.id,
      cycleId: p.summary.id,
      patchHash: r.candidate.patchHash,
      headSha: p.sha,
      commitSha: pr.headSha,
      trust: r.prediction.trust,
      tier: r.prediction.tier,
      origin: "auto-apply",
    });
    open.push(pr);
    opened.push(pr.url);
    log.info({ recipe: recipe.id, pullRequest: pr.url }, "opened an automatic pull request");
  }
  return opened;
}

function result(summary: CycleSummary, checkRunId: number | null, pullRequests: string[]): CycleJobResult {
  return {
    status: summary.status,
    cycleId: summary.id,
    sha: summary.sha,
    candidates: summary.results.length,
    verified: summary.results.filter((r) => r.outcome?.success).length,
    stored: summary.stored,
    checkRunId,
    pullRequests,
  };
}
