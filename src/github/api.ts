/**
 * Every GitHub endpoint the app uses, one function each, behind one interface. The worker gets either an
 * installation's client or the shadow client, which refuses every call: shadow repositories are never written to,
 * and their cycles need nothing from the API.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ProbotOctokit } from "probot";
import { GitHubRateLimitError, httpCloneUrl } from "./octokit.js";

export type Octokit = InstanceType<typeof ProbotOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

export type CheckConclusion = "success" | "neutral" | "failure" | "skipped" | "cancelled";

export interface Annotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
  raw_details?: string;
}

export interface CheckRunAction {
  /** At most 20 characters: comes back in `check_run.requested_action.identifier`. */
  identifier: string;
  /** At most 20 characters. */
  label: string;
  /** At most 40 characters. */
  description: string;
}

export interface CheckRunOutput {
  title: string;
  summary: string;
  text?: string;
  /** At most 50 per request; later requests add to the earlier ones. */
  annotations?: Annotation[];
}

export interface CheckRunCreate {
  name: string;
  headSha: string;
  externalId: string;
  status: "in_progress" | "completed";
  conclusion?: CheckConclusion;
  startedAt?: Date;
  completedAt?: Date;
  output: CheckRunOutput;
}

export interface CheckRunUpdate {
  status?: "in_progress" | "completed";
  conclusion?: CheckConclusion;
  completedAt?: Date;
  output?: CheckRunOutput;
  actions?: CheckRunAction[];
}

export interface CheckRunInfo {
  id: number;
  externalId: string | null;
  status: string;
  /** null until it is completed. */
  conclusion: string | null;
  /** What it shows (to tell whether a new report would change anything). */
  output: { title: string | null; summary: string | null; text: string | null };
  annotationsCount: number;
}

export interface PullRequestInfo {
  number: number;
  url: string;
  headRef: string;
  headSha: string;
  state: "open" | "closed";
  /** The branch it merges into, and the repository its head lives in (`owner/name`; another one: a fork). */
  baseRef: string | null;
  headRepository: string | null;
}

export interface TreeEntry {
  path: string;
  mode: "100644" | "100755";
  content: string;
}

export interface GitHubApi {
  readonly kind: "installation";
  // Reads.
  /** `cloneUrl`: the repository's `clone_url`, when GitHub gives an http(s) one. */
  getRepository(r: RepoRef): Promise<{ githubId: number; defaultBranch: string; cloneUrl?: string }>;
  /** A file's text, blob sha and size; null when there is no such file. */
  getFile(r: RepoRef, path: string, ref: string): Promise<{ text: string; sha: string; size: number } | null>;
  lastCommitTouching(r: RepoRef, path: string, ref: string): Promise<{ sha: string; author: string | null } | null>;
  getPullRequest(r: RepoRef, number: number): Promise<PullRequestInfo>;
  getBranchHead(r: RepoRef, branch: string): Promise<string | null>;
  /** True when the commit is the branch's head or in its history (GitHub's compare: identical or behind). */
  isOnBranch(r: RepoRef, branch: string, sha: string): Promise<boolean>;
  findCheckRuns(r: RepoRef, sha: string, name: string): Promise<CheckRunInfo[]>;
  listOpenPullRequests(r: RepoRef): Promise<PullRequestInfo[]>;
  // Writes.
  createCheckRun(r: RepoRef, params: CheckRunCreate): Promise<{ id: number }>;
  updateCheckRun(r: RepoRef, id: number, params: CheckRunUpdate): Promise<void>;
  createTree(r: RepoRef, baseTree: string, entries: readonly TreeEntry[]): Promise<string>;
  createCommit(r: RepoRef, message: string, tree: string, parents: readonly string[]): Promise<string>;
  createBranch(r: RepoRef, branch: string, sha: string): Promise<void>;
  moveBranch(r: RepoRef, branch: string, sha: string): Promise<void>;
  createPullRequest(
    r: RepoRef,
    p: { title: string; head: string; base: string; body: string },
  ): Promise<PullRequestInfo>;
}

/** An installation's API client and the token for cloning (never written anywhere). */
export interface InstallationGitHub {
  api: GitHubApi;
  token(): Promise<string>;
}

/** GitHub answered with an error status. */
export class GitHubRequestError extends Error {
  constructor(
    readonly status: number,
    readonly endpoint: string,
    readonly target: string,
    message: string,
  ) {
    super(`GitHub ${endpoint} on ${target} failed (${status}): ${message}`);
    this.name = "GitHubRequestError";
  }
}

/** A write outside `odavl/` branches: the app never pushes anywhere else, the default branch least of all. */
class ForbiddenRefError extends Error {
  constructor(readonly ref: string) {
    super(`refusing to write ref ${ref}: only odavl/ branches are written`);
    this.name = "ForbiddenRefError";
  }
}

export const FIX_BRANCH_PREFIX = "odavl/";

function assertFixBranch(branch: string): void {
  if (!branch.startsWith(FIX_BRANCH_PREFIX) || branch.includes("..")) throw new ForbiddenRefError(branch);
}

export function statusOf(err: unknown): number | null {
  if (err instanceof GitHubRequestError) return err.status;
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : null;
}

async function call<T>(endpoint: string, r: RepoRef, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    const status = statusOf(err);
    if (status === null) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new GitHubRequestError(status, endpoint, `${r.owner}/${r.repo}`, message);
  }
}

function toPullRequest(p: {
  number: number;
  html_url: string;
  state: string;
  head: { ref: string; sha: string; repo?: { full_name: string } | null };
  base?: { ref: string } | null;
}): PullRequestInfo {
  return {
    number: p.number,
    url: p.html_url,
    headRef: p.head.ref,
    headSha: p.head.sha,
    state: p.state === "open" ? "open" : "closed",
    baseRef: p.base?.ref ?? null,
    headRepository: p.head.repo?.full_name ?? null,
  };
}

/** Check-run fields in GitHub's names; undefined fields are left out of the request. */
function checkRunBody(p: CheckRunUpdate & Partial<CheckRunCreate>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (p.name !== undefined) body.name = p.name;
  if (p.headSha !== undefined) body.head_sha = p.headSha;
  if (p.externalId !== undefined) body.external_id = p.externalId;
  if (p.status !== undefined) body.status = p.status;
  if (p.conclusion !== undefined) body.conclusion = p.conclusion;
  if (p.startedAt !== undefined) body.started_at = p.startedAt.toISOString();
  if (p.completedAt !== undefined) body.completed_at = p.completedAt.toISOString();
  if (p.output !== undefined) body.output = p.output;
  if (p.actions !== undefined) body.actions = p.actions;
  return body;
}

/** Attempts at creating a check run when GitHub answers 5xx (each after looking for the run it may have made). */
const CREATE_ATTEMPTS = 3;
const CREATE_BACKOFF_MS = 1_000;

export function createGitHubApi(octokit: Octokit): GitHubApi {
  return {
    kind: "installation",

    getRepository: (r) =>
      call("GET repo", r, async () => {
        const { data } = await octokit.request("GET /repos/{owner}/{repo}", { ...r });
        const cloneUrl = httpCloneUrl(data.clone_url);
        return { githubId: Number(data.id), defaultBranch: data.default_branch, ...(cloneUrl ? { cloneUrl } : {}) };
      }),

    getFile: (r, path, ref) =>
      call("GET contents", r, async () => {
        try {
          const { data } = await octokit.request("GET /repos/{owner}/{repo}/contents/{path}", { ...r, path, ref });
          if (Array.isArray(data) || data.type !== "file" || !("content" in data)) return null;
          // GitHub leaves the content out of files over 1 MB; the size says so.
          const text = data.encoding === "base64" ? Buffer.from(data.content, "base64").toString("utf8") : "";
          return { text, sha: data.sha, size: data.size };
        } catch (err) {
          if (statusOf(err) === 404) return null;
          throw err;
        }
      }),

    lastCommitTouching: (r, path, ref) =>
      call("GET commits", r, async () => {
        const { data } = await octokit.request("GET /repos/{owner}/{repo}/commits", {
          ...r,
          path,
          sha: ref,
          per_page: 1,
        });
        const c = data[0];
        return c ? { sha: c.sha, author: c.author?.login ?? c.commit.author?.name ?? null } : null;
      }),

    getPullRequest: (r, number) =>
      call("GET pull", r, async () => {
        const { data } = await octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
          ...r,
          pull_number: number,
        });
        return toPullRequest(data);
      }),

    isOnBranch: (r, branch, sha) =>
      call("GET compare", r, async () => {
        try {
          const { data } = await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
            ...r,
            basehead: `${branch}...${sha}`,
            per_page: 1,
          });
          return data.status === "identical" || data.status === "behind";
        } catch (err) {
          // Not in this repository's network (or the branch is gone): not on the branch.
          if (statusOf(err) === 404) return false;
          throw err;
        }
      }),

    getBranchHead: (r, branch) =>
      call("GET ref", r, async () => {
        try {
          const { data } = await octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
            ...r,
            ref: `heads/${branch}`,
          });
          return data.object.sha;
        } catch (err) {
          if (statusOf(err) === 404) return null;
          throw err;
        }
      }),

    findCheckRuns: (r, sha, name) =>
      call("GET check-runs", r, async () => {
        const { data } = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
          ...r,
          ref: sha,
          check_name: name,
          filter: "all",
          per_page: 100,
        });
        return data.check_runs.map((c) => ({
          id: Number(c.id),
          externalId: c.external_id ?? null,
          status: c.status,
          conclusion: c.conclusion ?? null,
          output: { title: c.output?.title ?? null, summary: c.output?.summary ?? null, text: c.output?.text ?? null },
          annotationsCount: c.output?.annotations_count ?? 0,
        }));
      }),

    listOpenPullRequests: (r) =>
      call("GET pulls", r, async () => {
        const pulls = await octokit.paginate("GET /repos/{owner}/{repo}/pulls", { ...r, state: "open", per_page: 100 });
        return pulls.map(toPullRequest);
      }),

    createCheckRun: (r, params) =>
      call("POST check-runs", r, async () => {
        // A POST that failed with a 5xx (or whose answer was lost) may still have created the check run, so it
        // is not retried blindly (the retry plugin is off for it): the run is looked up by its external id first,
        // and created again only when GitHub does not have it.
        for (let attempt = 1; ; attempt++) {
          try {
            const { data } = await octokit.request("POST /repos/{owner}/{repo}/check-runs", {
              ...r,
              ...(checkRunBody(params) as { name: string; head_sha: string }),
              request: { retries: 0 },
            });
            return { id: Number(data.id) };
          } catch (err) {
            const status = statusOf(err);
            const transient = status === null ? !(err instanceof GitHubRateLimitError) : status >= 500;
            if (!transient || attempt >= CREATE_ATTEMPTS) throw err;
            const { data } = await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
              ...r,
              ref: params.headSha,
              check_name: params.name,
              filter: "all",
              per_page: 100,
            });
            const existing = data.check_runs.find((c) => c.external_id === params.externalId);
            if (existing) return { id: Number(existing.id) };
            await sleep(CREATE_BACKOFF_MS * attempt ** 2);
          }
        }
      }),

    updateCheckRun: (r, id, params) =>
      call("PATCH check-run", r, async () => {
        await octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
          ...r,
          check_run_id: id,
          ...checkRunBody(params),
        });
      }),

    createTree: (r, baseTree, entries) =>
      call("POST trees", r, async () => {
        const { data } = await octokit.request("POST /repos/{owner}/{repo}/git/trees", {
          ...r,
          base_tree: baseTree,
          tree: entries.map((e) => ({ path: e.path, mode: e.mode, type: "blob" as const, content: e.content })),
        });
        return data.sha;
      }),

    createCommit: (r, message, tree, parents) =>
      call("POST commits", r, async () => {
        const { data } = await octokit.request("POST /repos/{owner}/{repo}/git/commits", {
          ...r,
          message,
          tree,
          parents: [...parents],
        });
        return data.sha;
      }),

    createBranch: (r, branch, sha) => {
      assertFixBranch(branch);
      return call("POST refs", r, async () => {
        await octokit.request("POST /repos/{owner}/{repo}/git/refs", { ...r, ref: `refs/heads/${branch}`, sha });
      });
    },

    moveBranch: (r, branch, sha) => {
      assertFixBranch(branch);
      return call("PATCH ref", r, async () => {
        await octokit.request("PATCH /repos/{owner}/{repo}/git/refs/{ref}", {
          ...r,
          ref: `heads/${branch}`,
          sha,
          force: true,
        });
      });
    },

    createPullRequest: (r, p) => {
      assertFixBranch(p.head);
      return call("POST pulls", r, async () => {
        const { data } = await octokit.request("POST /repos/{owner}/{repo}/pulls", {
          ...r,
          title: p.title,
          head: p.head,
          base: p.base,
          body: p.body,
          maintainer_can_modify: true,
        });
        return toPullRequest(data);
      });
    },
  };
}
