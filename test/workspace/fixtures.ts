/** Git repositories and package fixtures for workspace tests, built in temporary directories. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** git for building fixtures: no user or system configuration, fixed identity and dates. */
export function fixtureGit(cwd: string, args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: os.tmpdir(),
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_NAME: "Fixture",
      GIT_AUTHOR_EMAIL: "fixture@example.invalid",
      GIT_COMMITTER_NAME: "Fixture",
      GIT_COMMITTER_EMAIL: "fixture@example.invalid",
      GIT_AUTHOR_DATE: "2024-01-01T00:00:00Z",
      GIT_COMMITTER_DATE: "2024-01-01T00:00:00Z",
    },
  }).trim();
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
}

export interface HistoryRepo {
  dir: string;
  /** sha of each commit: first (tag v1), second (main), feature (branch "feature"). */
  first: string;
  second: string;
  feature: string;
}

/** A repository with two commits on main (the first tagged v1) and a branch "feature". */
export function createHistoryRepo(root: string): HistoryRepo {
  const dir = path.join(root, "source");
  mkdirSync(dir, { recursive: true });
  fixtureGit(dir, ["init", "-q", "-b", "main"]);
  writeFiles(dir, { "a.txt": "one\n", "src/index.ts": "export const v = 1;\n" });
  fixtureGit(dir, ["add", "-A"]);
  fixtureGit(dir, ["commit", "-q", "-m", "first"]);
  const first = fixtureGit(dir, ["rev-parse", "HEAD"]);
  fixtureGit(dir, ["tag", "v1"]);
  writeFiles(dir, { "a.txt": "two\n" });
  fixtureGit(dir, ["commit", "-q", "-am", "second"]);
  const second = fixtureGit(dir, ["rev-parse", "HEAD"]);
  fixtureGit(dir, ["checkout", "-q", "-b", "feature"]);
  writeFiles(dir, { "a.txt": "feature\n" });
  fixtureGit(dir, ["commit", "-q", "-am", "feature"]);
  const feature = fixtureGit(dir, ["rev-parse", "HEAD"]);
  fixtureGit(dir, ["checkout", "-q", "main"]);
  return { dir, first, second, feature };
}
