/**
 * One renderer for the maintainer summary: the check run, the CLI and pull requests all show this text.
 */
import { unifiedDiff } from "../engine/diff.js";
import type { CandidateResult, CycleSummary, Outcome, TypeCheckCompiler } from "../engine/types.js";

/** GitHub caps a check run's summary and text at 65,535 characters each. */
export const GITHUB_TEXT_LIMIT = 65_535;

export interface RenderOptions {
  /** Cap on the summary's length; cut with a note. */
  maxLength?: number;
  /** Lines of diff shown per candidate. */
  diffPreviewLines?: number;
}

export interface RenderedSummary {
  title: string;
  summary: string;
  /** Per-candidate details (diff previews, reasons). */
  text: string;
}

/** e.g. "Type check: TypeScript 5.9.3 (the product's; the repository's 7.0.2 has no language-service API)." */
export function describeTypeCheck(c: TypeCheckCompiler, esc: (s: string) => string = (s) => s): string {
  const whose =
    c.source === "repository"
      ? "the repository's own"
      : c.repositoryVersion !== null || c.reason !== null
        ? `the product's; the repository's ${esc(c.repositoryVersion ?? "TypeScript")} ${esc(c.reason ?? "was not used")}`
        : "the product's; the repository has none installed";
  const notes = c.notes.length > 0 ? ` Compiler options: ${esc(c.notes.join("; "))}.` : "";
  return `Type check: TypeScript ${esc(c.version)} (${whose}).${notes}`;
}

/** A fix as shown: one per distinct patch, with the other recipes that proposed the byte-identical patch. */
export interface ShownFix {
  result: CandidateResult;
  alsoProposedBy: string[];
}

/**
 * Candidates whose patches are byte-identical (two tools agreeing on one change) shown as one row: the verified,
 * most trusted of them (the first on a tie) stands for the others at the place of the first, naming the recipes
 * that agree. Every row number, button and count of a report is one of these.
 */
export function distinctPatches(results: readonly CandidateResult[]): ShownFix[] {
  const groups = new Map<string, CandidateResult[]>();
  for (const r of results) {
    const group = groups.get(r.candidate.patchHash);
    if (group) group.push(r);
    else groups.set(r.candidate.patchHash, [r]);
  }
  return [...groups.values()].map((group) => {
    const best = group.reduce((a, b) => {
      const av = Number(a.outcome?.success === true);
      const bv = Number(b.outcome?.success === true);
      return bv > av || (bv === av && b.prediction.trust > a.prediction.trust) ? b : a;
    });
    const others = group.filter((r) => r !== best).map((r) => r.candidate.recipe.id);
    return { result: best, alsoProposedBy: [...new Set(others)].filter((id) => id !== best.candidate.recipe.id) };
  });
}

export function renderSummary(cycle: CycleSummary, options: RenderOptions = {}): RenderedSummary {
  const maxLength = options.maxLength ?? GITHUB_TEXT_LIMIT;
  const shown = distinctPatches(cycle.results);
  const results = shown.map((s) => s.result);
  const also = (i: number) => shown[i]?.alsoProposedBy.map((id) => `\`${escapeCode(id)}\``).join(", ") ?? "";
  const verified = results.filter((r) => r.outcome?.success).length;
  const title =
    cycle.status === "failed"
      ? `ODAVL could not complete the cycle: ${firstLine(cycle.error ?? "unknown error")}`
      : results.length === 0
        ? "ODAVL found nothing to fix"
        : `ODAVL found ${plural(results.length, "fix", "fixes")}, ${verified} verified`;

  const lines: string[] = [];
  if (cycle.status === "failed") {
    lines.push(`**The cycle failed:** ${escapeField(cycle.error ?? "unknown error")}`, "");
  }
  if (cycle.facts) {
    const f = cycle.facts;
    lines.push(
      `Repository \`${escapeCode(cycle.repository)}\`${cycle.sha ? ` at \`${cycle.sha.slice(0, 7)}\`` : ""}: ` +
        `${f.sourceFiles} source files, ${f.linesOfCode} lines, ${f.baselineDiagnostics} type-check diagnostics, ` +
        `${plural(f.baselineLintFindings, "finding", "findings")}, tests ${describeTests(f.testsPassing, f.testCommand)}.`,
      "",
    );
    if (f.typeCheck) lines.push(describeTypeCheck(f.typeCheck, escapeField), "");
  }
  const notCounted = results.find((r) => r.outcome?.status === "verified" && r.outcome.tests === "unknown")?.outcome;
  if (cycle.facts && cycle.facts.testsPassing !== "pass" && notCounted?.testsReason) {
    lines.push(`Tests did not count: ${escapeField(notCounted.testsReason)}.`, "");
  }
  lines.push(...describeStandings(cycle));
  if (results.length > 0) {
    lines.push("| # | Recipe | Scope | Files | Lines | Trust | Tier | Verified |", "|---|---|---|---|---|---|---|---|");
    results.forEach((r, i) => {
      lines.push(
        `| ${i + 1} | \`${escapeCode(r.candidate.recipe.id)}\` (${r.candidate.recipe.safety})${also(i) ? `, also proposed by ${also(i)}` : ""} | ${r.candidate.scope === "all" ? "all" : escapeTable(r.candidate.files[0]?.path ?? "")} | ${r.candidate.files.length} | +${r.candidate.linesAdded} −${r.candidate.linesRemoved} | ${formatTrust(r)} | ${r.prediction.tier} | ${describeOutcome(r.outcome)} |`,
      );
    });
    lines.push("");
    const ml = results.filter((r) => r.prediction.usedML).length;
    lines.push(
      ml === results.length
        ? `Trust is the model's probability (${results[0]?.prediction.modelVersion ?? "model"}) that the fix keeps type check, lint and tests green.`
        : results[0]?.prediction.fallbackCause === "not-promoted"
          ? `Trust is the heuristic's estimate: the heuristic decided, because the model (${escapeField(results[0].prediction.modelVersion ?? "model")}) has not shown it beats the heuristic on held-out repositories (not promoted); its score is recorded beside.`
          : `Trust is the heuristic's estimate${results[0]?.prediction.fallbackCause ? ` (model not used: ${escapeField(results[0].prediction.fallbackCause)})` : ""}.`,
    );
  }
  if (cycle.skipped.length > 0) {
    lines.push("", `<details><summary>${plural(cycle.skipped.length, "item", "items")} skipped</summary>`, "");
    for (const s of cycle.skipped.slice(0, 50))
      lines.push(`- \`${escapeCode(truncate(s.file, FIELD_LIMIT, "…"))}\`: ${escapeField(s.reason)}`);
    if (cycle.skipped.length > 50) lines.push(`- … and ${cycle.skipped.length - 50} more`);
    lines.push("", "</details>");
  }

  const details: string[] = [];
  results.forEach((r, i) => {
    details.push(
      `### ${i + 1}. ${escapeMarkdown(r.candidate.recipe.title)} — \`${escapeCode(r.candidate.recipe.id)}\``,
    );
    if (also(i)) details.push("", `**Also proposed by:** ${also(i)} (the identical patch).`);
    details.push("", `**Why this trust:** ${escapeField(r.prediction.reason)}`);
    if (r.outcome) {
      const o = r.outcome;
      details.push(
        `**Verification:** type check ${o.diagnosticsBefore} → ${o.diagnosticsAfter} diagnostics (${o.newDiagnostics} new), ` +
          `findings ${o.targetBefore} → ${o.targetAfter} (${o.newLintFindings} new), ${escapeField(describeTestsOutcome(o))}, ` +
          `score ${o.verificationScore.toFixed(2)}` +
          `${o.failureCause ? `. Failed: ${escapeField(o.failureCause)}` : ""}` +
          `${o.note ? `. Note: ${escapeField(o.note)}` : ""}.`,
      );
    }
    details.push("", "```diff", diffPreview(r, options.diffPreviewLines ?? 30), "```", "");
  });

  return {
    title: truncate(stripTerminalEscapes(title), 255, ""),
    summary: truncate(lines.join("\n"), maxLength, "\n\n_The summary was cut to fit GitHub's limit._"),
    text: truncate(details.join("\n"), maxLength, "\n\n_The details were cut to fit GitHub's limit._"),
  };
}

/** Recipes muted or on probation, and what the cost budget left out: each a paragraph, or nothing. */
function describeStandings(cycle: CycleSummary): string[] {
  const out: string[] = [];
  const standings = cycle.standings ?? [];
  const list = (status: "muted" | "probation") =>
    standings
      .filter((s) => s.status === status)
      .map((s) => `\`${escapeCode(s.recipeId)}\` (${escapeField(s.reason)})`)
      .join("; ");
  const muted = list("muted");
  if (muted) out.push(`Muted in this repository, not offered: ${muted}.`, "");
  const probation = list("probation");
  if (probation) out.push(`On probation, offered manual-only: ${probation}.`, "");
  const cap = cycle.cap;
  if (cap && cap.leftOut.length > 0) {
    const shown = cap.leftOut
      .slice(0, 10)
      .map((c) => `\`${escapeCode(truncate(c.key, FIELD_LIMIT, "…"))}\` (${c.expectedValue.toFixed(2)})`);
    const more = cap.leftOut.length > 10 ? ` and ${cap.leftOut.length - 10} more` : "";
    out.push(
      `Cost budget: ${cap.max} of ${cap.planned} candidates verified, those of highest expected value (trust × findings fixed); left out: ${shown.join(", ")}${more}.`,
      "",
    );
  }
  return out;
}

function diffPreview(r: CandidateResult, maxLines: number): string {
  const all = r.candidate.files.map((f) => unifiedDiff(f.path, f.before, f.after)).join("\n");
  const lines = all.split("\n");
  const shown = lines.slice(0, maxLines).map((l) => l.replaceAll("```", "`\u200b``"));
  if (lines.length > maxLines) shown.push(`… ${lines.length - maxLines} more lines`);
  return stripTerminalEscapes(shown.join("\n"));
}

function formatTrust(r: CandidateResult): string {
  const t = r.prediction.trust.toFixed(2);
  return r.prediction.usedML ? t : `${t} (h)`;
}

export function describeOutcome(o: Outcome | null): string {
  if (!o) return "not verified";
  if (o.status === "error") return "⚠️ error";
  if (o.success) return o.tests === "pass" ? "✅ passed" : "✅ passed (tests unknown)";
  if (o.newDiagnostics > 0) return "❌ type check";
  if (o.tests === "fail") return "❌ tests";
  return "❌ lint";
}

/** "tests pass (related tests); 3 of 4 changed lines run by tests", "tests fail: 2 failed (vitest)", … */
export function describeTestsOutcome(o: Outcome): string {
  const ran = o.testsRun === "related" ? " (related tests)" : "";
  const head =
    o.tests === "pass"
      ? `tests pass${ran}${o.testsReason ? ` (${o.testsReason})` : ""}`
      : `tests ${o.tests === "fail" ? `fail${ran}` : "unknown"}${o.testsReason ? `: ${o.testsReason}` : ""}`;
  const c = o.coverage;
  return c
    ? `${head}; ${c.coveredLines} of ${plural(c.changedLines, "changed line", "changed lines")} run by tests`
    : head;
}

function describeTests(status: string, command: string | null): string {
  if (!command) return "not run";
  return status === "pass" ? "passing" : status === "fail" ? "failing" : "unknown";
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}

/** Cuts `s` to `max` characters including the note. */
export function truncate(s: string, max: number, note: string): string {
  if (s.length <= max) return s;
  return s.slice(0, Math.max(0, max - note.length)) + note;
}

/** ANSI/terminal control sequences (CSI, OSC) and other control characters, newlines and tabs excepted. */
const TERMINAL_ESCAPES = new RegExp(
  [
    "\\u001b\\[[0-?]*[ -/]*[@-~]",
    "\\u001b\\][^\\u0007]*(?:\\u0007|\\u001b\\\\)",
    "[\\u0000-\\u0008\\u000b-\\u001f\\u007f]",
  ].join("|"),
  "g",
);

/**
 * Text longer than this is cut before it is escaped: whatever it is placed in is cut to GitHub's limit anyway, and
 * escaping megabytes of test output only to throw them away would take seconds.
 */
const MAX_ESCAPED_INPUT = 4 * GITHUB_TEXT_LIMIT;

function bounded(s: string): string {
  return s.length > MAX_ESCAPED_INPUT ? s.slice(0, MAX_ESCAPED_INPUT) : s;
}

/** Removes terminal control sequences and control characters (keeps newlines and tabs). */
export function stripTerminalEscapes(s: string): string {
  return bounded(s).replace(TERMINAL_ESCAPES, "");
}

/** Escapes text placed in markdown so it cannot open links, images, HTML or mentions. */
export function escapeMarkdown(s: string): string {
  return stripTerminalEscapes(s)
    .replace(/[\\`*_{}[\]()#+!|<>~]/g, "\\$&")
    .replace(/@/g, "@\u200b");
}

/**
 * Free text of a cycle (errors, reasons, test output) is shown up to this many characters each: one long test log
 * must not push every other fix out of the summary.
 */
const FIELD_LIMIT = 2_000;

/** A free-text field, cut to {@link FIELD_LIMIT} and escaped. */
function escapeField(s: string): string {
  return escapeMarkdown(truncate(stripTerminalEscapes(s), FIELD_LIMIT, "…"));
}

function escapeCode(s: string): string {
  return stripTerminalEscapes(s).replaceAll("`", "'");
}

function escapeTable(s: string): string {
  return escapeMarkdown(s);
}

/** The CLI's --json shape. */
export function toJson(cycle: CycleSummary): unknown {
  return {
    cycle: {
      id: cycle.id,
      repository: cycle.repository,
      sha: cycle.sha,
      trigger: cycle.trigger,
      status: cycle.status,
      startedAt: cycle.startedAt,
      durationsMs: cycle.durationsMs,
      stored: cycle.stored,
      error: cycle.error,
    },
    facts: cycle.facts,
    standings: cycle.standings ?? [],
    cap: cycle.cap ?? null,
    candidates: cycle.results.map((r) => ({
      key: r.candidate.key,
      recipe: r.candidate.recipe.id,
      family: r.candidate.recipe.family,
      safety: r.candidate.recipe.safety,
      scope: r.candidate.scope,
      files: r.candidate.files.map((f) => f.path),
      linesAdded: r.candidate.linesAdded,
      linesRemoved: r.candidate.linesRemoved,
      trust: r.prediction.trust,
      heuristicTrust: r.prediction.heuristicTrust,
      mlTrust: r.prediction.mlTrust,
      usedML: r.prediction.usedML,
      fallbackCause: r.prediction.fallbackCause,
      modelVersion: r.prediction.modelVersion,
      confidence: r.prediction.confidence,
      reason: r.prediction.reason,
      tier: r.prediction.tier,
      outcome: r.outcome,
    })),
    skipped: cycle.skipped,
  };
}
