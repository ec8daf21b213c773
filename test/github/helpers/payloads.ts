/** Webhook payloads: the fixtures under test/fixtures/github, with the fields a test cares about replaced. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const FIXTURES = join(import.meta.dirname, "../../fixtures/github");

export type FixtureName =
  | "push"
  | "pull_request.opened"
  | "check_suite.rerequested"
  | "check_run.requested_action"
  | "installation.created"
  | "installation.deleted"
  | "installation_repositories.removed";

// biome-ignore lint/suspicious/noExplicitAny: payloads are edited as plain JSON.
export type Payload = Record<string, any>;

export function fixture(name: FixtureName): Payload {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as Payload;
}

export interface RepoIdentity {
  owner: string;
  name: string;
  githubId: number;
  installationId: number;
  defaultBranch?: string;
}

function withRepo(p: Payload, r: RepoIdentity): Payload {
  p.repository = {
    ...p.repository,
    id: r.githubId,
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    owner: { ...p.repository.owner, login: r.owner },
    default_branch: r.defaultBranch ?? "main",
    clone_url: `https://github.com/${r.owner}/${r.name}.git`,
  };
  p.installation = { ...p.installation, id: r.installationId };
  return p;
}

export function pushPayload(r: RepoIdentity, sha: string, branch = r.defaultBranch ?? "main"): Payload {
  const p = withRepo(fixture("push"), r);
  p.ref = `refs/heads/${branch}`;
  p.after = sha;
  return p;
}

export function pullRequestPayload(r: RepoIdentity, p: { number: number; headSha: string; headRef?: string }): Payload {
  const payload = withRepo(fixture("pull_request.opened"), r);
  payload.number = p.number;
  payload.pull_request.number = p.number;
  payload.pull_request.head.sha = p.headSha;
  payload.pull_request.head.ref = p.headRef ?? "feature";
  return payload;
}

export function requestedActionPayload(
  r: RepoIdentity,
  p: {
    checkRunId: number;
    headSha: string;
    identifier: string;
    branch?: string;
    sender?: string;
    pullRequests?: number[];
  },
): Payload {
  const payload = withRepo(fixture("check_run.requested_action"), r);
  payload.check_run.id = p.checkRunId;
  payload.check_run.head_sha = p.headSha;
  payload.check_run.check_suite.head_sha = p.headSha;
  payload.check_run.check_suite.head_branch = p.branch ?? r.defaultBranch ?? "main";
  payload.requested_action.identifier = p.identifier;
  payload.check_run.pull_requests = (p.pullRequests ?? []).map((number) => ({ number }));
  payload.sender.login = p.sender ?? "maintainer";
  return payload;
}

export function installationPayload(
  name: "installation.created" | "installation.deleted",
  installationId: number,
  owner: string,
  repos: { id: number; name: string }[],
): Payload {
  const p = fixture(name);
  p.installation.id = installationId;
  p.installation.account.login = owner;
  p.repositories = repos.map((r) => ({ id: r.id, name: r.name, full_name: `${owner}/${r.name}`, private: false }));
  return p;
}

export function repositoriesRemovedPayload(
  installationId: number,
  owner: string,
  repos: { id: number; name: string }[],
): Payload {
  const p = fixture("installation_repositories.removed");
  p.installation.id = installationId;
  p.installation.account.login = owner;
  p.repositories_removed = repos.map((r) => ({
    id: r.id,
    name: r.name,
    full_name: `${owner}/${r.name}`,
    private: false,
  }));
  return p;
}

const EXAMPLES = createRequire(import.meta.url)("@octokit/webhooks-examples") as {
  name: string;
  examples: Payload[];
}[];

/** GitHub's recorded example (`@octokit/webhooks-examples`): the first of the event that passes `pick`, copied. */
export function recorded(name: string, pick: (p: Payload) => boolean): Payload {
  const found = EXAMPLES.find((e) => e.name === name)?.examples.find(pick);
  if (!found) throw new Error(`no recorded ${name} example`);
  return structuredClone(found);
}

/** Points a recorded payload at one of our repositories (GitHub id, name, owner, default branch, installation). */
export function atRepository(p: Payload, r: RepoIdentity): Payload {
  p.repository = {
    ...p.repository,
    id: r.githubId,
    name: r.name,
    full_name: `${r.owner}/${r.name}`,
    owner: { ...p.repository.owner, login: r.owner },
    default_branch: r.defaultBranch ?? "main",
  };
  p.installation = { ...p.installation, id: r.installationId };
  return p;
}

/**
 * GitHub's recorded `pull_request.closed`, at a fix's pull request: its number, head branch, base and title. The
 * examples have no merged close; for that one, `merged` and `merged_at` say it was merged, as GitHub sends them
 * (the recorded `merge_commit_sha` stays).
 */
export function pullRequestClosedPayload(
  r: RepoIdentity,
  pr: { number: number; branch: string; title: string; base?: string; merged: boolean },
): Payload {
  const p = atRepository(
    recorded("pull_request", (e) => e.action === "closed" && e.installation !== undefined),
    r,
  );
  p.number = pr.number;
  p.pull_request.number = pr.number;
  p.pull_request.title = pr.title;
  p.pull_request.head.ref = pr.branch;
  p.pull_request.base.ref = pr.base ?? r.defaultBranch ?? "main";
  if (pr.merged) {
    p.pull_request.merged = true;
    p.pull_request.merged_at = p.pull_request.closed_at;
  }
  return p;
}

/** GitHub's recorded push of one commit to a branch, the commit's message replaced (a revert, or not). */
export function pushWithMessagePayload(r: RepoIdentity, branch: string, message: string): Payload {
  const p = atRepository(
    recorded("push", (e) => e.ref.startsWith("refs/heads/") && e.commits.length === 1 && e.installation),
    r,
  );
  p.ref = `refs/heads/${branch}`;
  p.commits[0].message = message;
  p.head_commit.message = message;
  return p;
}
