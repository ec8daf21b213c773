/**
 * Line diffs of a file edit: counts for features and budgets, and a unified diff for previews.
 * Edits are small (a recipe's fix), so a dynamic-programming LCS over the changed middle is enough; the common
 * prefix and suffix are trimmed first so the table stays small.
 */

export interface LineOp {
  kind: " " | "+" | "-";
  text: string;
  /** 1-based line in the old file (for " " and "-") or the new file (for "+"). */
  oldLine: number;
  newLine: number;
}

/** Above this many cells the middle is treated as replaced wholesale (a reformat, not a fix). */
const MAX_TABLE_CELLS = 4_000_000;

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

export function diffLines(before: string, after: string): LineOp[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: LineOp[] = [];
  for (let i = 0; i < start; i++) ops.push({ kind: " ", text: a[i] as string, oldLine: i + 1, newLine: i + 1 });
  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_TABLE_CELLS) {
    for (let i = 0; i < n; i++)
      ops.push({ kind: "-", text: a[start + i] as string, oldLine: start + i + 1, newLine: 0 });
    for (let j = 0; j < m; j++)
      ops.push({ kind: "+", text: b[start + j] as string, oldLine: 0, newLine: start + j + 1 });
  } else {
    // lcs[i][j] = LCS length of a[start+i..endA) and b[start+j..endB)
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] =
          a[start + i] === b[start + j]
            ? (lcs[(i + 1) * w + j + 1] as number) + 1
            : Math.max(lcs[(i + 1) * w + j] as number, lcs[i * w + j + 1] as number);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        ops.push({ kind: " ", text: a[start + i] as string, oldLine: start + i + 1, newLine: start + j + 1 });
        i++;
        j++;
      } else if (i < n && (j >= m || (lcs[(i + 1) * w + j] as number) >= (lcs[i * w + j + 1] as number))) {
        // Removals before additions on ties, as unified diffs show them.
        ops.push({ kind: "-", text: a[start + i] as string, oldLine: start + i + 1, newLine: 0 });
        i++;
      } else {
        ops.push({ kind: "+", text: b[start + j] as string, oldLine: 0, newLine: start + j + 1 });
        j++;
      }
    }
  }
  const shift = m - n;
  for (let k = 0; endA + k < a.length; k++) {
    ops.push({ kind: " ", text: a[endA + k] as string, oldLine: endA + k + 1, newLine: endA + k + 1 + shift });
  }
  return ops;
}

export function countChanges(before: string, after: string): { linesAdded: number; linesRemoved: number } {
  let linesAdded = 0;
  let linesRemoved = 0;
  for (const op of diffLines(before, after)) {
    if (op.kind === "+") linesAdded++;
    else if (op.kind === "-") linesRemoved++;
  }
  return { linesAdded, linesRemoved };
}

/** Lines of the new file that the edit added or changed (1-based), for annotations. */
export function changedNewLines(before: string, after: string): number[] {
  return diffLines(before, after)
    .filter((op) => op.kind === "+")
    .map((op) => op.newLine);
}

/** A unified diff of one file with `context` lines around each change. */
export function unifiedDiff(path: string, before: string, after: string, context = 2): string {
  const ops = diffLines(before, after);
  const out: string[] = [`--- a/${path}`, `+++ b/${path}`];
  let k = 0;
  while (k < ops.length) {
    if ((ops[k] as LineOp).kind === " ") {
      k++;
      continue;
    }
    const hunkStart = Math.max(0, k - context);
    let end = k;
    // Extend the hunk while changes are closer than 2*context lines apart.
    for (;;) {
      while (end < ops.length && (ops[end] as LineOp).kind !== " ") end++;
      let next = end;
      while (next < ops.length && (ops[next] as LineOp).kind === " ") next++;
      if (next < ops.length && next - end <= context * 2) end = next;
      else break;
    }
    const hunkEnd = Math.min(ops.length, end + context);
    const hunk = ops.slice(hunkStart, hunkEnd);
    const oldStart = hunk.find((o) => o.kind !== "+")?.oldLine ?? 0;
    const newStart = hunk.find((o) => o.kind !== "-")?.newLine ?? 0;
    const oldCount = hunk.filter((o) => o.kind !== "+").length;
    const newCount = hunk.filter((o) => o.kind !== "-").length;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    k = hunkEnd;
  }
  return out.join("\n");
}

/**
 * One run of changed lines: old lines `oldStart..oldEnd` became new lines `newStart..newEnd` (1-based, inclusive;
 * an empty side has end = start - 1: a pure insertion sits before old line `oldStart`, a pure deletion before new
 * line `newStart`).
 */
export interface Hunk {
  oldStart: number;
  oldEnd: number;
  newStart: number;
  newEnd: number;
}

/** The hunks of an edit, without context lines, in order. */
export function hunks(before: string, after: string): Hunk[] {
  const out: Hunk[] = [];
  let oldNext = 1;
  let newNext = 1;
  let open: Hunk | null = null;
  for (const op of diffLines(before, after)) {
    if (op.kind === " ") {
      if (open) out.push(open);
      open = null;
      oldNext++;
      newNext++;
      continue;
    }
    open ??= { oldStart: oldNext, oldEnd: oldNext - 1, newStart: newNext, newEnd: newNext - 1 };
    if (op.kind === "-") open.oldEnd = oldNext++;
    else open.newEnd = newNext++;
  }
  if (open) out.push(open);
  return out;
}

/**
 * Where the old file's lines went: an unchanged line maps to its one new line; a line inside a hunk maps to the
 * hunk's whole new range (empty for a deletion), because a rewritten line has no single counterpart and whatever
 * was reported on it may now be reported anywhere in its replacement. Lines beyond the diff keep their shift.
 */
export function lineMapping(before: string, after: string): (oldLine: number) => { from: number; to: number } {
  const hs = hunks(before, after);
  return (line) => {
    let shift = 0;
    for (const h of hs) {
      if (line < h.oldStart) break;
      if (line <= h.oldEnd) return { from: h.newStart, to: h.newEnd };
      shift = h.newEnd - h.oldEnd;
    }
    return { from: line + shift, to: line + shift };
  };
}

/**
 * The edit with only some of its hunks applied: those for which `keep` holds. Used to take a follow-up fix only on
 * the lines an earlier fix wrote, and leave the rest of the file as it was. A hunk that rewrites as many lines as
 * it replaces is taken line by line: neighbouring lines fixed alike (two lets made const) are separate choices.
 */
export function applyHunks(before: string, after: string, keep: (h: Hunk) => boolean): string {
  const a = splitLines(before);
  const b = splitLines(after);
  const out: string[] = [];
  let oldNext = 1;
  // The final newline follows the side that wrote the last line: a kept hunk at the very end, or the old file.
  let endsWithAfter = false;
  for (const h of splitLineForLine(hunks(before, after))) {
    for (; oldNext < h.oldStart; oldNext++) out.push(a[oldNext - 1] as string);
    const kept = keep(h);
    if (kept) out.push(...b.slice(h.newStart - 1, h.newEnd));
    else out.push(...a.slice(h.oldStart - 1, h.oldEnd));
    oldNext = h.oldEnd + 1;
    endsWithAfter = kept && oldNext > a.length;
  }
  for (; oldNext <= a.length; oldNext++) out.push(a[oldNext - 1] as string);
  if (out.length === 0) return "";
  return out.join("\n") + ((endsWithAfter ? after : before).endsWith("\n") ? "\n" : "");
}

function splitLineForLine(list: readonly Hunk[]): Hunk[] {
  return list.flatMap((h) =>
    h.oldEnd - h.oldStart === h.newEnd - h.newStart
      ? Array.from({ length: h.oldEnd - h.oldStart + 1 }, (_, i) => ({
          oldStart: h.oldStart + i,
          oldEnd: h.oldStart + i,
          newStart: h.newStart + i,
          newEnd: h.newStart + i,
        }))
      : [h],
  );
}

/** Whether a hunk's old side touches one of `lines` (a pure insertion touches the lines on either side of it). */
export function hunkTouches(h: Hunk, lines: ReadonlySet<number>): boolean {
  if (h.oldEnd < h.oldStart) return lines.has(h.oldStart - 1) || lines.has(h.oldStart);
  for (let l = h.oldStart; l <= h.oldEnd; l++) if (lines.has(l)) return true;
  return false;
}

/**
 * Both edits of one file at once, when their changes are apart: every hunk of one is at least one unchanged line
 * away from every hunk of the other (a pure insertion occupies the lines on either side of it). Null when they
 * come that close, or disagree on the final newline: they cannot be applied together without a judgement.
 */
export function mergeEdits(before: string, afterA: string, afterB: string): string | null {
  if (afterA === before) return afterB;
  if (afterB === before || afterA === afterB) return afterA;
  const ends = (t: string) => t.endsWith("\n");
  const final = ends(afterA) === ends(before) ? ends(afterB) : ends(afterA);
  if (ends(afterA) !== ends(before) && ends(afterB) !== ends(before)) return null;
  const span = (h: Hunk): [number, number] =>
    h.oldEnd < h.oldStart ? [h.oldStart - 1, h.oldStart] : [h.oldStart, h.oldEnd];
  const linesA = splitLines(afterA);
  const linesB = splitLines(afterB);
  const tagged = [
    ...hunks(before, afterA).map((h) => ({ h, side: 0, lines: linesA })),
    ...hunks(before, afterB).map((h) => ({ h, side: 1, lines: linesB })),
  ].sort((x, y) => x.h.oldStart - y.h.oldStart || x.h.oldEnd - y.h.oldEnd);
  // Each side's hunks are apart by construction; a hunk must also stay apart from the other side's latest one.
  const lastEnd = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const { h, side } of tagged) {
    const [start, end] = span(h);
    if (start <= (lastEnd[1 - side] as number) + 1) return null;
    lastEnd[side] = Math.max(lastEnd[side] as number, end);
  }
  const a = splitLines(before);
  const out: string[] = [];
  let oldNext = 1;
  for (const { h, lines } of tagged) {
    for (; oldNext < h.oldStart; oldNext++) out.push(a[oldNext - 1] as string);
    out.push(...lines.slice(h.newStart - 1, h.newEnd));
    oldNext = h.oldEnd + 1;
  }
  for (; oldNext <= a.length; oldNext++) out.push(a[oldNext - 1] as string);
  if (out.length === 0) return "";
  return out.join("\n") + (final ? "\n" : "");
}
