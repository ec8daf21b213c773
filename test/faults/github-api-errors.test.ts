/**
 * GitHub answering 5xx, 403 with retry-after and 429 with a rate-limit reset time (nock), through the production
 * Octokit policy (throttling and retries on): retries are bounded and wait as long as GitHub asks, and a check run
 * is never created twice, even when a POST that failed had created it.
 */
import nock from "nock";
import { describe, expect, it } from "vitest";
import { type CheckRunCreate, GitHubRequestError } from "../../src/github/api.js";
import { PRODUCTION_OCTOKIT_POLICY } from "../../src/github/octokit.js";
import { API, useStrictNock } from "../github/helpers/github-mock.js";
import { tokenGitHubApi } from "../github/helpers/probot.js";

const REPO = { owner: "acme", repo: "demo" };
const SHA = "a".repeat(40);
const RUNS = `/repos/acme/demo/commits/${SHA}/check-runs`;
const create: CheckRunCreate = {
  name: "ODAVL Autopilot",
  headSha: SHA,
  externalId: "cycle-r1-aaa-push",
  status: "in_progress",
  output: { title: "t", summary: "s" },
};

async function api() {
  return tokenGitHubApi(PRODUCTION_OCTOKIT_POLICY);
}

describe("GitHub errors and rate limits", () => {
  useStrictNock();

  it("a POST that failed with 502 but created the run: found by its external id, not created twice", async () => {
    nock(API).post("/repos/acme/demo/check-runs").reply(502, { message: "Bad Gateway" });
    nock(API)
      .get(RUNS)
      .query((q) => q.check_name === create.name)
      .reply(200, { total_count: 1, check_runs: [{ id: 77, external_id: create.externalId, status: "in_progress" }] });
    expect(await (await api()).createCheckRun(REPO, create)).toEqual({ id: 77 });
  });

  it("a POST that failed with 500 and created nothing: created once more, after a wait", async () => {
    const created: unknown[] = [];
    nock(API).post("/repos/acme/demo/check-runs").reply(500, { message: "Server Error" });
    nock(API)
      .get(RUNS)
      .query(true)
      .reply(200, { total_count: 1, check_runs: [{ id: 5, external_id: "another-job", status: "completed" }] });
    nock(API)
      .post("/repos/acme/demo/check-runs")
      .reply(() => {
        created.push(1);
        return [201, { id: 78 }];
      });
    const started = Date.now();
    expect(await (await api()).createCheckRun(REPO, create)).toEqual({ id: 78 });
    expect(created).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("gives up on a check run after 3 failed POSTs instead of retrying for ever", async () => {
    for (let i = 0; i < 3; i++) nock(API).post("/repos/acme/demo/check-runs").reply(503, { message: "Unavailable" });
    for (let i = 0; i < 2; i++) nock(API).get(RUNS).query(true).reply(200, { total_count: 0, check_runs: [] });
    const err = await (await api()).createCheckRun(REPO, create).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubRequestError);
    expect(err).toMatchObject({ status: 503, endpoint: "POST check-runs" });
  }, 30_000);

  it("retries a read that answered 5xx, a bounded number of times", async () => {
    nock(API).get("/repos/acme/demo").reply(502, { message: "Bad Gateway" });
    nock(API).get("/repos/acme/demo").reply(200, { id: 1001, default_branch: "main" });
    expect(await (await api()).getRepository(REPO)).toEqual({ githubId: 1001, defaultBranch: "main" });

    // The retry plugin's three retries (after 1, 4 and 9 s), then the error.
    for (let i = 0; i < 4; i++) nock(API).get("/repos/acme/demo").reply(500, { message: "Server Error" });
    const started = Date.now();
    const err = await (await api()).getRepository(REPO).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(14_000);
  }, 60_000);

  it("waits for retry-after on a 403 before creating the run, once", async () => {
    const counter = { count: 0 };
    nock(API)
      .post("/repos/acme/demo/check-runs")
      .reply(() => {
        counter.count++;
        return [403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "2" }];
      });
    nock(API)
      .post("/repos/acme/demo/check-runs")
      .reply(() => {
        counter.count++;
        return [201, { id: 79 }];
      });
    const started = Date.now();
    expect(await (await api()).createCheckRun(REPO, create)).toEqual({ id: 79 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(counter.count).toBe(2);
  });

  it("waits for the rate limit's reset time on a 429, and gives up after two waits", async () => {
    const reset = () => String(Math.ceil(Date.now() / 1000) + 2);
    nock(API)
      .patch("/repos/acme/demo/check-runs/9")
      .reply(429, { message: "API rate limit exceeded" }, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset });
    nock(API).patch("/repos/acme/demo/check-runs/9").reply(200, { id: 9 });
    const started = Date.now();
    await (await api()).updateCheckRun(REPO, 9, { status: "completed", conclusion: "success" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);

    for (let i = 0; i < 3; i++) {
      nock(API)
        .patch("/repos/acme/demo/check-runs/9")
        .reply(
          429,
          { message: "API rate limit exceeded" },
          { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset },
        );
    }
    const err = await (await api())
      .updateCheckRun(REPO, 9, { status: "completed", conclusion: "success" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429 });
  }, 60_000);
});
