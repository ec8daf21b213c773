/** The collection list: comments, refs, test commands, identities, and bad lines named by their line number. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListError, parseEntry, readList } from "../../src/collect/list.js";

describe("collection list", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "odavl-collect-list-"));
    mkdirSync(join(dir, "acme__lib"));
    mkdirSync(join(dir, "plain"));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function list(text: string): string {
    const file = join(dir, `list-${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(file, text);
    return file;
  }

  it("reads URLs and paths, refs, test commands and comments", () => {
    const file = list(
      [
        "# repositories to collect",
        "",
        "https://github.com/vitejs/vite.git@v5.0.0   # a tag",
        "git@github.com:owner/tool.git",
        "acme__lib@main\tnpm run test:unit",
        "plain\t-",
        "   # an indented comment",
      ].join("\n"),
    );
    const entries = readList(file, dir);
    expect(entries).toEqual([
      {
        line: 3,
        source: "https://github.com/vitejs/vite.git",
        ref: "v5.0.0",
        localPath: null,
        testCommand: null,
        owner: "vitejs",
        name: "vite",
      },
      {
        line: 4,
        source: "git@github.com:owner/tool.git",
        ref: null,
        localPath: null,
        testCommand: null,
        owner: "owner",
        name: "tool",
      },
      {
        line: 5,
        source: join(dir, "acme__lib"),
        ref: "main",
        localPath: join(dir, "acme__lib"),
        testCommand: "npm run test:unit",
        owner: "acme",
        name: "lib",
      },
      {
        line: 6,
        source: join(dir, "plain"),
        ref: null,
        localPath: join(dir, "plain"),
        testCommand: null,
        owner: "local",
        name: "plain",
      },
    ]);
  });

  it("names every bad line with its line number", () => {
    const file = list(["plain", "no-such-directory", "# fine", "plain@bad ref!", ""].join("\n"));
    let error: unknown;
    try {
      readList(file, dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ListError);
    const message = (error as Error).message;
    expect(message).toContain(`${file}:2: no-such-directory is neither a git URL nor an existing directory`);
    expect(message).toContain(`${file}:4:`);
    expect(message).not.toContain(`${file}:1:`);
  });

  it("refuses a missing file and a list without repositories", () => {
    expect(() => readList(join(dir, "absent.txt"), dir)).toThrow(ListError);
    expect(() => readList(list("# nothing\n\n"), dir)).toThrow(/lists no repositories/);
  });

  it("parses one entry", () => {
    expect(parseEntry("https://gitlab.com/group/sub/project", 7, dir)).toMatchObject({
      line: 7,
      owner: "sub",
      name: "project",
      ref: null,
    });
    expect(() => parseEntry("\tnpm test", 1, dir)).toThrow(/empty repository/);
  });
});
