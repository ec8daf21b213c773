/**
 * An apply job (a maintainer pressed "Apply"): plan the recipe again on the branch's current head, verify it,
 * and open the pull request only when it still verifies. When it does not, a check run on that head says why.
 */
import { UnrecoverableError } from "bullmq";
import { shownPrediction } from "../../db/queries/cycles.js";
import { finishApplyClick, recordApplyClick, recordFixPullRequest } from "../../db/queries/fix-labels.js";
import { findRepositoryById } from "../../db/queries/repositories.js";
import { unifiedDiff } from "../../engine/diff.js";
import type { CandidateResult, CycleSummary } from "../../engine/types.js";
import { recipeForAction } from "../../github/actions.js";
import type { GitHubApi, RepoRef } from "../../github/api.js";
import { putCompletedCheckRun } from "../../github/check-run.js";
import {
  fixBranchName,
  fixBranchPrefix,
  openFixPullRequest,
  renderPullRequestBody,
} from "../../github/pull-request.js";
import { syncRepoConfig } from "../../github/repo-config-sync.js";
import { jobTags } from "../../observability/sentry.js";
import { renderSummary } from "../../summary/render.js";
import { type ApplyJob, applyJobSchema } from "../jobs.js";
import { scheduleProblem } from "../schedules.js";
import { pausedReason } from "./cycle.js";
import {
  cycleRequest,
  isHttps,
  type JobInfo,
  observedCycle,
  parsePayload,
  tokenHeader,
  type WorkerDeps,
  withWorkspace,
} from "./worker-deps.js";

export const APPLY_CHECK_RUN_NAME = "ODAVL Apply";

export type ApplyJobResult =
  | { status: "skipped"; reason: string }
  | { status: "opened" | "exists"; pullRequest: string; number: number; branch: string }
  | { status: "not-applied"; reason: string; head: string };

/**
 * Every press is recorded (with data-collection consent) with what it came to: the maintainers' answers are
 * labels (src/db/queries/fix-labels.ts).
 */
export async function processApplyJob(job: JobInfo, deps: WorkerDeps): Promise<ApplyJobResult> {
  const data = parsePayload(applyJobSchema, job);
  const recipe = recipeForAction(data.action);
  const click = recipe && {
    repositoryId: data.repositoryId,
    deliveryId: data.deliveryId,
    checkRunId: data.checkRunId,
    headSha: data.headSha,
    recipeId: recipe.id,
  };
  if (click) await recordApplyClick(deps.db, click);
  const result = await applyFix(job, deps, data);
  if (click) {
    await finishApplyClick(deps.db, click, {
      result: result.status,
      pullRequestNumber: "number" in result ? result.number : null,
    });
  }
  return result;
}

async function applyFix(job: JobInfo, deps: WorkerDeps, data: ApplyJob): Promise<ApplyJobResult> {
  const log = deps.logger.child({ ...jobTags(job), action: data.action });
  const repo = await findRepositoryById(deps.db, data.repositoryId);
  if (!repo) return { status: "skipped", reason: "repository removed" };
  const paused = await pausedReason(deps, repo);
  if (paused) return { status: "skipped", reason: paused };
  if (repo.mode !== "installed" || repo.installationId === null) {
    throw new UnrecoverableError(`${repo.owner}/${repo.name} is a shadow repository: it is never written to`);
  }
  const recipe = recipeForAction(data.action);
  if (!recipe) throw new UnrecoverableError(`unknown action "${data.action}" on check run ${data.checkRunId}`);
  const gh = await deps.github.installation(repo.installationId);
  const ref: RepoRef = { owner: repo.owner, repo: repo.name };

  const sync = await syncRepoConfig(
    { db: deps.db, api: gh.api, schedules: deps.schedules, scheduleProblem },
    repo,
    ref,
  );
  const current = (await findRepositoryById(deps.db, repo.id)) ?? repo;
  const target = await applyTarget(gh.api, ref, current.defaultBranch, data);
  const base = target.base;
  const head = target.fork
    ? data.headSha
    : target.head !== undefined
      ? target.head
      : await gh.api.getBranchHead(ref, base);
  if (head === null) {
    return { status: "not-applied", reason: `branch ${base} no longer exists`, head: data.headSha };
  }
  const branch = fixBranchName(recipe.id, head);
  // One open pull request per (base branch, fix), whatever head it was made from.
  const prefix = fixBranchPrefix(recipe.id);
  const existing = target.fork
    ? undefined
    : (await gh.api.listOpenPullRequests(ref)).find(
        (pr) => pr.headRef.startsWith(prefix) && (pr.baseRef === null || pr.baseRef === base),
      );
  if (existing) {
    await answerApply(gh.api, ref, {
      head,
      job,
      now: deps.clock(),
      title: `Already open: #${existing.number} applies ${recipe.id} to ${base}`,
      summary: `A pull request for this fix into \`${base}\` is open already: ${existing.url}. No second one is opened.`,
    });
    return { status: "exists", pullRequest: existing.url, number: existing.number, branch: existing.headRef };
  }

  return withWorkspace(deps, async (dest) => {
    const source = deps.cloneUrl(repo.owner, repo.name, data.cloneUrl);
    const auth = isHttps(source) ? { authHeader: tokenHeader(await gh.token()) } : {};
    const co = await deps.checkout({ source, ref: head, dest, ...auth });
    await deps.prepare(co.dir);
    const request = cycleRequest(deps, {
      repo: current,
      config: sync.config,
      root: co.dir,
      sha: head,
      trigger: "apply",
      runKey: job.id,
      scopes: ["all"],
      collectData: current.dataCollection,
      recipeIds: [recipe.id],
    });
    if (request.recipes.length === 0) {
      const reason = `${recipe.id} is disabled in .github/odavl.yml`;
      await answerNotApplied(gh.api, ref, { head, job, reason, summary: null, now: deps.clock() });
      return { status: "not-applied", reason, head };
    }
    const summary = await observedCycle(deps, request);
    const result = summary.results.find((r) => r.candidate.recipe.id === recipe.id && r.candidate.scope === "all");
    if (!result?.outcome?.success) {
      const reason = !result
        ? `${recipe.id} no longer changes anything on ${head.slice(0, 7)}`
        : `${recipe.id} did not pass verification on ${head.slice(0, 7)}`;
      await answerNotApplied(gh.api, ref, { head, job, reason, summary, now: deps.clock() });
      log.info({ reason }, "fix not applied");
      return { status: "not-applied", reason, head };
    }
    if (target.fork) {
      // A fork's commit: nothing is written to the base repository (its branch is not the contributor's code),
      // and the fork cannot be written to; the verified fix is offered as a patch instead.
      const patch = result.candidate.files.map((f) => unifiedDiff(f.path, f.before, f.after)).join("\n");
      await answerApply(gh.api, ref, {
        head,
        job,
        now: deps.clock(),
        title: `Fork pull request: ${recipe.id} is offered as a patch, not applied`,
        summary:
          `This commit comes from a fork, so ODAVL opens no pull request for it (it would target the base ` +
          `repository's branch, not the contributor's code). The fix passed verification on \`${head.slice(0, 7)}\`; ` +
          "the contributor can apply this patch with `git apply`:",
        text: `\`\`\`diff\n${patch.slice(0, MAX_PATCH_CHARS)}\n\`\`\``,
      });
      log.info("fork commit: the fix was offered as a patch");
      return { status: "not-applied", reason: "fork: offered as a patch", head };
    }
    const shown = await asShown(deps, repo.id, data.checkRunId, result);
    const title = `ODAVL: ${recipe.title}`;
    const pr = await openFixPullRequest(gh.api, ref, {
      workdir: co.dir,
      headSha: head,
      base,
      branch,
      files: result.candidate.files,
      title,
      body: renderPullRequestBody({
        cycle: summary,
        result: shown,
        base,
        headSha: head,
        requestedBy: data.requestedBy,
      }),
    });
    log.info({ pullRequest: pr.url }, "opened the pull request of a fix");
    await recordFixPullRequest(deps.db, {
      repositoryId: repo.id,
      number: pr.number,
      branch,
      base,
      title,
      recipeId: recipe.id,
      cycleId: summary.id,
      patchHash: result.candidate.patchHash,
      headSha: head,
      commitSha: pr.headSha,
      trust: shown.prediction.trust,
      tier: shown.prediction.tier,
      origin: "apply",
    });
    if (target.pullRequest !== null) {
      // Into a pull request's branch, not the default branch: the check run says so.
      await answerApply(gh.api, ref, {
        head,
        job,
        now: deps.clock(),
        title: `Opened #${pr.number} into ${base}, the branch of pull request #${target.pullRequest}`,
        summary: `The fix targets the branch of pull request #${target.pullRequest} (\`${base}\`), not the default branch: ${pr.url}`,
      });
    }
    return { status: "opened", pullRequest: pr.url, number: pr.number, branch };
  });
}

/** The longest patch shown in a check run (GitHub limits a check run's text to 65535 characters). */
const MAX_PATCH_CHARS = 60_000;

interface ApplyTarget {
  /** The branch the fix is made on and its pull request merges into. */
  base: string;
  /** The pull request whose branch that is, when the check run was on one. */
  pullRequest: number | null;
  /** The commit is a fork's: never applied to a branch of this repository. */
  fork: boolean;
  /** The base branch's head, when it was read already. */
  head?: string | null;
}

/**
 * Where a fix goes. A check run of this repository's pull request: that pull request's branch. A check run on the
 * default branch: the default branch, once its commit is known to be on it. Anything else is a fork's pull request
 * (GitHub lists no pull request on its check runs, and its head branch names the fork's branch, which may share a
 * name with one of ours).
 */
async function applyTarget(
  api: GitHubApi,
  ref: RepoRef,
  defaultBranch: string,
  data: { headSha: string; headBranch: string | null; pullRequests: number[] },
): Promise<ApplyTarget> {
  const number = data.pullRequests[0];
  if (number !== undefined) {
    const pr = await api.getPullRequest(ref, number);
    const own = pr.headRepository === null || pr.headRepository === `${ref.owner}/${ref.repo}`;
    return own
      ? { base: pr.headRef, pullRequest: number, fork: false }
      : { base: pr.headRef, pullRequest: null, fork: true };
  }
  const branch = data.headBranch ?? defaultBranch;
  if (branch !== defaultBranch) return { base: branch, pullRequest: null, fork: true };
  const head = await api.getBranchHead(ref, branch);
  if (head === data.headSha || (head !== null && (await api.isOnBranch(ref, branch, data.headSha)))) {
    return { base: branch, pullRequest: null, fork: false, head };
  }
  return { base: branch, pullRequest: null, fork: true };
}

/** The answer to an Apply press, as the apply check run on the head. */
async function answerApply(
  api: GitHubApi,
  ref: RepoRef,
  p: { head: string; job: JobInfo; now: Date; title: string; summary: string; text?: string },
): Promise<void> {
  const output = { title: p.title.slice(0, 255), summary: p.summary, ...(p.text ? { text: p.text } : {}) };
  await putCompletedCheckRun(api, ref, {
    name: APPLY_CHECK_RUN_NAME,
    headSha: p.head,
    externalId: p.job.id,
    conclusion: "neutral",
    now: p.now,
    output,
    mine: (c) => c.externalId === p.job.id,
  });
}

/** Pressing "Apply" must give an answer: when there is no pull request, a check run on the head says why. */
async function answerNotApplied(
  api: GitHubApi,
  ref: RepoRef,
  p: { head: string; job: JobInfo; reason: string; summary: CycleSummary | null; now: Date },
): Promise<void> {
  const rendered = p.summary ? renderSummary(p.summary) : null;
  await answerApply(api, ref, {
    head: p.head,
    job: p.job,
    now: p.now,
    title: `No pull request: ${p.reason}`,
    summary: `The fix was planned and verified again on \`${p.head.slice(0, 7)}\` before opening a pull request.${
      rendered ? `\n\n${rendered.summary}` : ""
    }`,
    ...(rendered ? { text: rendered.text } : {}),
  });
}

/**
 * The fix as the check run showed it: the same patch keeps the trust the maintainer saw when pressing Apply (the
 * re-verification's own prediction may differ, its history now holding the cycle's outcomes). A patch that changed
 * on the current head is a new fix, shown with its new trust.
 */
async function asShown(
  deps: WorkerDeps,
  repositoryId: number,
  checkRunId: number,
  result: CandidateResult,
): Promise<CandidateResult> {
  const shown = await shownPrediction(deps.db, { repositoryId, checkRunId, patchHash: result.candidate.patchHash });
  return shown ? { ...result, prediction: { ...result.prediction, ...shown } } : result;
}
