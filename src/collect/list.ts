/**
 * The collection list: one repository a line, `<git URL | path>[@ref]`, optionally a tab and the shell command that
 * runs its tests (when package.json's `test` script is not the right one). `#` starts a comment.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";

export interface ListEntry {
  /** Line number in the file (1-based), for error messages. */
  line: number;
  source: string;
  ref: string | null;
  /** Absolute path when the source is a local directory. */
  localPath: string | null;
  testCommand: string | null;
  /** owner/name the repository is recorded under. */
  owner: string;
  name: string;
}

export class ListError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = "ListError";
  }
}

export function readList(path: string, cwd = process.cwd()): ListEntry[] {
  if (!existsSync(path)) throw new ListError(`list file ${path} does not exist`);
  const entries: ListEntry[] = [];
  const problems: string[] = [];
  readFileSync(path, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      const text = raw.replace(/#.*$/, "").trimEnd();
      if (text.trim() === "") return;
      try {
        entries.push(parseEntry(text, i + 1, cwd));
      } catch (err) {
        problems.push(`${path}:${i + 1}: ${(err as Error).message}`);
      }
    });
  if (problems.length > 0) throw new ListError(`invalid list:\n  ${problems.join("\n  ")}`);
  if (entries.length === 0) throw new ListError(`${path} lists no repositories`);
  return entries;
}

export function parseEntry(text: string, line: number, cwd: string): ListEntry {
  const [spec = "", ...rest] = text.split("\t");
  const testCommand = rest.join("\t").trim();
  const trimmed = spec.trim();
  if (trimmed === "") throw new Error("empty repository");
  const isUrl = /^(https?|ssh|git|file):\/\//.test(trimmed) || /^[\w.-]+@[\w.-]+:/.test(trimmed);
  let source = trimmed;
  let ref: string | null = null;
  const asPath = resolve(cwd, trimmed);
  if (!isUrl && existsSync(asPath)) {
    source = asPath;
  } else {
    // A trailing @ref: the part after the last "@" when it cannot be part of a host or path.
    const at = trimmed.lastIndexOf("@");
    if (at > 0 && !/[/:]/.test(trimmed.slice(at + 1))) {
      source = trimmed.slice(0, at);
      ref = trimmed.slice(at + 1);
      if (!/^[\w./-]+$/.test(ref)) throw new Error(`"${ref}" is not a valid ref`);
    }
    if (!isUrl) {
      const p = resolve(cwd, source);
      if (!existsSync(p)) throw new Error(`${source} is neither a git URL nor an existing directory`);
      source = p;
    }
  }
  const localPath = isUrl ? null : source;
  const { owner, name } = identity(source, isUrl);
  return {
    line,
    source,
    ref,
    localPath,
    testCommand: testCommand && testCommand !== "-" ? testCommand : null,
    owner,
    name,
  };
}

/**
 * owner/name from a URL's last two path parts, or from a directory named `owner__name` (the layout the operators
 * use for prepared checkouts; an `@sha` suffix names an older state of the same repository).
 */
function identity(source: string, isUrl: boolean): { owner: string; name: string } {
  if (isUrl) {
    const parts = source
      .replace(/\.git$/, "")
      .split(/[/:]/)
      .filter(Boolean);
    return { owner: parts[parts.length - 2] ?? "unknown", name: parts[parts.length - 1] ?? "unknown" };
  }
  const base = basename(source).replace(/@[\w.-]+$/, "");
  const sep = base.indexOf("__");
  return sep > 0 ? { owner: base.slice(0, sep), name: base.slice(sep + 2) } : { owner: "local", name: base };
}
