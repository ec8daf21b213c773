/**
 * Which lines the baseline tests executed, from V8's own coverage (NODE_V8_COVERAGE), so a candidate's outcome can
 * say whether the tests ran the lines it changes. Only the baseline run collects it (Observe side); candidates look
 * their before-side line numbers up in it.
 *
 * V8 reports byte ranges with counts per script. Scripts Node loads itself come with the file's offsets, or with a
 * source map in the report's `source-map-cache` (tsx, compiled code with maps). Test runners that evaluate
 * transformed code through `vm` (vitest, jest) do not appear there, so a small preload (run in the sandbox with the
 * tests, written beside the copy) records each such script's line lengths and inline source map at exit. Coverage of
 * code that cannot be mapped back to a repository file leaves the answer open (null), never "not covered".
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { diffLines } from "../engine/diff.js";

/** Written into the copy; runs inside the sandbox in every Node process of the test run. */
const PRELOAD = String.raw`"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const v8 = require("node:v8");
const out = process.env.NODE_V8_COVERAGE;
const root = process.cwd();
const records = [];
const inline = /^[A-Za-z0-9+/=]+/;
function note(code, options) {
  try {
    const filename = typeof options === "string" ? options : options && options.filename;
    if (typeof filename !== "string" || typeof code !== "string") return;
    const file = filename.startsWith("file://") ? require("node:url").fileURLToPath(filename) : filename;
    if (!file.startsWith(root + "/") || file.includes("/node_modules/")) return;
    // The last inline map of the script (vitest appends its own comments after it).
    const at = code.lastIndexOf("sourceMappingURL=data:application/json");
    const comma = at < 0 ? -1 : code.indexOf(";base64,", at);
    const m = comma < 0 ? null : inline.exec(code.slice(comma + 8));
    records.push({
      file,
      lineLengths: code.split("\n").map((l) => l.length),
      lineOffset: (options && options.lineOffset) || 0,
      columnOffset: (options && options.columnOffset) || 0,
      map: m ? Buffer.from(m[0], "base64").toString("utf8") : null,
    });
  } catch {}
}
const { runInThisContext, runInContext, Script } = vm;
vm.runInThisContext = function (code, options) { note(code, options); return runInThisContext.apply(this, arguments); };
vm.runInContext = function (code, ctx, options) { note(code, options); return runInContext.apply(this, arguments); };
vm.Script = class extends Script { constructor(code, options) { note(code, options); super(code, options); } };
require("node:module").syncBuiltinESMExports();
let written = false;
function write() {
  if (written || !out) return;
  written = true;
  const tid = require("node:worker_threads").threadId;
  try { fs.writeFileSync(path.join(out, "odavl-" + process.pid + "-" + tid + ".json"), JSON.stringify(records)); } catch {}
}
process.on("exit", write);
// Test runners stop their workers with SIGTERM; without a listener the process dies before writing its coverage.
function onTerm() {
  write();
  try { v8.takeCoverage(); } catch {}
  process.removeListener("SIGTERM", onTerm);
  if (process.listenerCount("SIGTERM") === 0) process.kill(process.pid, "SIGTERM");
}
process.on("SIGTERM", onTerm);
`;

/**
 * Prepares coverage collection for a test run in `copyDir`: a fresh directory beside the copy (never inside it:
 * runners that report coverage of every file under the repository, such as tap with its 100% check, or tests that
 * list the repository's files, would count the preload as the repository's own), holding the preload and, apart
 * from it, the directory V8 writes to (c8 takes NODE_V8_COVERAGE as its own and empties it before the tests start),
 * and the environment that turns both on for every Node process of the run, wherever it starts. `writable` is what
 * the run must be able to write (a sandbox run gets it as a writable path); `dir` is what {@link readCoverage}
 * reads.
 */
export function prepareCoverage(copyDir: string): {
  dir: string;
  writable: string;
  env: Record<string, string>;
  remove(): void;
} {
  const root = mkdtempSync(path.join(path.dirname(path.resolve(copyDir)), "coverage-"));
  const dir = path.join(root, "v8");
  mkdirSync(dir);
  const preload = path.join(root, "preload.cjs");
  writeFileSync(preload, PRELOAD);
  return {
    dir,
    writable: root,
    // Quoted only where needed: Node splits NODE_OPTIONS on spaces, and tools that read it split it naively.
    env: { NODE_V8_COVERAGE: dir, NODE_OPTIONS: `--require ${/\s/.test(preload) ? JSON.stringify(preload) : preload}` },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Executed lines per repository file (1-based), as the baseline tests ran them. */
export interface BaselineCoverage {
  /** Lines with code that the tests ran (count > 0), per repository-relative path. */
  covered: Map<string, Set<number>>;
  /** Files seen with code the coverage could not map to their lines: no answer for them. */
  unmapped: Set<string>;
  /**
   * Some code under the repository ran that is not one of its files (build output without source maps), so a
   * file missing from `covered` may still have run through it: no answer for files not seen.
   */
  incomplete: boolean;
}

interface V8Range {
  startOffset: number;
  endOffset: number;
  count: number;
}
interface V8Script {
  url: string;
  functions: { ranges: V8Range[] }[];
}
interface NodeSourceMapEntry {
  lineLengths: number[];
  data: RawSourceMap | null;
}
interface RawSourceMap {
  sources: (string | null)[];
  sourceRoot?: string;
  mappings: string;
}
interface ScriptRecord {
  file: string;
  lineLengths: number[];
  lineOffset: number;
  columnOffset: number;
  map: string | null;
}

/** Reads what {@link prepareCoverage} collected in a copy of `copyDir`; null when nothing usable was written. */
export function readCoverage(
  copyDir: string,
  coverageDir: string,
  repoFiles: ReadonlySet<string>,
): BaselineCoverage | null {
  if (!existsSync(coverageDir)) return null;
  const roots = [...new Set([path.resolve(copyDir), safeRealpath(copyDir)])];
  const relative = (file: string): string | null => {
    for (const r of roots) {
      if (file.startsWith(`${r}/`)) {
        const rel = file.slice(r.length + 1);
        return rel.split("/").includes("node_modules") ? null : rel;
      }
    }
    return null;
  };
  const names = readdirSync(coverageDir);
  const records = new Map<string, ScriptRecord>();
  const preloaded = new Set<string>();
  for (const name of names) {
    const m = /^odavl-(\d+)-(\d+)\.json$/.exec(name);
    if (!m) continue;
    preloaded.add(`${m[1]}-${m[2]}`);
    for (const r of parseJson<ScriptRecord[]>(path.join(coverageDir, name)) ?? []) records.set(r.file, r);
  }
  const result: BaselineCoverage = { covered: new Map(), unmapped: new Set(), incomplete: false };
  let reports = 0;
  for (const name of names) {
    const m = /^coverage-(\d+)-\d+-(\d+)\.json$/.exec(name);
    if (!m) continue;
    const report = parseJson<{ result: V8Script[]; "source-map-cache"?: Record<string, NodeSourceMapEntry> }>(
      path.join(coverageDir, name),
    );
    if (!report) continue;
    reports++;
    // A process the preload did not reach (a test script that sets NODE_OPTIONS itself) may have run transformed
    // code through vm under a file's name; its offsets cannot be trusted for non-JavaScript files.
    const hasPreload = preloaded.has(`${m[1]}-${m[2]}`);
    const sourceMaps = report["source-map-cache"] ?? {};
    for (const script of report.result) {
      if (!script.url.startsWith("file://")) continue;
      const file = fileURLToPath(script.url);
      const rel = relative(file);
      if (rel === null) continue;
      const counts = flatten(script.functions);
      const record = records.get(file);
      const nodeMap = sourceMaps[script.url];
      if (record) {
        if (!record.map) {
          markUnmapped(result, rel, repoFiles);
          continue;
        }
        const map = parseMap(record.map);
        if (!map) {
          markUnmapped(result, rel, repoFiles);
          continue;
        }
        addMapped(result, counts, record.lineLengths, map, file, record.lineOffset, record.columnOffset, relative);
      } else if (nodeMap?.data) {
        addMapped(result, counts, nodeMap.lineLengths, nodeMap.data, file, 0, 0, relative);
      } else if (!repoFiles.has(rel) || (!hasPreload && !/\.[cm]?jsx?$/.test(rel))) {
        markUnmapped(result, rel, repoFiles);
      } else {
        addPlain(result, counts, rel, readFileSync(file, "utf8"));
      }
    }
  }
  return reports > 0 ? result : null;
}

function markUnmapped(result: BaselineCoverage, rel: string, repoFiles: ReadonlySet<string>): void {
  if (repoFiles.has(rel)) result.unmapped.add(rel);
  else result.incomplete = true;
}

/**
 * Changed lines of a candidate (the before side: lines removed or replaced; for a pure insertion, the line it
 * follows) and how many of them the baseline tests ran. null when the coverage cannot answer for a changed file.
 */
export function changedLineCoverage(
  coverage: BaselineCoverage | null,
  files: readonly { path: string; before: string; after: string }[],
): { changedLines: number; coveredLines: number } | null {
  if (!coverage) return null;
  let changedLines = 0;
  let coveredLines = 0;
  for (const f of files) {
    if (coverage.unmapped.has(f.path)) return null;
    const covered = coverage.covered.get(f.path);
    if (!covered && coverage.incomplete) return null;
    const lines = beforeSideLines(f.before, f.after);
    changedLines += lines.size;
    for (const line of lines) if (covered?.has(line)) coveredLines++;
  }
  return { changedLines, coveredLines };
}

export function beforeSideLines(before: string, after: string): Set<number> {
  const lines = new Set<number>();
  let lastOld = 0;
  let pendingInsert = false;
  for (const op of diffLines(before, after)) {
    if (op.kind === "-") {
      lines.add(op.oldLine);
      pendingInsert = false;
    } else if (op.kind === "+") {
      pendingInsert = true;
    } else {
      if (pendingInsert) lines.add(lastOld > 0 ? lastOld : op.oldLine);
      pendingInsert = false;
      lastOld = op.oldLine;
    }
    if (op.kind !== "+") lastOld = op.oldLine || lastOld;
  }
  if (pendingInsert && lastOld > 0) lines.add(lastOld);
  return lines;
}

/**
 * Count at each offset. V8 lists ranges that nest (a function inside a script, a block inside a function), and the
 * innermost range containing an offset holds its count: a sweep turns them into disjoint intervals, looked up by
 * binary search.
 */
function flatten(functions: V8Script["functions"]): (offset: number) => number {
  const ranges = functions
    .flatMap((f) => f.ranges)
    .sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
  const starts: number[] = [];
  const ends: number[] = [];
  const values: number[] = [];
  const stack: V8Range[] = [];
  let cursor = 0;
  const emit = (upTo: number) => {
    const top = stack[stack.length - 1];
    if (top && upTo > cursor) {
      starts.push(cursor);
      ends.push(upTo);
      values.push(top.count);
    }
    cursor = Math.max(cursor, upTo);
  };
  for (const r of ranges) {
    while (stack.length > 0 && (stack[stack.length - 1] as V8Range).endOffset <= r.startOffset) {
      emit((stack[stack.length - 1] as V8Range).endOffset);
      stack.pop();
    }
    emit(r.startOffset);
    stack.push(r);
  }
  while (stack.length > 0) {
    emit((stack[stack.length - 1] as V8Range).endOffset);
    stack.pop();
  }
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((starts[mid] as number) > offset) hi = mid - 1;
      else if ((ends[mid] as number) <= offset) lo = mid + 1;
      else return values[mid] as number;
    }
    return 0;
  };
}

function addLine(result: BaselineCoverage, rel: string, line: number): void {
  let set = result.covered.get(rel);
  if (!set) {
    set = new Set();
    result.covered.set(rel, set);
  }
  if (line > 0) set.add(line);
}

/** A script whose offsets are the file's own: a line ran when one of its non-blank characters did. */
function addPlain(result: BaselineCoverage, counts: (offset: number) => number, rel: string, text: string): void {
  addLine(result, rel, 0);
  let offset = 0;
  text.split("\n").forEach((line, i) => {
    for (let c = 0; c < line.length; c++) {
      if (line.charCodeAt(c) > 32 && counts(offset + c) > 0) {
        addLine(result, rel, i + 1);
        break;
      }
    }
    offset += line.length + 1;
  });
}

/** A transformed script: each mapping's generated position is looked up and credited to its original line. */
function addMapped(
  result: BaselineCoverage,
  counts: (offset: number) => number,
  lineLengths: readonly number[],
  map: RawSourceMap,
  file: string,
  lineOffset: number,
  columnOffset: number,
  relative: (file: string) => string | null,
): void {
  // Start offset of each generated line of the script as V8 saw it.
  const starts: number[] = [];
  let acc = 0;
  for (const len of lineLengths) {
    starts.push(acc);
    acc += len + 1;
  }
  const base = map.sourceRoot
    ? new URL(map.sourceRoot.endsWith("/") ? map.sourceRoot : `${map.sourceRoot}/`, `file://${file}`)
    : new URL(`file://${file}`);
  const sources = map.sources.map((s) => {
    if (s === null) return null;
    try {
      const abs = s.startsWith("/") ? s : fileURLToPath(new URL(s, base));
      return relative(abs);
    } catch {
      return null;
    }
  });
  for (const rel of sources) if (rel) addLine(result, rel, 0);
  decodeMappings(map.mappings, (genLine, genCol, source, origLine) => {
    const rel = sources[source];
    if (!rel) return;
    // The script's line 0 is the map's line `lineOffset`; its first line's columns are shifted by columnOffset.
    const scriptLine = genLine - lineOffset;
    const scriptCol = scriptLine === 0 ? genCol - columnOffset : genCol;
    const start = starts[scriptLine];
    if (start === undefined || scriptCol < 0) return;
    if (counts(start + scriptCol) > 0) addLine(result, rel, origLine + 1);
  });
}

const B64 = new Map([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]));

/** Source-map v3 "mappings" (base64 VLQ): calls `f` for every segment that names a source. */
export function decodeMappings(
  mappings: string,
  f: (genLine: number, genCol: number, source: number, origLine: number, origCol: number) => void,
): void {
  let genLine = 0;
  let genCol = 0;
  let source = 0;
  let origLine = 0;
  let origCol = 0;
  let i = 0;
  const fields: number[] = [];
  while (i <= mappings.length) {
    const ch = mappings[i];
    if (ch === undefined || ch === ";" || ch === ",") {
      if (fields.length > 0) {
        genCol += fields[0] as number;
        if (fields.length >= 4) {
          source += fields[1] as number;
          origLine += fields[2] as number;
          origCol += fields[3] as number;
          f(genLine, genCol, source, origLine, origCol);
        }
        fields.length = 0;
      }
      if (ch === ";") {
        genLine++;
        genCol = 0;
      }
      i++;
      continue;
    }
    let value = 0;
    let shift = 0;
    for (;;) {
      const digit = B64.get(mappings[i++] ?? "");
      if (digit === undefined) throw new Error(`invalid source map: bad character at ${i - 1}`);
      value += (digit & 31) << shift;
      shift += 5;
      if ((digit & 32) === 0) break;
    }
    fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
  }
}

function parseMap(text: string): RawSourceMap | null {
  try {
    const map = JSON.parse(text) as RawSourceMap;
    return Array.isArray(map.sources) && typeof map.mappings === "string" ? map : null;
  } catch {
    return null;
  }
}

function parseJson<T>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return null;
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}
