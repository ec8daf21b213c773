/**
 * What `odavl cycle` prints: on a terminal, plain text (no markdown) carrying what the check run carries — per fix
 * why this trust, the verification and why it failed, and a diff preview; with --json, each candidate's whole
 * patch in unified diff form and its verification.
 */
import { unifiedDiff } from "../engine/diff.js";
import type { CandidateResult, CycleSummary } from "../engine/types.js";
import {
  describeOutcome,
  describeTestsOutcome,
  describeTypeCheck,
  stripTerminalEscapes,
  toJson,
} from "../summary/render.js";

export interface LocalLabels {
  /** Paths with uncommitted changes the cycle analysed (--allow-dirty). */
  dirty?: string[];
  /** --no-store: no history read or written. */
  noStore?: boolean;
}

/** One skipped item per distinct cause: the same parse error reported by every recipe is one item. */
export interface SkippedGroup {
  file: string;
  reason: string;
  /** The recipes (or bundles) that reported it. */
  by: string[];
}

const RECIPE_PREFIX = /^([A-Za-z0-9@/._+:-]+): ([\s\S]*)$/;

export function groupSkipped(skipped: CycleSummary["skipped"]): SkippedGroup[] {
  const groups = new Map<string, SkippedGroup>();
  for (const s of skipped) {
    // Recipe failures are recorded under the pseudo-file "(recipe)"; their reason starts with the recipe's id.
    const m = RECIPE_PREFIX.exec(s.reason);
    const by = m?.[1] ?? "";
    const reason = m?.[2] ?? s.reason;
    const file = s.file === "(recipe)" && by ? `recipe ${by}` : s.file;
    const key = `${file}\u0000${reason}`;
    const g = groups.get(key);
    if (g) {
      if (by && !g.by.includes(by)) g.by.push(by);
    } else groups.set(key, { file, reason, by: by ? [by] : [] });
  }
  return [...groups.values()];
}

function clean(s: string): string {
  return stripTerminalEscapes(s);
}

function oneLine(s: string, max = 300): string {
  const first = clean(s).split("\n")[0] ?? "";
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

function patchOf(r: CandidateResult): string {
  return r.candidate.files.map((f) => unifiedDiff(f.path, f.before, f.after)).join("\n");
}

function diffPreview(r: CandidateResult, maxLines: number): string[] {
  const lines = clean(patchOf(r)).split("\n");
  const shown = lines.slice(0, maxLines);
  if (lines.length > maxLines)
    shown.push(
      `… ${lines.length - maxLines} more line${lines.length - maxLines === 1 ? "" : "s"} (odavl cycle --json has the whole patch)`,
    );
  return shown;
}

function trustText(r: CandidateResult): string {
  return `${r.prediction.trust.toFixed(2)}${r.prediction.usedML ? "" : " (heuristic)"}`;
}

export function renderTerminal(cycle: CycleSummary, labels: LocalLabels = {}, diffLines = 12): string {
  const out: string[] = [];
  const results = cycle.results;
  const verified = results.filter((r) => r.outcome?.success).length;
  if (cycle.status === "failed") out.push(`The cycle failed: ${oneLine(cycle.error ?? "unknown error", 2000)}`);
  else out.push(results.length === 0 ? "Nothing to fix." : `${results.length} fixes found, ${verified} verified.`);
  if (labels.dirty && labels.dirty.length > 0) {
    out.push(
      `Working tree with ${labels.dirty.length} uncommitted change${labels.dirty.length === 1 ? "" : "s"} on top of ${cycle.sha?.slice(0, 7) ?? "HEAD"} (--allow-dirty): these results are not those of any commit.`,
    );
  }
  if (labels.noStore) {
    out.push("--no-store: no history was read or written, so trust was judged without this repository's history.");
  }
  if (cycle.facts) {
    const f = cycle.facts;
    out.push(
      "",
      `${cycle.repository}${cycle.sha ? ` at ${cycle.sha.slice(0, 7)}` : ""}: ${f.sourceFiles} source files, ${f.linesOfCode} lines, ` +
        `${f.baselineDiagnostics} type-check diagnostics, ${f.baselineLintFindings} findings, tests ${f.testCommand ? f.testsPassing : "not run"}.`,
    );
    if (f.typeCheck) out.push(clean(describeTypeCheck(f.typeCheck)));
  }
  results.forEach((r, i) => {
    const c = r.candidate;
    const where =
      c.scope === "all" ? `${c.files.length} file${c.files.length === 1 ? "" : "s"}` : (c.files[0]?.path ?? "");
    out.push(
      "",
      `${i + 1}. ${clean(c.recipe.title)} [${c.recipe.id}] ${where}, +${c.linesAdded} -${c.linesRemoved}`,
      `   trust ${trustText(r)}, ${r.prediction.tier}; ${describeOutcome(r.outcome)}`,
      `   why this trust: ${oneLine(r.prediction.reason, 1000)}`,
    );
    const o = r.outcome;
    if (o) {
      if (o.failureCause) out.push(`   why it failed: ${oneLine(o.failureCause, 1000)}`);
      out.push(
        `   verification: type check ${o.diagnosticsBefore} -> ${o.diagnosticsAfter} (${o.newDiagnostics} new), ` +
          `findings ${o.targetBefore} -> ${o.targetAfter} (${o.newLintFindings} new lint), ${oneLine(describeTestsOutcome(o))}`,
      );
      if (o.note) out.push(`   note: ${oneLine(o.note)}`);
    }
    for (const line of diffPreview(r, diffLines)) out.push(`   ${line}`);
  });
  if (results.length > 0 && results.some((r) => !r.prediction.usedML)) {
    const cause = results.find((r) => r.prediction.fallbackCause)?.prediction.fallbackCause;
    out.push(
      "",
      `Trust marked (heuristic) is the heuristic's estimate${cause ? ` (model not used: ${oneLine(cause)})` : ""}.`,
    );
  }
  const skipped = groupSkipped(cycle.skipped);
  if (skipped.length > 0) {
    out.push("", `${skipped.length} item${skipped.length === 1 ? "" : "s"} skipped:`);
    for (const s of skipped.slice(0, 20)) {
      const by =
        s.by.length > 1
          ? ` (${s.by.length} recipes)`
          : s.by.length === 1 && !s.file.startsWith("recipe ")
            ? ` (${s.by[0]})`
            : "";
      out.push(`  ${clean(s.file)}: ${oneLine(s.reason)}${by}`);
    }
    if (skipped.length > 20) out.push(`  … and ${skipped.length - 20} more (odavl cycle --json lists them all)`);
  }
  return `${out.join("\n")}\n`;
}

/** --json: the summary with each candidate's patch (unified diff) and verification, and the labels. */
export function renderJson(cycle: CycleSummary, labels: LocalLabels = {}): string {
  const base = toJson(cycle) as { candidates: Record<string, unknown>[]; [k: string]: unknown };
  const candidates = base.candidates.map((c, i) => {
    const r = cycle.results[i] as CandidateResult;
    return { ...c, patch: patchOf(r), verification: r.outcome };
  });
  return `${JSON.stringify(
    {
      ...base,
      candidates,
      skippedGroups: groupSkipped(cycle.skipped),
      workingTree: { dirty: (labels.dirty?.length ?? 0) > 0, uncommitted: labels.dirty ?? [] },
      history: labels.noStore ? "none (--no-store)" : "stored",
    },
    null,
    2,
  )}\n`;
}
