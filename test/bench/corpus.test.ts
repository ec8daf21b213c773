/**
 * corpus:prepare: the corpus lists it reads (bad lines named), the checkouts it makes from a real bare mirror, its
 * idempotence, and the collect list it writes, read back by `odavl collect`'s own parser.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkoutDirName,
  collectList,
  corpusTsv,
  mirrorGitDir,
  prepareEntry,
  readCorpusTsv,
  selectTargets,
  sourceName,
} from "../../bench/corpus.js";
import { readList } from "../../src/collect/list.js";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd, encoding: "utf8" });

describe("corpus preparation", () => {
  let dir: string;
  let mirrors: string;
  let first: string;
  let second: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "odavl-corpus-"));
    mirrors = join(dir, "mirrors");
    // A mirror as the fetch tool leaves it: a bare repository at <mirrors>/<owner>+<name>/repo.
    const work = join(dir, "work");
    mkdirSync(work);
    git(work, "init", "-q", "-b", "main");
    writeFileSync(join(work, "package.json"), JSON.stringify({ name: "lib", version: "1.0.0" }));
    writeFileSync(join(work, "index.ts"), "export const v = 1;\n");
    git(work, "add", ".");
    git(work, "commit", "-qm", "first");
    first = git(work, "rev-parse", "HEAD").trim();
    writeFileSync(join(work, "index.ts"), "export const v = 2;\n");
    git(work, "commit", "-qam", "second");
    second = git(work, "rev-parse", "HEAD").trim();
    execFileSync("git", ["clone", "-q", "--bare", work, mirrorGitDir(mirrors, "acme/lib")]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function tsv(text: string): string {
    const file = join(dir, `list-${Math.random().toString(36).slice(2)}.tsv`);
    writeFileSync(file, text);
    return file;
  }

  it("reads the shared lists' columns and data/corpus.tsv's source column", () => {
    const shared = tsv(`repo\tcommit\tpackage_manager\ttest_cmd\tnotes\nacme/lib\t${first}\tnpm\tnpx vitest run\tx\n`);
    expect(readCorpusTsv(shared, "train")).toEqual([
      { repo: "acme/lib", commit: first, testCommand: "npx vitest run", source: "train" },
    ]);
    const own = tsv(corpusTsv([{ repo: "acme/lib", commit: first, testCommand: "npm test", source: "reserve" }]));
    expect(readCorpusTsv(own, "other")[0]?.source).toBe("reserve");
    expect(sourceName("/x/train-repos.tsv")).toBe("train");
    expect(sourceName("/x/train-reserves.tsv")).toBe("reserve");
  });

  it("names the file and line of each bad entry", () => {
    const bad = tsv(
      `repo\tcommit\ttest_cmd\nacme\t${first}\tnpm test\nacme/lib\tabc\tnpm test\nacme/lib\t${first}\t\n`,
    );
    expect(() => readCorpusTsv(bad, "x")).toThrow(
      new RegExp(`${bad}:2: "acme" is not owner/name[^]*${bad}:3: "abc" is not a 40-digit commit[^]*${bad}:4: no test`),
    );
    expect(() => readCorpusTsv(tsv("name\tsha\n"), "x")).toThrow(/header must name the columns repo, commit/);
    expect(() => readCorpusTsv(join(dir, "missing.tsv"), "x")).toThrow(/does not exist/);
  });

  it("checks out the listed commit, installs, records it, and skips it the next time", async () => {
    const into = join(dir, "corpus");
    const entry = { repo: "acme/lib", commit: first, testCommand: "npm test", source: "train" };
    const record = await prepareEntry(entry, { into, mirrors, installTimeoutMs: 120_000 });
    expect(record.status, record.reason).toBe("prepared");
    const checkout = join(into, checkoutDirName(entry));
    expect(record.dir).toBe(checkout);
    expect(git(checkout, "rev-parse", "HEAD").trim()).toBe(first);
    expect(readFileSync(join(checkout, "index.ts"), "utf8")).toBe("export const v = 1;\n");
    expect(record.installSteps?.[0]?.command).toMatch(/^npm install .*--ignore-scripts/);
    expect(existsSync(`${checkout}.prepared.json`)).toBe(true);

    const again = await prepareEntry(entry, { into, mirrors, installTimeoutMs: 120_000 });
    expect(again.status).toBe("skipped");

    const later = await prepareEntry({ ...entry, commit: second }, { into, mirrors, installTimeoutMs: 120_000 });
    expect(later.status).toBe("prepared");
    expect(later.dir).not.toBe(checkout);
  });

  it("says why a repository could not be prepared", async () => {
    const into = join(dir, "corpus-failures");
    const noMirror = await prepareEntry(
      { repo: "acme/other", commit: first, testCommand: "npm test", source: "train" },
      { into, mirrors, installTimeoutMs: 60_000 },
    );
    expect(noMirror).toMatchObject({ status: "failed", reason: expect.stringMatching(/^no mirror at /) });
    const noCommit = await prepareEntry(
      { repo: "acme/lib", commit: "0".repeat(40), testCommand: "npm test", source: "train" },
      { into, mirrors, installTimeoutMs: 60_000 },
    );
    expect(noCommit).toMatchObject({ status: "failed", reason: expect.stringMatching(/^checkout failed: /) });
    expect(
      existsSync(`${join(into, checkoutDirName({ repo: "acme/lib", commit: "0".repeat(40) }))}.prepared.json`),
    ).toBe(false);
  });

  it("writes a collect list that odavl collect reads as the same repositories and test commands", async () => {
    const into = join(dir, "corpus");
    const entries = [
      { repo: "acme/lib", commit: first, testCommand: "TZ=UTC npx jest", source: "train" },
      { repo: "acme/lib", commit: second, testCommand: "npx tsc && node --test", source: "train" },
    ];
    // readList accepts only existing directories; made here so this test stands on its own.
    for (const e of entries) mkdirSync(join(into, checkoutDirName(e)), { recursive: true });
    const file = join(dir, "collect.list");
    writeFileSync(file, collectList(entries, into));
    const read = readList(file);
    expect(read.map((e) => [e.owner, e.name, e.localPath, e.ref, e.testCommand])).toEqual([
      ["acme", "lib", join(into, checkoutDirName(entries[0] as (typeof entries)[0])), null, "TZ=UTC npx jest"],
      ["acme", "lib", join(into, checkoutDirName(entries[1] as (typeof entries)[0])), null, "npx tsc && node --test"],
    ]);

    // Preparing another list into the same directory adds to it: the first list's checkouts stay, one listed
    // again takes its new command, and one that is gone drops out.
    const other = { repo: "acme/other", commit: first, testCommand: "npx vitest run", source: "pick" };
    mkdirSync(join(into, checkoutDirName(other)), { recursive: true });
    const gone = `${join(into, "removed@0000000")}\tnpx jest\n`;
    const again = { ...(entries[1] as (typeof entries)[0]), testCommand: "node --test" };
    writeFileSync(file, collectList([other, again], into, readFileSync(file, "utf8") + gone));
    expect(readList(file).map((e) => [e.name, e.testCommand])).toEqual([
      ["lib", "TZ=UTC npx jest"],
      ["other", "npx vitest run"],
      ["lib", "node --test"],
    ]);
  });
});

describe("selectTargets (bench:real and bench:baseline)", () => {
  const list = ["a/one", "b/two", "c/three", "d/four", "e/five"].map((repo) => ({ repo }));
  it("shards every n-th from the i-th and keeps the repositories named, by owner/name or name", () => {
    expect(selectTargets(list, { shard: "2/2" }).map((t) => t.repo)).toEqual(["b/two", "d/four"]);
    expect(selectTargets(list, { shard: "1/2", repos: "five,a/one" }).map((t) => t.repo)).toEqual(["a/one", "e/five"]);
    expect(selectTargets(list, {})).toEqual(list);
  });
  it("refuses a malformed shard and a selection that matches nothing, naming the flag", () => {
    expect(() => selectTargets(list, { shard: "3/2" })).toThrow('--shard must be i/n with 1 <= i <= n, got "3/2"');
    expect(() => selectTargets(list, { shard: "x" })).toThrow("--shard must be i/n");
    expect(() => selectTargets(list, { repos: "nope" })).toThrow("--repos nope matches no repository of the list");
  });
});
