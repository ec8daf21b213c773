/** The Octokit policy: throttling and retries on; a 403 or 429 with retry-after waits as long as GitHub asks. */

import nock from "nock";
import { describe, expect, it } from "vitest";
import { GitHubRequestError } from "../../src/github/api.js";
import { GitHubRateLimitError, privateKeyFrom, retryAfterSeconds } from "../../src/github/octokit.js";
import { API, useStrictNock } from "./helpers/github-mock.js";
import { tokenGitHubApi } from "./helpers/probot.js";

const REPO = { owner: "acme", repo: "demo" };

async function api() {
  return tokenGitHubApi({ throttle: true, retry: true, maxRetryAfterSeconds: 5 });
}

const create = {
  name: "ODAVL Autopilot",
  headSha: "a".repeat(40),
  externalId: "x",
  status: "in_progress" as const,
  output: { title: "t", summary: "s" },
};

describe("GitHub rate limits", () => {
  useStrictNock();

  it("waits for retry-after on a 429, then succeeds", async () => {
    nock(API).post("/repos/acme/demo/check-runs").reply(429, { message: "Too many requests" }, { "retry-after": "1" });
    nock(API).post("/repos/acme/demo/check-runs").reply(201, { id: 5 });
    const started = Date.now();
    expect(await (await api()).createCheckRun(REPO, create)).toEqual({ id: 5 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("waits for retry-after on a secondary rate limit (403), then succeeds", async () => {
    nock(API)
      .patch("/repos/acme/demo/check-runs/5")
      .reply(403, { message: "You have exceeded a secondary rate limit" }, { "retry-after": "1" });
    nock(API).patch("/repos/acme/demo/check-runs/5").reply(200, { id: 5 });
    const started = Date.now();
    await (await api()).updateCheckRun(REPO, 5, { status: "completed", conclusion: "success" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it("does not hold a worker for minutes: a long retry-after fails the request, for the queue to retry later", async () => {
    nock(API)
      .post("/repos/acme/demo/check-runs")
      .reply(429, { message: "Too many requests" }, { "retry-after": "600" });
    await expect((await api()).createCheckRun(REPO, create)).rejects.toBeInstanceOf(GitHubRateLimitError);
  });

  it("reports other errors with the endpoint and the repository", async () => {
    nock(API).post("/repos/acme/demo/check-runs").reply(422, { message: "Validation Failed" });
    const err = await (await api()).createCheckRun(REPO, create).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubRequestError);
    expect(err).toMatchObject({ status: 422, endpoint: "POST check-runs", target: "acme/demo" });
  });

  it("reads retry-after as seconds or as an HTTP date", () => {
    const answer = (status: number, retryAfter: string) => ({
      status,
      message: "",
      response: { headers: { "retry-after": retryAfter } },
    });
    expect(retryAfterSeconds(answer(429, "7"))).toBe(7);
    expect(retryAfterSeconds(answer(403, new Date(Date.now() + 3000).toUTCString()))).toBeGreaterThanOrEqual(2);
    expect(retryAfterSeconds(answer(500, "7"))).toBeNull();
    expect(retryAfterSeconds({ status: 429, message: "", response: { headers: {} } })).toBeNull();
  });

  it("accepts the private key as PEM, with escaped newlines, or base64", () => {
    const pem = "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n";
    expect(privateKeyFrom(pem)).toBe(pem);
    expect(privateKeyFrom(pem.replaceAll("\n", "\\n"))).toBe(pem);
    expect(privateKeyFrom(Buffer.from(pem).toString("base64"))).toBe(pem);
  });
});
