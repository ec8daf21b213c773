/**
 * What `odavl train` does, without argument parsing or process handling (the CLI owns those): train from the
 * database or a dataset file, write the model and its card, register it, optionally promote it, and return the
 * lines to print.
 */
import { num as f, pct } from "../../analytics/format.js";
import type { DbOrTx } from "../../db/client.js";
import type { MetricSet } from "../metrics.js";
import { type ModelRow, promoteModel, registerTrained } from "../registry.js";
import type { Interval, ModelCard } from "./card.js";
import { trainFromDb, trainFromJsonl } from "./run.js";

export interface TrainCommandArgs {
  /**
   * Dataset files (gzip'ed JSON Lines), combined in order (see combine.ts); the database when absent or empty.
   */
  datasets?: readonly string[];
  outDir: string;
  /** The files' name without extension (`--name trust-predictor`); `trust-predictor-<version>` when absent. */
  name?: string;
  seed?: number;
  /** Promote the new model when it is not worse than the current one. */
  promote?: boolean;
  /** Promote even when it is worse. */
  force?: boolean;
}

export interface TrainCommandDeps {
  /** Needed to train from the database, to register and to promote. */
  db?: DbOrTx;
  now?: Date;
}

export interface TrainCommandResult {
  card: ModelCard;
  modelPath: string;
  cardPath: string;
  model: ModelRow | null;
  promoted: boolean;
  lines: string[];
}

class TrainCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainCommandError";
  }
}

function row(label: string, m: MetricSet): string {
  return `  ${label.padEnd(10)} AUC ${f(m.auc)}  log-loss ${f(m.logLoss)}  Brier ${f(m.brier)}  ECE ${f(m.ece)}  FPR ${f(m.falsePositiveRate)}  auto-apply precision ${f(m.autoApplyPrecision)} at ${f(m.autoApprovalRate)}`;
}

/**
 * The operating points: for each wanted precision, the share of candidates approved at the threshold that reaches
 * it, within each fold (weighted by the fold's samples; a fold where it is never reached approves none) and pooled
 * over folds (one threshold for samples scored by different folds' models and calibrations).
 */
function operatingPointLines(card: ModelCard): string[] {
  const pooled = card.heldOut.operatingPoints;
  if (!pooled) return [];
  const total = card.heldOut.folds.reduce((s, x) => s + x.samples, 0);
  const withinFolds = (i: number, who: "model" | "heuristic"): number =>
    card.heldOut.folds.reduce((s, x) => s + x.samples * (x.operatingPoints?.[i]?.[who]?.approvalRate ?? 0), 0) /
    Math.max(1, total);
  return [
    "  approved at the threshold reaching a precision (within folds | pooled):",
    ...pooled.map(
      (o, i) =>
        `    precision >= ${o.minPrecision}: model ${pct(withinFolds(i, "model"))} | ${pct(o.model?.approvalRate ?? 0)}   heuristic ${pct(withinFolds(i, "heuristic"))} | ${pct(o.heuristic?.approvalRate ?? 0)}`,
    ),
  ];
}

const iv = (i: Interval | undefined, digits = 3): string =>
  !i || i.value === null
    ? "n/a"
    : `${i.value.toFixed(digits)}${i.low !== null && i.high !== null ? ` [${i.low.toFixed(digits)}, ${i.high.toFixed(digits)}]` : ""}`;

/** The headline figures with their 95% intervals from resampling repositories, the gate, and the tables. */
export function comparisonLines(card: ModelCard): string[] {
  const c = card.heldOut.comparison;
  const lines: string[] = [];
  if (c) {
    lines.push(`  model vs heuristic on held-out repositories (95% intervals, ${c.resamples} repository resamples):`);
    for (const [name, v] of [
      ["mean per fold", c.meanPerFold],
      ["pooled", c.pooled],
    ] as const) {
      lines.push(
        `    ${name.padEnd(13)} AUC ${iv(v.model.auc)} vs ${iv(v.heuristic.auc)}, gain ${iv(v.improvement.auc)}; log-loss ${iv(v.model.logLoss)} vs ${iv(v.heuristic.logLoss)}, gain ${iv(v.improvement.logLoss)}`,
      );
    }
  }
  const t = card.heldOut.chosenThresholds;
  if (t) {
    const r = (x: (typeof t.realised)["model"]) =>
      `precision ${x.precision === null ? "n/a" : pct(x.precision)}, approval ${x.approvalRate === null ? "n/a" : pct(x.approvalRate)}, failures approved ${x.failuresApproved === null ? "n/a" : pct(x.failuresApproved)}`;
    lines.push(
      `  auto-apply thresholds chosen on training folds for precision >= ${t.minPrecision}, realised held out: model ${r(t.realised.model)}; heuristic ${r(t.realised.heuristic)}`,
    );
  }
  if (card.heldOut.validation?.length) {
    lines.push("  validation table (held out, at the card's thresholds; 95% intervals): model | heuristic | majority");
    for (const row of card.heldOut.validation) {
      lines.push(`    ${row.metric}: ${iv(row.model)} | ${iv(row.heuristic)} | ${iv(row.majority)}`);
    }
  }
  if (card.heldOut.learningCurve?.length) {
    lines.push(
      `  learning curve (mean per fold, model AUC / log-loss; heuristic ${f(card.heldOut.learningCurve[0]?.heuristic.auc ?? null)} / ${f(card.heldOut.learningCurve[0]?.heuristic.logLoss ?? null)}): ${card.heldOut.learningCurve
        .map(
          (p) =>
            `${Math.round(p.fraction * 100)}% (${p.repositories.toFixed(1)} repositories) ${f(p.model.auc)} / ${f(p.model.logLoss)}`,
        )
        .join(", ")}`,
    );
  }
  const noSkill = card.heldOut.folds.filter((x) => x.skill === false).map((x) => x.fold);
  if (noSkill.length) lines.push(`  folds without skill (calibration slope held at 0): ${noSkill.join(", ")}`);
  if (card.gate) {
    lines.push(
      card.gate.open
        ? "  gate: open (the model decides)"
        : `  gate: closed (the heuristic decides, cause not-promoted): ${card.gate.reasons.join("; ")}`,
    );
  }
  return lines;
}

function summarizeCard(card: ModelCard): string[] {
  const p = card.heldOut.pooled;
  return [
    `model ${card.modelVersion} (${card.kind}), feature schema v${card.featureSchemaVersion}`,
    `data: ${card.data.samples} samples from ${card.data.repositories} repositories, ${pct(card.data.positiveRate)} successes`,
    `held out (${card.heldOut.method}):`,
    row("model", p.model),
    row("heuristic", p.heuristic),
    row("majority", p.majority),
    // Pooled AUC ranks samples of different folds against each other under different folds' calibrations; within a
    // fold one model ranks them, as the shipped model ranks a repository's candidates.
    `  AUC per fold, model / heuristic: ${card.heldOut.folds.map((x) => `${f(x.metrics.model.auc)} / ${f(x.metrics.heuristic.auc)}`).join(", ")}`,
    ...(card.trees !== undefined ? [`  trees kept by early stopping: ${card.trees}`] : []),
    ...operatingPointLines(card),
    ...comparisonLines(card),
  ];
}

export async function runTrainCommand(
  args: TrainCommandArgs,
  deps: TrainCommandDeps = {},
): Promise<TrainCommandResult> {
  const { db } = deps;
  const common = {
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  };
  let card: ModelCard;
  let modelPath: string;
  let cardPath: string;
  let model: ModelRow | null = null;
  const dataLines: string[] = [];
  if (args.datasets?.length) {
    const r = await trainFromJsonl(args.datasets, {
      ...common,
      outDir: args.outDir,
      ...(args.name ? { name: args.name } : {}),
    });
    if (!r.written) throw new TrainCommandError("the model was not written");
    card = r.result.card;
    dataLines.push(
      `datasets ${args.datasets.join(", ")}: ${r.replacedRows} rows replaced by a later file's rows of their commit, ${r.duplicates} repeated runs left out, ${r.skippedRows} rows of an unconvertible schema skipped`,
    );
    ({ modelPath, cardPath } = r.written);
    if (db) model = await registerTrained(db, card, modelPath);
  } else {
    if (!db) throw new TrainCommandError("training from the database needs a database");
    const r = await trainFromDb(db, {
      ...common,
      outDir: args.outDir,
      ...(args.name ? { name: args.name } : {}),
    });
    card = r.result.card;
    ({ modelPath, cardPath, model } = r);
  }
  const lines = [...dataLines, ...summarizeCard(card), `wrote ${modelPath}`, `wrote ${cardPath}`];
  let promoted = false;
  if (args.promote || args.force) {
    if (!db) throw new TrainCommandError("promotion needs a database");
    const p = await promoteModel(db, card.modelVersion, { force: args.force === true });
    promoted = true;
    lines.push(
      `promoted ${p.promoted.version}${p.previous ? ` (retired ${p.previous.version})` : ""}${p.overridden.length ? " by force" : ""}`,
    );
  }
  return { card, modelPath, cardPath, model, promoted, lines };
}
