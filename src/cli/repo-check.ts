/** Checks of the paths a command is given, made before the engine loads (argument errors answer at once). */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { UsageError } from "./usage-error.js";

export interface RepositoryState {
  /** HEAD's sha. */
  sha: string;
  /** Paths with uncommitted changes (staged, unstaged or untracked), as `git status --porcelain` lists them. */
  dirty: string[];
}

function git(root: string, args: string[]): string {
  // --no-optional-locks: `git status` would otherwise refresh and rewrite the checkout's .git/index, and the
  // user's checkout is only ever read.
  return execFileSync("git", ["--no-optional-locks", "-C", root, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * The path must be a directory inside a git repository with a commit. A working tree with uncommitted changes
 * is refused unless `allowDirty`: its results would otherwise be reported under a commit that does not hold them.
 */
export function checkRepository(root: string, options: { allowDirty?: boolean } = {}): RepositoryState {
  if (!existsSync(root)) throw new UsageError(`${root} does not exist`);
  if (!statSync(root).isDirectory()) throw new UsageError(`${root} is not a directory`);
  let sha: string;
  try {
    sha = git(root, ["rev-parse", "HEAD"]).trim();
  } catch {
    throw new UsageError(`${root} is not a git repository with a commit (run git init and commit, or pass a checkout)`);
  }
  const dirty = git(root, ["status", "--porcelain", "--untracked-files=normal", "--", "."])
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.slice(3));
  if (dirty.length > 0 && options.allowDirty !== true) {
    const shown = dirty.slice(0, 5).join(", ") + (dirty.length > 5 ? `, … (${dirty.length} in all)` : "");
    throw new UsageError(
      `${root} has uncommitted changes (${shown}); commit or stash them, or pass --allow-dirty to analyse the working tree as it is (the results are then labelled as not matching ${sha.slice(0, 7)})`,
    );
  }
  return { sha, dirty };
}

/** A directory the demo may build into: absent, or empty. Never anything that holds files. */
export function checkDemoDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--dir ${dir} exists and is not a directory`);
  const entries = readdirSync(dir);
  if (entries.length > 0) {
    throw new UsageError(
      `--dir ${dir} is not empty (${entries.length} entr${entries.length === 1 ? "y" : "ies"}); give an empty or new directory: the demo never overwrites files`,
    );
  }
}
