/**
 * Strict GitHub mocks: no test reaches the network, a request that no mock matches fails the test, and so does a
 * mock that was never used. One helper per endpoint, each recording the requests it answered.
 */
import "./node20.js";
import nock from "nock";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { type ApiDescription, noteRequest, takeViolations } from "./openapi.js";

export const API = "https://api.github.com";
const LOCAL = /^(127\.0\.0\.1|localhost)(:\d+)?$/;

export interface StrictNock {
  /** Requests no mock matched (outside localhost), in order. */
  unmatched: string[];
}

/** Installs strict nock for the calling test file. */
export function useStrictNock(): StrictNock {
  const state: StrictNock = { unmatched: [] };
  const onNoMatch = (req: { method?: string; href?: string; url?: string }) => {
    const href = String(req.href ?? req.url ?? "");
    let host = "";
    try {
      host = new URL(href).host;
    } catch {
      host = href;
    }
    if (!LOCAL.test(host)) state.unmatched.push(`${req.method ?? "?"} ${href}`);
  };
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect(LOCAL);
    nock.emitter.on("no match", onNoMatch);
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    const unmatched = state.unmatched.splice(0);
    const violations = takeViolations();
    nock.cleanAll();
    expect(unmatched, "GitHub requests that no mock matched").toEqual([]);
    expect(violations, "GitHub requests that break GitHub's REST description").toEqual([]);
    expect(pending, "GitHub mocks that were never used").toEqual([]);
  });
  afterAll(() => {
    nock.emitter.removeListener("no match", onNoMatch);
    nock.enableNetConnect();
  });
  return state;
}

/** A nock scope whose every answered request is checked against GitHub's REST description. */
export function checkedScope(base: string = API, description: ApiDescription = "api.github.com") {
  return nock(base).on("request", (req: { method?: string; url?: string }, _interceptor: unknown, body?: string) => {
    noteRequest(req.method ?? "GET", String(req.url), body, description);
  });
}

export interface Call {
  method: string;
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: request bodies are JSON.
  body: any;
}

const pathOf = (uri: string) => decodeURIComponent(uri.split("?")[0] ?? uri);
type Query = Record<string, string | string[] | undefined>;

export class GitHubMock {
  readonly calls: Call[] = [];

  constructor(
    readonly owner: string,
    readonly repo: string,
    /** The API's base URL (GitHub Enterprise Server: `https://host/api/v3`), and the description it follows. */
    readonly api: string = API,
    readonly description: ApiDescription = "api.github.com",
  ) {}

  /** The API's path prefix: none on GitHub.com, `/api/v3` on GitHub Enterprise Server. */
  get prefix(): string {
    return new URL(this.api).pathname.replace(/\/$/, "");
  }

  get base(): string {
    return `${this.prefix}/repos/${this.owner}/${this.repo}`;
  }

  /** Requests of one kind, e.g. ("PATCH", "/check-runs/"). */
  find(method: string, pathPart: string): Call[] {
    return this.calls.filter((c) => c.method === method && c.path.includes(pathPart));
  }

  /** nock 15 gives a reply function the request as a Fetch Request. */
  private async record(method: string, req: Request): Promise<Call["body"]> {
    const text = await req.text();
    const body = text ? JSON.parse(text) : null;
    this.calls.push({ method, path: decodeURIComponent(new URL(req.url).pathname), body });
    return body;
  }

  private scope() {
    return checkedScope(new URL(this.api).origin, this.description);
  }

  accessToken(installationId: number): this {
    this.scope()
      .post(`${this.prefix}/app/installations/${installationId}/access_tokens`)
      .reply(201, {
        token: "ghs_testinstallationtoken",
        expires_at: "2099-01-01T00:00:00Z",
        permissions: { checks: "write", contents: "write", metadata: "read", pull_requests: "write" },
        repository_selection: "selected",
      });
    return this;
  }

  /** The installation token refused: GitHub's answer for a suspended installation. */
  accessTokenSuspended(installationId: number): this {
    this.scope()
      .post(`${this.prefix}/app/installations/${installationId}/access_tokens`)
      .reply(403, { message: "This installation has been suspended", documentation_url: "https://docs.github.com" });
    return this;
  }

  /** The repository is no longer visible to the app (deleted, or access withdrawn). */
  repositoryGone(): this {
    this.scope()
      .get((uri) => pathOf(uri) === this.base)
      .reply(404, { message: "Not Found" });
    return this;
  }

  repository(defaultBranch = "main", githubId = 1001, cloneUrl?: string): this {
    this.scope()
      .get((uri) => pathOf(uri) === this.base)
      .reply(200, {
        id: githubId,
        name: this.repo,
        full_name: `${this.owner}/${this.repo}`,
        default_branch: defaultBranch,
        ...(cloneUrl ? { clone_url: cloneUrl } : {}),
      });
    return this;
  }

  /** `.github/odavl.yml` on a ref: its text, or null for "no such file". */
  configFile(text: string | null, blobSha = "c0ffee0000000000000000000000000000000000"): this {
    const interceptor = this.scope()
      .get((uri) => pathOf(uri) === `${this.base}/contents/.github/odavl.yml`)
      .query(true);
    if (text === null) interceptor.reply(404, { message: "Not Found" });
    else {
      interceptor.reply(200, {
        type: "file",
        name: "odavl.yml",
        path: ".github/odavl.yml",
        encoding: "base64",
        size: text.length,
        sha: blobSha,
        content: Buffer.from(text).toString("base64"),
      });
    }
    return this;
  }

  lastCommit(author = "maintainer"): this {
    this.scope()
      .get((uri) => pathOf(uri) === `${this.base}/commits`)
      .query((q: Query) => q.path === ".github/odavl.yml")
      .reply(200, [
        {
          sha: "d00d000000000000000000000000000000000000",
          author: { login: author },
          commit: { author: { name: author } },
        },
      ]);
    return this;
  }

  branchHead(branch: string, sha: string | null): this {
    const interceptor = this.scope().get((uri) => pathOf(uri) === `${this.base}/git/ref/heads/${branch}`);
    if (sha === null) interceptor.reply(404, { message: "Not Found" });
    else interceptor.reply(200, { ref: `refs/heads/${branch}`, object: { type: "commit", sha } });
    return this;
  }

  pullRequest(
    number: number,
    p: { headSha: string; state?: "open" | "closed"; headRef?: string; headRepository?: string; baseRef?: string },
  ): this {
    this.scope()
      .get((uri) => pathOf(uri) === `${this.base}/pulls/${number}`)
      .reply(200, {
        number,
        state: p.state ?? "open",
        html_url: `https://github.com/${this.owner}/${this.repo}/pull/${number}`,
        head: {
          ref: p.headRef ?? "feature",
          sha: p.headSha,
          repo: { full_name: p.headRepository ?? `${this.owner}/${this.repo}` },
        },
        base: { ref: p.baseRef ?? "main" },
      });
    return this;
  }

  /** GitHub's compare of `branch...sha`: "behind"/"identical" when the commit is on the branch; 404 outside. */
  compare(branch: string, sha: string, status: "identical" | "behind" | "ahead" | "diverged" | 404): this {
    const interceptor = this.scope()
      .get((uri) => pathOf(uri) === `${this.base}/compare/${branch}...${sha}`)
      .query(true);
    if (status === 404) interceptor.reply(404, { message: "Not Found" });
    else interceptor.reply(200, { status, ahead_by: 0, behind_by: 0, commits: [], files: [] });
    return this;
  }

  findCheckRuns(
    sha: string,
    name: string,
    runs: {
      id: number;
      external_id: string;
      annotations_count?: number;
      status?: "in_progress" | "completed";
      conclusion?: string;
      output?: { title: string; summary: string; text?: string };
    }[],
  ): this {
    this.scope()
      .get((uri) => pathOf(uri) === `${this.base}/commits/${sha}/check-runs`)
      .query((q: Query) => q.check_name === name)
      .reply(200, {
        total_count: runs.length,
        check_runs: runs.map((r) => ({
          id: r.id,
          name,
          external_id: r.external_id,
          status: r.status ?? "in_progress",
          conclusion: r.conclusion ?? null,
          output: { ...r.output, annotations_count: r.annotations_count ?? 0 },
        })),
      });
    return this;
  }

  createCheckRun(id: number): this {
    this.scope()
      .post(`${this.base}/check-runs`)
      .reply(201, async (req: Request) => {
        const body = await this.record("POST", req);
        return { id, name: (body as { name?: string }).name, status: (body as { status?: string }).status };
      });
    return this;
  }

  updateCheckRun(id: number, times = 1): this {
    this.scope()
      .patch(`${this.base}/check-runs/${id}`)
      .times(times)
      .reply(200, async (req: Request) => {
        await this.record("PATCH", req);
        return { id };
      });
    return this;
  }

  listPulls(pulls: { number: number; headRef: string; headSha?: string; baseRef?: string }[]): this {
    this.scope()
      .get((uri) => pathOf(uri) === `${this.base}/pulls`)
      .query((q: Query) => q.state === "open")
      .reply(
        200,
        pulls.map((p) => ({
          number: p.number,
          state: "open",
          html_url: `https://github.com/${this.owner}/${this.repo}/pull/${p.number}`,
          head: { ref: p.headRef, sha: p.headSha ?? "0".repeat(40) },
          base: { ref: p.baseRef ?? "main" },
        })),
      );
    return this;
  }

  createTree(sha = "7ee0000000000000000000000000000000000000"): this {
    this.scope()
      .post(`${this.base}/git/trees`)
      .reply(201, async (req: Request) => {
        await this.record("POST", req);
        return { sha };
      });
    return this;
  }

  createCommit(sha = "c0c0000000000000000000000000000000000000"): this {
    this.scope()
      .post(`${this.base}/git/commits`)
      .reply(201, async (req: Request) => {
        await this.record("POST", req);
        return { sha };
      });
    return this;
  }

  createRef(): this {
    this.scope()
      .post(`${this.base}/git/refs`)
      .reply(201, async (req: Request) => {
        const body = await this.record("POST", req);
        return { ref: (body as { ref?: string }).ref, object: { sha: (body as { sha?: string }).sha } };
      });
    return this;
  }

  createPull(number: number): this {
    this.scope()
      .post(`${this.base}/pulls`)
      .reply(201, async (req: Request) => {
        const body = await this.record("POST", req);
        const b = body as { head: string };
        return {
          number,
          state: "open",
          html_url: `https://github.com/${this.owner}/${this.repo}/pull/${number}`,
          head: { ref: b.head, sha: "c0c0000000000000000000000000000000000000" },
        };
      });
    return this;
  }
}
