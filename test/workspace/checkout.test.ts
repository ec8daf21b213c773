import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkout, GitError, WorkspaceError } from "../../src/workspace/index.js";
import { createHistoryRepo, fixtureGit, type HistoryRepo, tempDir, writeFiles } from "./fixtures.js";

/** Every file under .git, read as text, to look for credentials anywhere git might have kept them. */
function allGitText(dir: string): string {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile()) out.push(readFileSync(full).toString("latin1"));
    }
  };
  visit(path.join(dir, ".git"));
  return out.join("\n");
}

describe("checkout", () => {
  let root: string;
  let repo: HistoryRepo;

  beforeAll(() => {
    root = tempDir("odavl-checkout-test-");
    repo = createHistoryRepo(root);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("checks out a local repository at a sha, a tag, a branch and its HEAD", async () => {
    const atSha = await checkout({ source: repo.dir, ref: repo.first, dest: path.join(root, "ws-sha") });
    expect(atSha.sha).toBe(repo.first);
    expect(readFileSync(path.join(atSha.dir, "a.txt"), "utf8")).toBe("one\n");
    expect(fixtureGit(atSha.dir, ["rev-parse", "HEAD"])).toBe(repo.first);
    expect(fixtureGit(atSha.dir, ["status", "--porcelain"])).toBe("");

    const atTag = await checkout({ source: repo.dir, ref: "v1", dest: path.join(root, "ws-tag") });
    expect(atTag.sha).toBe(repo.first);

    const atBranch = await checkout({ source: repo.dir, ref: "feature", dest: path.join(root, "ws-branch") });
    expect(atBranch.sha).toBe(repo.feature);
    expect(readFileSync(path.join(atBranch.dir, "a.txt"), "utf8")).toBe("feature\n");

    const atHead = await checkout({ source: repo.dir, dest: path.join(root, "ws-head") });
    expect(atHead.sha).toBe(repo.second);
    expect(atHead.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("copies object files instead of hard-linking them to the source", async () => {
    const ws = await checkout({ source: repo.dir, ref: repo.second, dest: path.join(root, "ws-nolinks") });
    const objects = path.join(ws.dir, ".git", "objects");
    const files: string[] = [];
    const visit = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) visit(path.join(d, e.name));
        else files.push(path.join(d, e.name));
      }
    };
    visit(objects);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(statSync(f).nlink).toBe(1);
  });

  it("fails with a GitError for an unknown ref and leaves nothing behind", async () => {
    const dest = path.join(root, "ws-missing");
    const error = await checkout({ source: repo.dir, ref: "no-such-branch", dest }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitError);
    expect((error as GitError).message).toContain("no-such-branch");
    expect(existsSync(dest)).toBe(false);
  });

  it("refuses refs that look like options and non-empty destinations", async () => {
    await expect(
      checkout({ source: repo.dir, ref: "--upload-pack=x", dest: path.join(root, "ws-opt") }),
    ).rejects.toBeInstanceOf(WorkspaceError);
    const busy = path.join(root, "busy");
    writeFiles(busy, { "x.txt": "x" });
    await expect(checkout({ source: repo.dir, dest: busy })).rejects.toThrow(/not empty/);
  });

  it("never runs git hooks, from templates, user configuration or the source", async () => {
    const hookRoot = path.join(root, "hooks");
    const marker = path.join(root, "hook-ran");
    const hook = `#!/bin/sh\necho ran >> ${marker}\n`;
    for (const dir of [path.join(hookRoot, "template", "hooks"), path.join(hookRoot, "path")]) {
      mkdirSync(dir, { recursive: true });
      for (const name of ["post-checkout", "post-merge", "reference-transaction", "pre-commit"]) {
        writeFileSync(path.join(dir, name), hook);
        chmodSync(path.join(dir, name), 0o755);
      }
    }
    writeFileSync(path.join(repo.dir, ".git", "hooks", "post-checkout"), hook);
    chmodSync(path.join(repo.dir, ".git", "hooks", "post-checkout"), 0o755);
    const globalConfig = path.join(hookRoot, "gitconfig");
    writeFileSync(
      globalConfig,
      `[init]\n\ttemplateDir = ${path.join(hookRoot, "template")}\n[core]\n\thooksPath = ${path.join(hookRoot, "path")}\n`,
    );

    // The same configuration makes a plain clone run the hooks, so their absence below is the checkout's doing.
    execFileSync("git", ["clone", "-q", repo.dir, path.join(root, "plain-clone")], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: os.tmpdir(), GIT_CONFIG_GLOBAL: globalConfig },
    });
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);

    const saved = process.env.GIT_CONFIG_GLOBAL;
    process.env.GIT_CONFIG_GLOBAL = globalConfig;
    try {
      await checkout({ source: repo.dir, ref: "feature", dest: path.join(root, "ws-hooks") });
    } finally {
      if (saved === undefined) delete process.env.GIT_CONFIG_GLOBAL;
      else process.env.GIT_CONFIG_GLOBAL = saved;
    }
    expect(existsSync(marker)).toBe(false);
  });

  describe("over HTTP with credentials", () => {
    const token = "ghs_checkoutSecretToken0123456789";
    let server: http.Server;
    let baseUrl: string;
    const seenAuth: string[] = [];

    beforeAll(async () => {
      const bare = path.join(root, "served.git");
      fixtureGit(root, ["clone", "-q", "--bare", repo.dir, bare]);
      fixtureGit(bare, ["update-server-info"]);
      const expected = `Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
      // A dumb-HTTP git server that insists on the installation token.
      server = http.createServer((req, res) => {
        const auth = req.headers.authorization ?? "";
        seenAuth.push(auth);
        if (auth !== expected) {
          res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' });
          res.end();
          return;
        }
        const urlPath = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/repo\.git\/?/, "");
        const file = path.join(bare, urlPath);
        if (!file.startsWith(bare) || !existsSync(file) || statSync(file).isDirectory()) {
          res.writeHead(404);
          res.end();
          return;
        }
        res.writeHead(200, { "Content-Type": "application/octet-stream" });
        res.end(readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("sends the auth header and leaves no credential in the checkout", async () => {
      const header = `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
      const ws = await checkout({
        source: baseUrl,
        ref: repo.first,
        dest: path.join(root, "ws-http"),
        authHeader: header,
      });
      expect(readFileSync(path.join(ws.dir, "a.txt"), "utf8")).toBe("one\n");
      expect(seenAuth.some((a) => a.includes(Buffer.from(`x-access-token:${token}`).toString("base64")))).toBe(true);
      const text = allGitText(ws.dir);
      expect(text).not.toContain(token);
      expect(text).not.toContain(Buffer.from(`x-access-token:${token}`).toString("base64"));
      expect(text.toLowerCase()).not.toContain("extraheader");
      expect(fixtureGit(ws.dir, ["remote", "get-url", "origin"])).toBe(baseUrl);
    });

    it("moves credentials out of a URL and keeps them out of the checkout", async () => {
      const url = baseUrl.replace("http://", `http://x-access-token:${token}@`);
      const ws = await checkout({ source: url, ref: "feature", dest: path.join(root, "ws-http-url") });
      expect(ws.sha).toBe(repo.feature);
      const text = allGitText(ws.dir);
      expect(text).not.toContain(token);
      expect(fixtureGit(ws.dir, ["remote", "get-url", "origin"])).toBe(baseUrl);
    });

    it("fails cleanly without the credential", async () => {
      const dest = path.join(root, "ws-http-denied");
      const error = await checkout({ source: baseUrl, dest, timeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitError);
      expect(existsSync(dest)).toBe(false);
    });
  });
});
