import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { AcceptanceRow } from "../../analytics/acceptance.js";
import * as f from "../../analytics/format.js";
import { AnalyticsOptionError, parseDateOption, parseNumberOption } from "../../analytics/options.js";
import { buildReport, DEFAULT_MIN_SAMPLES } from "../../analytics/report.js";
import { renderReportHtml } from "../../analytics/report-html.js";
import { renderReportMarkdown } from "../../analytics/report-markdown.js";
import { validationValue } from "../../analytics/report-tables.js";
import { readEnv } from "../../config/env.js";
import { openDb } from "../../db/client.js";
import { type ModelCard, parseModelCard } from "../../model/train/card.js";
import { comparisonLines } from "../../model/train/command.js";
import { DEFAULT_MODEL_PATH, dataDir } from "../../runtime/create-runtime.js";
import { type CommandContext, parseFlags } from "../command.js";
import { SPECS } from "../spec.js";
import { UsageError } from "../usage-error.js";

/**
 * The card beside the configured model (ML_MODEL_PATH, else the shipped one): its held-out validation table,
 * comparison with the heuristic and gate go into the report. Null when there is none to read.
 */
async function modelCard(modelPath: string): Promise<ModelCard | null> {
  const path = modelPath.replace(/\.onnx$/, ".json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return null;
  }
  return parseModelCard(JSON.parse(text), path);
}

/** The maintainers' answers in one line: how many fix pull requests they accepted, overall. */
function acceptanceLine(rows: readonly AcceptanceRow[]): string {
  const all = rows.find((r) => r.tier === "all");
  if (!all || all.pullRequests === 0) return "maintainers' answers: no pull request of a fix stored yet";
  const answered = all.merged + all.closedUnmerged + all.reverted;
  return `maintainers' answers: ${f.int(all.merged)} of ${f.int(answered)} answered fix pull requests accepted, ${f.pct(all.acceptance)} (95% CI ${f.pctInterval(all.acceptanceInterval)}); ${f.int(all.reverted)} reverted, ${f.int(all.open)} open`;
}

/**
 * `odavl report [--out DIR] [--json] [--since DATE] [--until DATE] [--min-samples N]`: writes ACCURACY_REPORT.md
 * and report.html to DIR (by default the `reports` folder of the data directory: never the working directory).
 * With --json it prints the figures as one object, and writes the files only when --out is given.
 */
export async function reportCommand(ctx: CommandContext): Promise<number> {
  const { values } = parseFlags(ctx.argv, SPECS.report.options);
  let since: Date | undefined;
  let until: Date | undefined;
  let minSamples = DEFAULT_MIN_SAMPLES;
  try {
    if (values.since !== undefined) since = parseDateOption("--since", values.since);
    if (values.until !== undefined) until = parseDateOption("--until", values.until);
    if (values["min-samples"] !== undefined) {
      minSamples = parseNumberOption("--min-samples", values["min-samples"], { min: 1, max: 1e9, integer: true });
    }
  } catch (err) {
    if (err instanceof AnalyticsOptionError) throw new UsageError(err.message);
    throw err;
  }
  if (since && until && since >= until) throw new UsageError("--since must be before --until");
  const env = readEnv(ctx.env);
  const handle = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: join(dataDir(env), "pgdata") });
  try {
    const report = await buildReport(handle.db, {
      thresholds: { review: env.ML_CONFIDENCE_THRESHOLD, autoApply: env.ML_AUTO_APPLY_THRESHOLD },
      minSamples,
      range: { since, until },
    });
    const card = await modelCard(env.ML_MODEL_PATH ?? DEFAULT_MODEL_PATH);
    const cardLines = card
      ? [
          `model card ${card.modelVersion} (${card.kind}): ${f.int(card.data.samples)} outcomes from ${f.int(card.data.repositories)} repositories, held out by repository`,
          ...comparisonLines(card),
        ]
      : [];
    const writeFiles = values.out !== undefined || values.json !== true;
    let written: string[] = [];
    if (writeFiles) {
      const dir = values.out === undefined ? join(dataDir(env), "reports") : resolve(values.out);
      await mkdir(dir, { recursive: true });
      written = [join(dir, "ACCURACY_REPORT.md"), join(dir, "report.html")];
      const cardSection = cardLines.length
        ? `\n## The model card: validation held out by repository\n\n\`\`\`text\n${cardLines.join("\n")}\n\`\`\`\n`
        : "";
      await writeFile(written[0] as string, `${renderReportMarkdown(report)}${cardSection}`);
      await writeFile(written[1] as string, renderReportHtml(report));
    }
    if (values.json) {
      const modelCardFigures = card
        ? {
            modelVersion: card.modelVersion,
            gate: card.gate ?? null,
            comparison: card.heldOut.comparison ?? null,
            chosenThresholds: card.heldOut.chosenThresholds ?? null,
            validation: card.heldOut.validation ?? null,
            learningCurve: card.heldOut.learningCurve ?? null,
          }
        : null;
      ctx.stdout.write(`${JSON.stringify({ ...report, modelCard: modelCardFigures }, null, 2)}\n`);
    } else {
      const lines = [
        report.statement,
        "",
        `samples: ${f.int(report.samples)}; model accuracy ${f.pct(report.ml.accuracy)} (${f.pctInterval(report.ml.intervals.accuracy)}), heuristic ${f.pct(report.heuristic.accuracy)} (${f.pctInterval(report.heuristic.intervals.accuracy)}), difference ${f.points(report.improvementPoints)} points (${f.pointsInterval(report.improvementInterval)}), McNemar p = ${f.pValue(report.mcnemarP)}`,
        ...report.validation.map((v) => `  ${v.verdict.padEnd(12)} ${v.target}: ${validationValue(v)}`),
        acceptanceLine(report.acceptance),
        "",
        ...(cardLines.length ? [...cardLines, ""] : []),
        ...written.map((p) => `wrote ${p}`),
      ];
      ctx.stdout.write(`${lines.join("\n")}\n`);
    }
    return 0;
  } finally {
    await handle.close();
  }
}
