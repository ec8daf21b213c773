/**
 * GitHub Enterprise Server: GITHUB_API_URL is validated when the environment is read, the app's requests go to
 * the server's `/api/v3` (checked against GHES's REST description), and clones come from the server.
 */
import { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { ConfigError, readEnv } from "../../src/config/env.js";
import { createGitHubApi } from "../../src/github/api.js";
import { cloneBaseFor, cloneUrlFor, createOctokitClass } from "../../src/github/octokit.js";
import { GitHubMock, useStrictNock } from "./helpers/github-mock.js";
import { APP_ID, silentLogger, testPrivateKey } from "./helpers/probot.js";

const GHES = "https://github.example.com/api/v3";

describe("GitHub Enterprise Server", () => {
  useStrictNock();

  it("reads GITHUB_API_URL (GitHub's API by default) and refuses one that is not an http(s) URL, naming it", () => {
    expect(readEnv({}).GITHUB_API_URL).toBe("https://api.github.com");
    expect(readEnv({ GITHUB_API_URL: `${GHES}/` }).GITHUB_API_URL).toBe(GHES);
    for (const bad of ["github.example.com/api/v3", "ftp://github.example.com/api/v3", `${GHES}?x=1`]) {
      expect(() => readEnv({ GITHUB_API_URL: bad })).toThrow(ConfigError);
      expect(() => readEnv({ GITHUB_API_URL: bad })).toThrow(/GITHUB_API_URL: must/);
    }
  });

  it("clones from github.com for GitHub's API and from the server for an Enterprise Server", () => {
    expect(cloneBaseFor("https://api.github.com")).toBe("https://github.com");
    expect(cloneBaseFor(GHES)).toBe("https://github.example.com");
  });

  it("clones from the clone_url GitHub gives, and builds one on the API's server only when it gives none", () => {
    const given = "https://git.example.com/scm/acme/demo.git";
    expect(cloneUrlFor(GHES, "acme", "demo", given)).toBe(given);
    expect(cloneUrlFor("https://api.github.com", "acme", "demo", given)).toBe(given);
    for (const none of [null, undefined, "", "git@github.example.com:acme/demo.git", "file:///srv/acme/demo.git"]) {
      expect(cloneUrlFor(GHES, "acme", "demo", none)).toBe("https://github.example.com/acme/demo.git");
    }
    expect(cloneUrlFor("https://api.github.com", "acme", "demo", null)).toBe("https://github.com/acme/demo.git");
  });

  it("sends the app's requests to the server's API, as GHES's REST description has them", async () => {
    const probot = new Probot({
      appId: APP_ID,
      privateKey: testPrivateKey(),
      baseUrl: readEnv({ GITHUB_API_URL: GHES }).GITHUB_API_URL,
      Octokit: createOctokitClass({ throttle: false, retry: false }),
      log: silentLogger,
    });
    new GitHubMock("acme", "demo", GHES, "ghes-3.19")
      .accessToken(4001)
      .repository("trunk", 1001, "https://github.example.com/scm/acme/demo.git");
    const api = createGitHubApi(await probot.auth(4001));
    expect(await api.getRepository({ owner: "acme", repo: "demo" })).toEqual({
      githubId: 1001,
      defaultBranch: "trunk",
      cloneUrl: "https://github.example.com/scm/acme/demo.git",
    });
  });
});
