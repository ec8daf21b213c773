/** Webhook payloads: the fixtures under test/fixtures/github, with the fields a test cares about replaced. */
import { readFileSync } from "node:fs";
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
