/**
 * Isolated copies of a checkout with a candidate's edits applied. The copy holds everything but `.git` and the
 * `node_modules` directories, which are never copied: each becomes a directory of symlinks, one per entry of the
 * base checkout's node_modules. Sandbox runs in the copy must expose the base's node_modules read-only
 * (`readOnlyPaths`, returned here) so the links resolve inside the sandbox and no candidate can change what the
 * others use. The directory itself is the copy's own and writable, because test tools keep caches there
 * (node_modules/.vite, node_modules/.cache) and fail when they cannot write them; the base's caches are not linked.
 */
import { constants, type Stats } from "node:fs";
import { cp, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { UnsafePathError, WorkspaceError } from "./errors.js";

export interface CandidateEdit {
  /** Repository-relative POSIX path. */
  path: string;
  /** New full content. */
  after: string;
}

export interface CandidateCopy {
  dir: string;
  /** The base's node_modules directories the copy links to: pass them as the sandbox's readOnlyPaths. */
  readOnlyPaths: string[];
  /**
   * Each node_modules of the copy (a directory of links) with the installation its links lead to in the end: the
   * base's node_modules, or, when the base is itself a copy (a working copy's links), the one that copy links to.
   */
  modules: { copy: string; base: string }[];
  durationMs: number;
}

const SKIPPED = new Set(["node_modules", ".git"]);
/** Dot-entries of node_modules that belong to the installation; any other dot-entry is a tool's cache. */
const INSTALL_METADATA = new Set([
  ".bin",
  ".pnpm",
  ".modules.yaml",
  ".package-lock.json",
  ".yarn-state.yml",
  ".yarn-integrity",
]);

export async function createCandidateCopy(
  baseDir: string,
  edits: readonly CandidateEdit[],
  destRoot: string,
  options: { linkWorkspacePackagesToCopy?: boolean } = {},
): Promise<CandidateCopy> {
  const start = performance.now();
  const base = await realpath(baseDir);
  for (const edit of edits) validateRelative(edit.path);
  await mkdir(destRoot, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(path.join(destRoot, "candidate-"));
  const linked: { from: string; to: string }[] = [];
  try {
    await cp(base, dir, {
      recursive: true,
      // Relative symlinks stay relative (the default would rewrite them to point into the base).
      verbatimSymlinks: true,
      preserveTimestamps: true,
      // Copy-on-write clones where the filesystem supports them, a plain copy elsewhere.
      mode: constants.COPYFILE_FICLONE,
      filter: async (source) => {
        const name = path.basename(source);
        if (source === base || !SKIPPED.has(name)) return true;
        const stat = await lstat(source);
        if (name === "node_modules" && stat.isDirectory()) {
          linked.push({ from: path.join(dir, path.relative(base, source)), to: source });
        }
        return false;
      },
    });
    for (const link of linked) {
      await linkNodeModules(link.to, link.from, options.linkWorkspacePackagesToCopy ? { base, dir } : null);
      linkOrigins.set(await realpath(link.from), installationOf(link.to));
    }
    await applyCandidateEdits(dir, edits);
  } catch (error) {
    forgetLinks(await realpath(dir).catch(() => dir));
    await rm(dir, { recursive: true, force: true });
    if (error instanceof UnsafePathError) throw error;
    throw new WorkspaceError(
      `cannot create a candidate copy of ${base}: ${(error as Error).message}`,
      "candidate-copy",
      base,
      { cause: error },
    );
  }
  return {
    dir,
    readOnlyPaths: linked.map((l) => l.to),
    modules: linked.map((l) => ({ copy: l.from, base: installationOf(l.to) })),
    durationMs: Math.round(performance.now() - start),
  };
}

/**
 * The node_modules directories of this process's copies (directories of links), each with the installation its
 * links lead to: a copy of a copy (a candidate of a working copy) then knows the real packages behind the links.
 * Entries go when their copy is removed.
 */
const linkOrigins = new Map<string, string>();

function installationOf(modulesDir: string): string {
  return linkOrigins.get(modulesDir) ?? modulesDir;
}

function forgetLinks(dir: string): void {
  for (const key of linkOrigins.keys()) if (key.startsWith(`${dir}/`)) linkOrigins.delete(key);
}

/**
 * `remap`: packages that are links into the base's own tree (workspace packages) link to the same place in the
 * copy instead, so the copy reads its own sources and not the base's.
 */
async function linkNodeModules(
  baseModules: string,
  copyModules: string,
  remap: { base: string; dir: string } | null,
): Promise<void> {
  await mkdir(copyModules);
  for (const name of await readdir(baseModules)) {
    if (name.startsWith(".") && !INSTALL_METADATA.has(name)) continue;
    const from = path.join(baseModules, name);
    if (remap && name.startsWith("@") && (await lstat(from)).isDirectory()) {
      await linkNodeModules(from, path.join(copyModules, name), remap);
      continue;
    }
    await symlink((remap && (await inTreeTarget(from, remap))) ?? from, path.join(copyModules, name));
  }
}

/** Where a package link into the base's tree (outside any node_modules) lands in the copy; null otherwise. */
async function inTreeTarget(link: string, remap: { base: string; dir: string }): Promise<string | null> {
  if (!(await lstat(link)).isSymbolicLink()) return null;
  let target: string;
  try {
    target = await realpath(link);
  } catch {
    return null;
  }
  if (!target.startsWith(`${remap.base}/`)) return null;
  const relative = path.relative(remap.base, target);
  if (relative.split(path.sep).some((part) => part === "node_modules" || part === ".git")) return null;
  return path.join(remap.dir, relative);
}

export interface WorkingCopy {
  /** The copy the cycle works on. */
  dir: string;
  /** The source's node_modules directories the copy links to: expose them read-only to sandbox runs. */
  readOnlyPaths: string[];
  durationMs: number;
  /** Removes the copy and its private parent directory. */
  remove(): Promise<void>;
}

/**
 * A private working copy of a user's checkout, so that a cycle never changes the checkout itself: sandbox runs
 * open their workspace up for an unprivileged uid (modes change, tools write caches and build output), which must
 * happen to a copy. The copy holds the working-tree files as they are (uncommitted changes included) but not
 * `.git`; node_modules are linked as in candidate copies. It lives in a fresh 0700 directory under `parent`
 * (default: the temp dir) that nobody else can enter.
 */
export async function createWorkingCopy(source: string, parent = os.tmpdir()): Promise<WorkingCopy> {
  const privateDir = await mkdtemp(path.join(parent, "odavl-cycle-"));
  const remove = async () => {
    forgetLinks(await realpath(privateDir).catch(() => privateDir));
    await rm(privateDir, { recursive: true, force: true });
  };
  try {
    const copy = await createCandidateCopy(source, [], privateDir, { linkWorkspacePackagesToCopy: true });
    return { dir: copy.dir, readOnlyPaths: copy.readOnlyPaths, durationMs: copy.durationMs, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Rejects what cannot be a path inside the repository, before touching the disk. */
function validateRelative(p: string): void {
  if (p.length === 0) throw new UnsafePathError(p, "empty path");
  if (p.includes("\0")) throw new UnsafePathError(p, "contains a NUL byte");
  if (p.includes("\\")) throw new UnsafePathError(p, "contains a backslash (paths are POSIX)");
  if (path.posix.isAbsolute(p)) throw new UnsafePathError(p, "absolute path");
  const parts = p.split("/");
  if (parts.some((part) => part === "..")) throw new UnsafePathError(p, "climbs out with '..'");
  // node_modules entries lead into the base checkout, which every candidate shares.
  if (parts[0] === ".git" || parts.includes("node_modules")) {
    throw new UnsafePathError(p, "inside .git or node_modules");
  }
}

/**
 * The absolute path an edit writes to, after checking that no component (the file itself included) is a
 * symlink leading outside the copy. Missing directories are created.
 */
async function resolveInside(root: string, relative: string): Promise<string> {
  validateRelative(relative);
  const realRoot = await realpath(root);
  const parts = relative.split("/").filter((part) => part !== "" && part !== ".");
  let current = realRoot;
  for (const [index, part] of parts.entries()) {
    const next = path.join(current, part);
    const last = index === parts.length - 1;
    let stat: Awaited<ReturnType<typeof lstat>> | null = null;
    try {
      stat = await lstat(next);
    } catch {
      stat = null;
    }
    if (stat === null) {
      if (!last) await mkdir(next);
      current = next;
      continue;
    }
    if (stat.isSymbolicLink()) {
      let resolved: string;
      try {
        resolved = await realpath(next);
      } catch {
        throw new UnsafePathError(
          relative,
          `goes through a dangling symlink at ${parts.slice(0, index + 1).join("/")}`,
        );
      }
      if (resolved !== realRoot && !resolved.startsWith(`${realRoot}/`)) {
        throw new UnsafePathError(
          relative,
          `goes through a symlink out of the repository at ${parts.slice(0, index + 1).join("/")}`,
        );
      }
      current = resolved;
      continue;
    }
    if (!last && !stat.isDirectory())
      throw new UnsafePathError(relative, `${parts.slice(0, index + 1).join("/")} is not a directory`);
    if (last && !stat.isFile()) throw new UnsafePathError(relative, "is not a regular file");
    current = next;
  }
  return current;
}

/** Writes a candidate's edits into a copy, each through {@link resolveInside}. */
export async function applyCandidateEdits(dir: string, edits: readonly CandidateEdit[]): Promise<void> {
  for (const edit of edits) validateRelative(edit.path);
  for (const edit of edits) {
    const target = await resolveInside(dir, edit.path);
    await writeFile(target, edit.after);
  }
}

/**
 * Puts a candidate copy back into the state {@link createCandidateCopy} made it in, so the next candidate can use
 * it instead of a fresh copy: what runs added is removed (build output, coverage, a `.git`), what they or an edit
 * changed (size, modification time, type, link target) is copied again from the base, what they removed comes
 * back, and in the copy's node_modules directories only the links to the base stay (tool caches are removed, as a
 * fresh copy has none). Modes are left as they are (the sandbox opens them up on every run anyway).
 */
export async function resetCandidateCopy(copy: Pick<CandidateCopy, "dir">, baseDir: string): Promise<void> {
  const base = await realpath(baseDir);
  const copyAgain = (from: string, to: string) =>
    cp(from, to, {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
      mode: constants.COPYFILE_FICLONE,
      filter: (source) => source === from || !SKIPPED.has(path.basename(source)),
    });
  const sync = async (baseAt: string, copyAt: string): Promise<void> => {
    const present = new Set<string>();
    for (const entry of await readdir(copyAt, { withFileTypes: true })) {
      const name = entry.name;
      const inCopy = path.join(copyAt, name);
      const inBase = path.join(baseAt, name);
      present.add(name);
      const baseStat = await lstat(inBase).catch(() => null);
      if (name === "node_modules") {
        if (baseStat?.isDirectory() && entry.isDirectory()) await resetLinkedModules(inCopy);
        else await rm(inCopy, { recursive: true, force: true });
        continue;
      }
      if (!baseStat || name === ".git") {
        await rm(inCopy, { recursive: true, force: true });
        continue;
      }
      if (baseStat.isDirectory() && entry.isDirectory()) {
        await sync(inBase, inCopy);
        continue;
      }
      if (await sameEntry(inBase, baseStat, inCopy)) continue;
      await rm(inCopy, { recursive: true, force: true });
      await copyAgain(inBase, inCopy);
    }
    for (const name of await readdir(baseAt)) {
      if (present.has(name) || SKIPPED.has(name)) continue;
      await copyAgain(path.join(baseAt, name), path.join(copyAt, name));
    }
  };
  try {
    await sync(base, copy.dir);
  } catch (error) {
    throw new WorkspaceError(
      `cannot reset the candidate copy ${copy.dir} to ${base}: ${(error as Error).message}`,
      "candidate-copy",
      base,
      { cause: error },
    );
  }
}

/** Same type and, for a file, same size and modification time; for a link, the same target. */
async function sameEntry(inBase: string, baseStat: Stats, inCopy: string): Promise<boolean> {
  const copyStat = await lstat(inCopy);
  if (baseStat.isFile()) {
    // A copied file's time is the base's to about a millisecond (cp sets it through a float); a run writes "now".
    return copyStat.isFile() && copyStat.size === baseStat.size && Math.abs(copyStat.mtimeMs - baseStat.mtimeMs) < 2;
  }
  if (baseStat.isSymbolicLink()) {
    return copyStat.isSymbolicLink() && (await readlink(inCopy)) === (await readlink(inBase));
  }
  return false;
}

/** In a copy's node_modules (made by linkNodeModules): everything that is not a link is a run's leftover. */
async function resetLinkedModules(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name.startsWith("@") && !entry.name.startsWith("@.")) {
      // A scope of a working copy's remapped links: its entries are links too.
      await resetLinkedModules(full);
      continue;
    }
    await rm(full, { recursive: true, force: true });
  }
}

/** Removes a candidate copy; its node_modules links are removed, never followed. */
export async function removeCandidateCopy(copy: Pick<CandidateCopy, "dir">): Promise<void> {
  forgetLinks(await realpath(copy.dir).catch(() => copy.dir));
  await rm(copy.dir, { recursive: true, force: true });
}
