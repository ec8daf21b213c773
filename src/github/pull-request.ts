/**
 * Opening a fix as a pull request, through the Git data API: a tree on top of the verified commit's tree, a
 * commit whose parent is that commit, a branch `odavl/<recipe>-<sha7>`, and the pull request. Only branches under
 * `odavl/` are ever written (the API client refuses any other ref); the base branch only receives what a
 * maintainer merges.
 */
import type { CandidateResult, CycleSummary, FilePatch } from "../engine/types.js";
import { GITHUB_TEXT_LIMIT, renderSummary, truncate } from "../summary/render.js";
import { gitOk } from "../workspace/git.js";
import {
  FIX_BRANCH_PREFIX,
  type GitHubApi,
  type PullRequestInfo,
  type RepoRef,
  statusOf,
  type TreeEntry,
} from "./api.js";

/** `odavl/<recipe>-<sha7>`: one branch per recipe and verified commit. */
export function fixBranchName(recipeId: string, sha: string): string {
  return `${fixBranchPrefix(recipeId)}${sha.slice(0, 7)}`;
}

/** Every autopilot branch of a recipe starts with this (used to find its open pull request). */
export function fixBranchPrefix(recipeId: string): string {
  const slug = recipeId
    .toLowerCase()
    .replace(/[^a-z0-9/_-]+/g, "-")
    .replace(/\/{2,}/g, "/")
    .replace(/^[/-]+|[/-]+$/g, "");
  return `${FIX_BRANCH_PREFIX}${slug}-`;
}

export interface PullRequestBodyInput {
  /** The cycle that verified the fix on `headSha`. */
  cycle: CycleSummary;
  result: CandidateResult;
  base: string;
  headSha: string;
  /** Who pressed "Apply"; null when the repository's autoApply consent opened it. */
  requestedBy: string | null;
}

/** The header says who asked and where; the rest is the one renderer's summary of this fix alone. */
export function renderPullRequestBody(p: PullRequestBodyInput): string {
  const recipe = p.result.candidate.recipe;
  const why =
    p.requestedBy === null
      ? "automatically: this repository consented to `autoApply` in `.github/odavl.yml`, and the fix's trust is in the auto-apply tier"
      : `as requested by \`${p.requestedBy.replaceAll("`", "'")}\` from the check run`;
  const header = [
    `ODAVL Autopilot opened this pull request ${why}.`,
    "",
    `It applies **${recipe.title}** (\`${recipe.id}\`) to \`${p.base}\` at \`${p.headSha.slice(0, 7)}\`, where the fix ` +
      `was verified again before this pull request was opened: trust **${p.result.prediction.trust.toFixed(2)}** ` +
      `(${p.result.prediction.tier}${p.result.prediction.usedML ? `, model ${p.result.prediction.modelVersion ?? ""}` : ", heuristic"}).`,
    "",
    // A blank line: the summary's first line is a paragraph of its own, not the end of the header's.
    "",
  ].join("\n");
  const rendered = renderSummary({ ...p.cycle, results: [p.result], skipped: [] }, { diffPreviewLines: 60 });
  const footer = "\n\n---\nReview it like any change: nothing is merged without you.";
  const body = `${header}${rendered.summary}\n\n${rendered.text}`;
  return (
    truncate(body, GITHUB_TEXT_LIMIT - footer.length, "\n\n_The description was cut to fit GitHub's limit._") + footer
  );
}

export interface OpenFixInput {
  /** The checkout of `headSha` (for the base tree and file modes). */
  workdir: string;
  headSha: string;
  base: string;
  branch: string;
  files: readonly FilePatch[];
  title: string;
  body: string;
}

class UnsupportedFileError extends Error {
  constructor(
    readonly path: string,
    readonly mode: string,
  ) {
    super(`cannot write ${path} through a fix: it is not a regular file (mode ${mode})`);
    this.name = "UnsupportedFileError";
  }
}

/** Opens (or, for a retried job, finds) the pull request of a fix. */
export async function openFixPullRequest(api: GitHubApi, ref: RepoRef, p: OpenFixInput): Promise<PullRequestInfo> {
  const target = `${ref.owner}/${ref.repo}`;
  const gitOptions = { cwd: p.workdir, timeoutMs: 60_000, target };
  const baseTree = (
    await gitOk(["rev-parse", "--verify", `${p.headSha}^{tree}`], { ...gitOptions, operation: "rev-parse" })
  ).trim();
  const modes = await fileModes(
    p.workdir,
    p.headSha,
    p.files.map((f) => f.path),
    target,
  );
  const entries: TreeEntry[] = p.files.map((f) => ({
    path: f.path,
    mode: modes.get(f.path) ?? "100644",
    content: f.after,
  }));
  const tree = await api.createTree(ref, baseTree, entries);
  const commit = await api.createCommit(ref, `${p.title}\n\nVerified by ODAVL Autopilot on ${p.headSha}.`, tree, [
    p.headSha,
  ]);
  try {
    await api.createBranch(ref, p.branch, commit);
  } catch (err) {
    // 422: the branch exists (an earlier attempt of this job): it is ours, so it is moved to this commit.
    if (statusOf(err) !== 422) throw err;
    await api.moveBranch(ref, p.branch, commit);
  }
  try {
    return await api.createPullRequest(ref, { title: p.title, head: p.branch, base: p.base, body: p.body });
  } catch (err) {
    // 422: a pull request for this branch is open already (an earlier attempt got this far).
    if (statusOf(err) !== 422) throw err;
    const existing = (await api.listOpenPullRequests(ref)).find((pr) => pr.headRef === p.branch);
    if (!existing) throw err;
    return existing;
  }
}

async function fileModes(
  dir: string,
  sha: string,
  paths: readonly string[],
  target: string,
): Promise<Map<string, TreeEntry["mode"]>> {
  const out = await gitOk(["ls-tree", "-z", sha, "--", ...paths], {
    cwd: dir,
    timeoutMs: 60_000,
    target,
    operation: "ls-tree",
  });
  const modes = new Map<string, TreeEntry["mode"]>();
  for (const record of out.split("\0")) {
    const match = /^(\d+) \w+ [0-9a-f]+\t(.*)$/s.exec(record);
    if (!match) continue;
    const [, mode = "", path = ""] = match;
    if (mode !== "100644" && mode !== "100755") throw new UnsupportedFileError(path, mode);
    modes.set(path, mode);
  }
  return modes;
}
