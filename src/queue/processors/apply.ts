/**
 * An apply job (a maintainer pressed "Apply"): plan the recipe again on the branch's current head, verify it,
 * and open the pull request only when it still verifies. When it does not, a check run on that head says why.
 */
import { UnrecoverableError } from "bullmq";
import { findRepositoryById } from "../../db/queries/repositories.js";
import type { CycleSummary } from "../../engine/types.js";
import { recipeForAction } from "../../github/actions.js";
import type { GitHubApi, RepoRef } from "../../github/api.js";
import { fixBranchName, openFixPullRequest, renderPullRequestBody } from "../../github/pull-request.js";
import { syncRepoConfig } from "../../github/repo-config-sync.js";
import { jobTags } from "../../observability/errors.js";
import { renderSummary } from "../../report/summary.js";
import { applyJobSchema } from "../jobs.js";
import {
  cycleRequest,
  isHttps,
  type JobInfo,
  observedCycle,
  parsePayload,
  tokenHeader,
  type WorkerDeps,
  withWorkspace,
} from "./context.js";
import { pausedReason } from "./cycle.js";

export const APPLY_CHECK_RUN_NAME = "ODAVL Apply";

export type ApplyJobResult =
  | { status: "skipped"; reason: string }
  | { status: "opened" | "exists"; pullRequest: string; number: number; branch: string }
  | { status: "not-applied"; reason: string; head: string };

export async function processApplyJob(job: JobInfo, deps: WorkerDeps): Promise<ApplyJobResult> {
  const data = parsePayload(applyJobSchema, job);
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

  const sync = await syncRepoConfig({ db: deps.db, api: gh.api, schedules: deps.schedules }, repo, ref);
  const current = (await findRepositoryById(deps.db, repo.id)) ?? repo;
  const base = data.headBranch ?? current.defaultBranch;
  const head = await gh.api.getBranchHead(ref, base);
  if (head === null) {
    return { status: "not-applied", reason: `branch ${base} no longer exists`, head: data.headSha };
  }
  const branch = fixBranchName(recipe.id, head);
  const existing = (await gh.api.listOpenPullRequests(ref)).find((pr) => pr.headRef === branch);
  if (existing) {
    return { status: "exists", pullRequest: existing.url, number: existing.number, branch };
  }

  return withWorkspace(deps, async (dest) => {
    const source = deps.cloneUrl(repo.owner, repo.name);
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
      await reportNotApplied(gh.api, ref, { head, job, reason, summary: null, now: deps.clock() });
      return { status: "not-applied", reason, head };
    }
    const summary = await observedCycle(deps, request);
    const result = summary.results.find((r) => r.candidate.recipe.id === recipe.id && r.candidate.scope === "all");
    if (!result?.outcome?.success) {
      const reason = !result
        ? `${recipe.id} no longer changes anything on ${head.slice(0, 7)}`
        : `${recipe.id} did not pass verification on ${head.slice(0, 7)}`;
      await reportNotApplied(gh.api, ref, { head, job, reason, summary, now: deps.clock() });
      log.info({ reason }, "fix not applied");
      return { status: "not-applied", reason, head };
    }
    const pr = await openFixPullRequest(gh.api, ref, {
      workdir: co.dir,
      headSha: head,
      base,
      branch,
      files: result.candidate.files,
      title: `ODAVL: ${recipe.title}`,
      body: renderPullRequestBody({ cycle: summary, result, base, headSha: head, requestedBy: data.requestedBy }),
    });
    log.info({ pullRequest: pr.url }, "opened the pull request of a fix");
    return { status: "opened", pullRequest: pr.url, number: pr.number, branch };
  });
}

/** Pressing "Apply" must give an answer: when there is no pull request, a check run on the head says why. */
async function reportNotApplied(
  api: GitHubApi,
  ref: RepoRef,
  p: { head: string; job: JobInfo; reason: string; summary: CycleSummary | null; now: Date },
): Promise<void> {
  const rendered = p.summary ? renderSummary(p.summary) : null;
  const output = {
    title: `No pull request: ${p.reason}`,
    summary: `The fix was planned and verified again on \`${p.head.slice(0, 7)}\` before opening a pull request.${
      rendered ? `\n\n${rendered.summary}` : ""
    }`,
    ...(rendered ? { text: rendered.text } : {}),
  };
  const [existing] = (await api.findCheckRuns(ref, p.head, APPLY_CHECK_RUN_NAME)).filter(
    (c) => c.externalId === p.job.id,
  );
  if (existing) {
    await api.updateCheckRun(ref, existing.id, {
      status: "completed",
      conclusion: "neutral",
      completedAt: p.now,
      output,
    });
    return;
  }
  await api.createCheckRun(ref, {
    name: APPLY_CHECK_RUN_NAME,
    headSha: p.head,
    externalId: p.job.id,
    status: "completed",
    conclusion: "neutral",
    startedAt: p.now,
    completedAt: p.now,
    output,
  });
}
