/**
 * Finding bubblewrap and building its command line.
 *
 * Two modes, chosen by who runs the worker:
 * - "privileged" (the worker runs as root, as in our container image): bwrap is started as root, without a user
 *   namespace, so it can bind workspaces that sit under 0700 directories; inside, `setpriv` drops to a fresh
 *   unprivileged uid per run (all capabilities dropped, no_new_privs). A real non-root uid is what makes
 *   RLIMIT_NPROC count (the kernel never enforces it for uid 0), and it keeps root-only files unreadable even where
 *   a host directory is exposed read-only.
 * - "user-namespace" (the worker is not root): bwrap creates a user namespace as the invoking user; the process
 *   limit then counts that user's processes, so the sandbox adds the user's current count to it.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync } from "node:fs";
import path from "node:path";

export type SandboxMode = "privileged" | "user-namespace";

export interface BubblewrapInfo {
  available: boolean;
  /** Absolute path of bwrap, when found. */
  path: string | null;
  version: string | null;
  mode: SandboxMode | null;
  /** util-linux helpers used to apply limits and drop privileges. */
  prlimitPath: string | null;
  setprivPath: string | null;
  /** Why the sandbox cannot be used, when it cannot. */
  reason: string | null;
}

const SEARCH_DIRS = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"];

function findExecutable(name: string): string | null {
  for (const dir of SEARCH_DIRS) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

const cache = new Map<string, BubblewrapInfo>();

/**
 * Whether bubblewrap is installed and actually works here (a kernel or container can forbid the namespaces it
 * needs). The probe starts one tiny sandbox with the same namespace flags real runs use; the answer is cached.
 */
export function detectBubblewrap(options: { bwrapPath?: string } = {}): BubblewrapInfo {
  const key = options.bwrapPath ?? "";
  const cached = cache.get(key);
  if (cached) return cached;
  const info = probe(options.bwrapPath);
  cache.set(key, info);
  return info;
}

function probe(explicitPath: string | undefined): BubblewrapInfo {
  const mode: SandboxMode = process.getuid?.() === 0 ? "privileged" : "user-namespace";
  const prlimitPath = findExecutable("prlimit");
  const setprivPath = findExecutable("setpriv");
  const info: BubblewrapInfo = {
    available: false,
    path: null,
    version: null,
    mode: null,
    prlimitPath,
    setprivPath,
    reason: null,
  };
  const bwrap = explicitPath ?? findExecutable("bwrap");
  if (!bwrap || !isExecutable(bwrap)) {
    info.reason = `bubblewrap not found${explicitPath ? ` at ${explicitPath}` : ""}`;
    return info;
  }
  info.path = bwrap;
  const version = spawnSync(bwrap, ["--version"], { encoding: "utf8", timeout: 10_000, env: {} });
  if (version.status !== 0) {
    info.reason = `${bwrap} --version failed: ${(version.stderr || String(version.error ?? "")).trim()}`;
    return info;
  }
  info.version = version.stdout.trim().replace(/^bubblewrap\s+/, "");
  if (!prlimitPath) {
    info.reason = "prlimit (util-linux) not found; it applies the memory, process and file-size limits";
    return info;
  }
  if (mode === "privileged" && !setprivPath) {
    info.reason = "setpriv (util-linux) not found; it drops root to an unprivileged uid inside the sandbox";
    return info;
  }
  const args = [
    ...namespaceArgs(mode),
    ...systemBindArgs(),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--",
    ...(mode === "privileged" ? privilegeDropArgs(setprivPath ?? "setpriv", 65534, 65534) : []),
    "/bin/true",
  ];
  const run = spawnSync(bwrap, args, { encoding: "utf8", timeout: 15_000, env: {} });
  if (run.status !== 0) {
    info.reason = `a test sandbox failed to start (${mode} mode): ${(run.stderr || String(run.error ?? "")).trim()}`;
    return info;
  }
  info.available = true;
  info.mode = mode;
  return info;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every namespace but the user one in privileged mode (see the module comment); everything otherwise. */
function namespaceArgs(mode: SandboxMode): string[] {
  const common = ["--die-with-parent", "--new-session", "--unshare-ipc", "--unshare-pid", "--unshare-net"];
  common.push("--unshare-uts", "--hostname", "sandbox", "--unshare-cgroup-try");
  if (mode === "privileged") {
    // Only what setpriv needs to switch to the run's uid; it then clears every set, bounding set included.
    return [...common, "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"];
  }
  return [...common, "--unshare-user", "--disable-userns"];
}

/** Drops root to `uid` with no supplementary groups, no capabilities in any set, and no_new_privs. */
export function privilegeDropArgs(setpriv: string, uid: number, gid: number): string[] {
  return [
    setpriv,
    `--reuid=${uid}`,
    `--regid=${gid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--",
  ];
}

const SYSTEM_LINK_DIRS = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"];

/**
 * /usr read-only, and the top-level /bin, /lib… entries as they are on the host: symlinks into /usr on merged-/usr
 * systems, read-only directories elsewhere. The rest of the host (/root, /home, /etc, /var, /run, /srv, /opt, the
 * worker's own files) does not exist in the sandbox.
 */
function systemBindArgs(): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const dir of SYSTEM_LINK_DIRS) {
    let stat: ReturnType<typeof lstatSync>;
    try {
      stat = lstatSync(dir);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push("--symlink", readlinkSync(dir), dir);
    else if (stat.isDirectory()) args.push("--ro-bind", dir, dir);
  }
  return args;
}

/** Host files under /etc that programs need and that hold nothing private. */
const HOST_ETC_FILES = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
  "/etc/protocols",
  "/etc/services",
  "/etc/ssl/openssl.cnf",
];

export interface BwrapLayout {
  mode: SandboxMode;
  /** Real path of the workspace: bound read-write and the working directory. */
  cwd: string;
  readOnlyPaths: readonly string[];
  writablePaths: readonly string[];
  /** Directory with the generated passwd, group, hosts, nsswitch.conf, gitconfig and an empty file. */
  etcDir: string;
  tmpMb: number;
  /** Extra read-only directories (the Node installation when it is not under /usr). */
  extraSystemPaths: readonly string[];
  /** Directories hidden behind an empty tmpfs and files behind an empty file (the worker's own tree under /usr). */
  maskDirs: readonly string[];
  maskFiles: readonly string[];
  /** Read-only binds of `source` at `dest`, a directory inside the workspace (after the workspace's own bind). */
  mounts?: readonly { source: string; dest: string }[];
  /** Writable binds of `source` at `dest`, a path under the run's /tmp (the tools' caches, see toolCacheBinds). */
  tmpBinds?: readonly { source: string; dest: string }[];
}

/** The bwrap options (without the command) for one run. */
export function bwrapArgs(layout: BwrapLayout): string[] {
  const args = [...namespaceArgs(layout.mode), ...systemBindArgs()];
  const bound: string[] = ["/usr", ...SYSTEM_LINK_DIRS];
  const created = new Set<string>(["/"]);
  const ensureParents = (dest: string) => {
    const parts = dest.split("/").filter(Boolean);
    let current = "";
    for (const part of parts.slice(0, -1)) {
      current += `/${part}`;
      if (created.has(current) || layout.maskDirs.includes(current)) continue;
      const masked = layout.maskDirs.some((m) => current.startsWith(`${m}/`));
      if (!masked && bound.some((b) => current === b || current.startsWith(`${b}/`))) continue;
      // Without --perms, bwrap creates parents with the host directory's mode, often 0700, which the
      // unprivileged uid could not traverse.
      args.push("--perms", "0755", "--dir", current);
      created.add(current);
    }
  };
  const bind = (flag: "--ro-bind" | "--bind", source: string, dest = source) => {
    ensureParents(dest);
    args.push(flag, source, dest);
    bound.push(dest);
  };

  for (const dir of layout.extraSystemPaths) bind("--ro-bind", dir);
  for (const dir of layout.maskDirs) args.push("--tmpfs", dir);
  for (const file of layout.maskFiles) {
    // A file under a masked directory is hidden already.
    if (layout.maskDirs.some((m) => file.startsWith(`${m}/`))) continue;
    args.push("--ro-bind", path.join(layout.etcDir, "empty"), file);
  }

  args.push("--proc", "/proc", "--dev", "/dev");
  args.push("--perms", "1777", "--size", String(layout.tmpMb * 1024 * 1024), "--tmpfs", "/tmp");
  args.push("--perms", "1777", "--size", String(Math.min(layout.tmpMb, 256) * 1024 * 1024), "--tmpfs", "/dev/shm");
  created.add("/tmp");
  for (const b of layout.tmpBinds ?? []) args.push("--bind", b.source, b.dest);

  args.push("--perms", "0755", "--dir", "/etc");
  created.add("/etc");
  for (const name of ["passwd", "group", "hosts", "nsswitch.conf", "gitconfig"]) {
    args.push("--ro-bind", path.join(layout.etcDir, name), `/etc/${name}`);
  }
  for (const file of HOST_ETC_FILES) {
    if (!existsSync(file)) continue;
    ensureParents(file);
    args.push("--ro-bind", file, file);
  }

  for (const p of layout.readOnlyPaths) bind("--ro-bind", p);
  bind("--bind", layout.cwd);
  for (const p of layout.writablePaths) bind("--bind", p);
  for (const m of layout.mounts ?? []) args.push("--ro-bind", m.source, m.dest);
  // A repository's git directory is code the worker runs later (hooks, config settings such as core.fsmonitor
  // or a filter's command): whatever a run may write, it never writes there.
  const writable = [layout.cwd, ...layout.writablePaths];
  for (const gitDir of new Set(writable.map(gitDirIn).filter((g): g is string => g !== null))) {
    if (writable.some((w) => gitDir === w || gitDir.startsWith(`${w}/`))) args.push("--ro-bind", gitDir, gitDir);
  }
  args.push("--chdir", layout.cwd);
  return args;
}

/** Real path of `dir/.git` (a directory, or the file a linked worktree has), when there is one. */
function gitDirIn(dir: string): string | null {
  try {
    return realpathSync(path.join(dir, ".git"));
  } catch {
    return null;
  }
}

/** Tools that keep a cache per user under /tmp, with the directory name each derives from the uid. */
const TOOL_CACHES: readonly { name: string; dir: (uid: number) => string }[] = [
  // jest-config's getCacheDirectory: path.join(tmpdir(), "jest") + "_" + getuid().toString(36)
  { name: "jest", dir: (uid) => `/tmp/jest_${uid.toString(36)}` },
  // tsx: path.join(tmpdir(), `tsx-${geteuid()}`)
  { name: "tsx", dir: (uid) => `/tmp/tsx-${uid}` },
];

/**
 * The binds that keep the tools' per-user caches in `cachesDir` (one subdirectory per tool, created here) for a run
 * as `uid`.
 */
export function toolCacheBinds(cachesDir: string, uid: number): { source: string; dest: string }[] {
  return TOOL_CACHES.map((tool) => {
    const source = path.join(cachesDir, tool.name);
    mkdirSync(source, { recursive: true });
    return { source, dest: tool.dir(uid) };
  });
}
