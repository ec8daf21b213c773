/** A replacement of the half-open range [start, end) of a text, in UTF-16 offsets. */
export interface TextEdit {
  start: number;
  end: number;
  newText: string;
}

export class OverlappingEditsError extends Error {
  constructor(
    readonly first: TextEdit,
    readonly second: TextEdit,
  ) {
    super(`edits [${first.start}, ${first.end}) and [${second.start}, ${second.end}) overlap`);
    this.name = "OverlappingEditsError";
  }
}

function sameEdit(a: TextEdit, b: TextEdit): boolean {
  return a.start === b.start && a.end === b.end && a.newText === b.newText;
}

/**
 * Sorts edits and removes exact duplicates. Two insertions at the same offset are kept in their given order,
 * which is how the tools that produced them meant them to be read.
 * @throws {OverlappingEditsError} when two different edits touch the same characters.
 */
export function normalizeEdits(edits: readonly TextEdit[]): TextEdit[] {
  const sorted = edits
    .map((edit, index) => ({ edit, index }))
    .sort((a, b) => a.edit.start - b.edit.start || a.edit.end - b.edit.end || a.index - b.index)
    .map(({ edit }) => edit);
  const out: TextEdit[] = [];
  for (const edit of sorted) {
    const previous = out[out.length - 1];
    if (previous !== undefined) {
      if (sameEdit(previous, edit)) continue;
      if (edit.start < previous.end) throw new OverlappingEditsError(previous, edit);
    }
    out.push(edit);
  }
  return out;
}

/** @throws {OverlappingEditsError} */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const ordered = normalizeEdits(edits);
  let result = "";
  let cursor = 0;
  for (const edit of ordered) {
    result += text.slice(cursor, edit.start) + edit.newText;
    cursor = edit.end;
  }
  return result + text.slice(cursor);
}

export function detectNewline(text: string): "\n" | "\r\n" {
  const lf = text.indexOf("\n");
  return lf > 0 && text[lf - 1] === "\r" ? "\r\n" : "\n";
}

export interface IndentStyle {
  tabs: boolean;
  size: number;
}

/** Indentation of a file, guessed from its least indented indented line (block-comment continuations ignored). */
export function detectIndent(text: string): IndentStyle {
  let smallest = Number.POSITIVE_INFINITY;
  for (const line of text.split("\n")) {
    if (line.startsWith("\t")) return { tabs: true, size: 4 };
    const width = line.length - line.trimStart().length;
    if (width === 0 || width >= smallest) continue;
    const rest = line.slice(width);
    if (rest.startsWith("*") || rest.trim() === "") continue;
    smallest = width;
  }
  return { tabs: false, size: Number.isFinite(smallest) && smallest <= 8 ? smallest : 2 };
}

/** Start offsets of every line. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 10) starts.push(i + 1);
  }
  return starts;
}

/**
 * Converts a 1-based column counted in Unicode code points (as Biome reports them) to a 1-based column counted in
 * UTF-16 code units (as TypeScript and ESLint report them), so findings from all families line up.
 */
export function codePointColumnToUtf16(lineText: string, column: number): number {
  let units = 0;
  let points = 1;
  for (const char of lineText) {
    if (points >= column) break;
    units += char.length;
    points++;
  }
  return units + 1 + Math.max(0, column - points);
}
