/**
 * corpus:prepare — checkouts of the collection repositories, each at its listed commit, with dependencies
 * installed without lifecycle scripts, outside the project. The repositories come from local git mirrors (one bare
 * repository per owner/name); their code is never copied into the project.
 *
 *   npm run corpus:prepare -- <tsv>... [--into /work/corpus] [--mirrors /work/.mirror] [--repos a/b,c/d]
 *                              [--concurrency 2] [--install-timeout 900] [--write-list data/corpus.tsv]
 *
 * Input: the shared corpus TSVs (header row; columns repo, commit, …, test_cmd, …) or data/corpus.tsv (repo,
 * commit, test_cmd, source). Each checkout is `<into>/<owner>__<name>@<sha7>`, the directory layout `odavl collect`
 * reads owner/name from. A checkout with a `.prepared.json` beside it is skipped, so a rerun only does what is
 * missing or failed. Writes `<into>/collect.list` (the format of src/collect/list.ts: `<path>\t<test command>`;
 * checkouts an earlier run listed stay listed)
 * and `<into>/prepare-report.json` (per repository: prepared, or why not).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readList } from "../src/collect/list.js";
import { installDependencies } from "../src/workspace/install.js";

export interface CorpusEntry {
  repo: string;
  commit: string;
  testCommand: string;
  /** Which list it came from (train, reserve, …). */
  source: string;
}

/** Reads a corpus TSV: the shared lists (header with repo/commit/test_cmd) and data/corpus.tsv alike. */
export function readCorpusTsv(file: string, defaultSource: string): CorpusEntry[] {
  if (!existsSync(file)) throw new Error(`corpus list ${file} does not exist`);
  const lines = readFileSync(file, "utf8").split("\n");
  const header = (lines[0] ?? "").split("\t").map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  const [iRepo, iCommit, iTest, iSource] = [col("repo"), col("commit"), col("test_cmd"), col("source")];
  if (iRepo < 0 || iCommit < 0 || iTest < 0) {
    throw new Error(`${file}:1: header must name the columns repo, commit and test_cmd (got: ${header.join(", ")})`);
  }
  const entries: CorpusEntry[] = [];
  const problems: string[] = [];
  lines.slice(1).forEach((line, i) => {
    if (line.trim() === "" || line.startsWith("#")) return;
    const cells = line.split("\t");
    const repo = cells[iRepo]?.trim() ?? "";
    const commit = cells[iCommit]?.trim() ?? "";
    const testCommand = cells[iTest]?.trim() ?? "";
    const where = `${file}:${i + 2}`;
    if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) problems.push(`${where}: "${repo}" is not owner/name`);
    else if (!/^[0-9a-f]{40}$/.test(commit)) problems.push(`${where}: "${commit}" is not a 40-digit commit`);
    else if (testCommand === "") problems.push(`${where}: no test command`);
    else entries.push({ repo, commit, testCommand, source: (iSource >= 0 && cells[iSource]?.trim()) || defaultSource });
  });
  if (problems.length > 0) throw new Error(`invalid corpus list:\n  ${problems.join("\n  ")}`);
  return entries;
}

/** train-repos.tsv → train, train-reserves.tsv → reserve, anything else → the file's base name. */
export function sourceName(file: string): string {
  const base = file.replace(/^.*\//, "").replace(/\.tsv$/, "");
  if (base === "train-repos") return "train";
  if (base === "train-reserves") return "reserve";
  return base;
}

/** A prepared checkout a benchmark runs on. */
export interface BenchTarget {
  repo: string;
  /** A file whose presence says the checkout is ready (corpus:prepare's marker); null for a collect list. */
  marker: string | null;
  /** The corpus list it belongs to (train, reserve, pick); null for a collect list. */
  source: string | null;
  dir: string;
  testCommand: string;
}

/**
 * The checkouts a corpus TSV (looked up in `into`) or a collect list (`<path>\t<test command>`, prepared checkouts
 * only) names. Throws a message naming the file and line of an entry a benchmark cannot run on.
 */
export function readBenchTargets(file: string, into: string, bench: string): BenchTarget[] {
  const first = readFileSync(file, "utf8").split("\n", 1)[0] ?? "";
  if (/^repo\t/.test(first)) {
    return readCorpusTsv(file, "list").map((e) => ({
      repo: e.repo,
      source: e.source,
      dir: join(into, checkoutDirName(e)),
      marker: `${join(into, checkoutDirName(e))}.prepared.json`,
      testCommand: e.testCommand,
    }));
  }
  return readList(file).map((e) => {
    if (!e.localPath || e.ref)
      throw new Error(`${file}:${e.line}: ${bench} runs on prepared checkouts, not ${e.source}`);
    if (!e.testCommand) throw new Error(`${file}:${e.line}: no test command for ${e.localPath}`);
    return { repo: `${e.owner}/${e.name}`, source: null, marker: null, dir: e.localPath, testCommand: e.testCommand };
  });
}

/**
 * The repositories a benchmark run takes: `shard` "i/n" keeps every n-th from the i-th (1-based), to split a long run
 * over processes; `repos` (comma-separated owner/name or name) keeps those named. Throws a message naming the flag.
 */
export function selectTargets<T extends { repo: string }>(
  targets: readonly T[],
  o: { shard?: string | undefined; repos?: string | undefined },
): T[] {
  let out = [...targets];
  if (o.shard) {
    const m = /^(\d+)\/(\d+)$/.exec(o.shard);
    const [i, n] = [Number(m?.[1]), Number(m?.[2])];
    if (!m || i < 1 || i > n) throw new Error(`--shard must be i/n with 1 <= i <= n, got "${o.shard}"`);
    out = out.filter((_, k) => k % n === i - 1);
  }
  if (o.repos) {
    const wanted = o.repos.split(",").map((s) => s.trim());
    out = out.filter((t) => wanted.some((w) => t.repo === w || t.repo.endsWith(`/${w}`)));
    if (out.length === 0) throw new Error(`--repos ${o.repos} matches no repository of the list`);
  }
  return out;
}

export function checkoutDirName(e: Pick<CorpusEntry, "repo" | "commit">): string {
  return `${e.repo.replace("/", "__")}@${e.commit.slice(0, 7)}`;
}

export function mirrorGitDir(mirrors: string, repo: string): string {
  return join(mirrors, repo.replace("/", "+"), "repo");
}

export interface PrepareRecord {
  repo: string;
  commit: string;
  dir: string;
  status: "prepared" | "skipped" | "failed";
  reason?: string;
  packageManager?: string;
  installSteps?: { command: string; exitCode: number | null; durationMs: number }[];
  durationMs?: number;
}

export async function prepareEntry(
  e: CorpusEntry,
  o: { into: string; mirrors: string; installTimeoutMs: number },
): Promise<PrepareRecord> {
  const dir = join(o.into, checkoutDirName(e));
  const marker = `${dir}.prepared.json`;
  const base = { repo: e.repo, commit: e.commit, dir };
  if (existsSync(marker) && existsSync(dir)) return { ...base, status: "skipped", reason: "already prepared" };
  const t0 = performance.now();
  const gitDir = mirrorGitDir(o.mirrors, e.repo);
  if (!existsSync(gitDir)) return { ...base, status: "failed", reason: `no mirror at ${gitDir}` };
  // A half-made checkout (an interrupted run, a failed install) starts over.
  rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync("git", ["clone", "--quiet", "--shared", "--no-checkout", gitDir, dir], { stdio: "pipe" });
    execFileSync("git", ["-C", dir, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", e.commit], {
      stdio: "pipe",
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return { ...base, status: "failed", reason: `checkout failed: ${stderr || (error as Error).message}` };
  }
  try {
    const installed = await installDependencies(dir, { timeoutMs: o.installTimeoutMs });
    const record: PrepareRecord = {
      ...base,
      status: "prepared",
      packageManager: `${installed.packageManager.name}${installed.fellBack ? " (fell back)" : ""}`,
      installSteps: installed.steps.map((s) => ({
        command: s.command.join(" "),
        exitCode: s.exitCode,
        durationMs: Math.round(s.durationMs),
      })),
      durationMs: Math.round(performance.now() - t0),
    };
    if (installed.skipped) return { ...record, status: "failed", reason: `install skipped: ${installed.skipped}` };
    writeFileSync(marker, `${JSON.stringify(record, null, 2)}\n`);
    return record;
  } catch (error) {
    return {
      ...base,
      status: "failed",
      reason: (error as Error).message.slice(0, 800),
      durationMs: Math.round(performance.now() - t0),
    };
  }
}

/** data/corpus.tsv: what a fresh machine rebuilds the collection from. */
export function corpusTsv(entries: readonly CorpusEntry[]): string {
  const rows = entries.map((e) => [e.repo, e.commit, e.testCommand, e.source].join("\t"));
  return `${["repo", "commit", "test_cmd", "source"].join("\t")}\n${rows.join("\n")}\n`;
}

/** The `odavl collect` list for the prepared checkouts. */
export function collectList(entries: readonly CorpusEntry[], into: string, previous = ""): string {
  const header = "# Prepared checkouts (npm run corpus:prepare); one `<path>\\t<test command>` a line.\n";
  const lines = entries.map((e) => `${join(into, checkoutDirName(e))}\t${e.testCommand}`);
  // An earlier preparation's checkouts stay listed (a second list prepared into the same directory adds to it),
  // unless this one lists them again or they are gone.
  const listed = new Set(lines.map((line) => line.split("\t")[0]));
  const kept = previous.split("\n").filter((line) => {
    const [path, command] = line.split("\t");
    return !line.startsWith("#") && path && command && !listed.has(path) && existsSync(path);
  });
  return `${header}${[...kept, ...lines].join("\n")}\n`;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      into: { type: "string", default: "/work/corpus" },
      mirrors: { type: "string", default: "/work/.mirror" },
      repos: { type: "string" },
      concurrency: { type: "string", default: "2" },
      "install-timeout": { type: "string", default: "900" },
      "write-list": { type: "string" },
    },
  });
  if (positionals.length === 0) {
    throw new Error("usage: npm run corpus:prepare -- <tsv>... [--into DIR] [--repos a/b,c/d] [--write-list FILE]");
  }
  const into = resolve(values.into);
  const seen = new Set<string>();
  let entries = positionals
    .flatMap((f) => readCorpusTsv(f, sourceName(f)))
    .filter((e) => {
      const key = `${e.repo}@${e.commit}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  if (values["write-list"]) {
    writeFileSync(values["write-list"], corpusTsv(entries));
    console.error(`wrote ${entries.length} repositories to ${values["write-list"]}`);
  }
  if (values.repos) {
    const wanted = new Set(values.repos.split(",").map((s) => s.trim()));
    entries = entries.filter((e) => wanted.has(e.repo) || wanted.has(e.repo.split("/")[1] ?? ""));
  }
  mkdirSync(into, { recursive: true });
  const concurrency = Math.max(1, Number(values.concurrency));
  const installTimeoutMs = Number(values["install-timeout"]) * 1000;
  const queue = [...entries];
  const records: PrepareRecord[] = [];
  const reportFile = join(into, "prepare-report.json");
  const worker = async () => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      const r = await prepareEntry(e, { into, mirrors: values.mirrors, installTimeoutMs });
      records.push(r);
      const took = r.durationMs === undefined ? "" : ` in ${(r.durationMs / 1000).toFixed(0)} s`;
      console.error(`${r.status.padEnd(8)} ${e.repo}${took}${r.reason ? `: ${r.reason.split("\n")[0]}` : ""}`);
      writeFileSync(reportFile, `${JSON.stringify(records, null, 2)}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ready = entries.filter((e) => existsSync(`${join(into, checkoutDirName(e))}.prepared.json`));
  const listFile = join(into, "collect.list");
  writeFileSync(listFile, collectList(ready, into, existsSync(listFile) ? readFileSync(listFile, "utf8") : ""));
  const failed = records.filter((r) => r.status === "failed");
  console.error(`${ready.length}/${entries.length} prepared in ${into} (list: ${listFile}); ${failed.length} failed`);
  if (failed.length > 0) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exitCode = 2;
  });
}
