/**
 * The model registry: every trained model is registered as a candidate with its card; one at most is `current`.
 * A candidate is promoted only when it is not worse than the current model on held-out repositories (pooled
 * held-out log-loss and AUC from the two cards), unless the operator forces it.
 */
import { desc, eq } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { models } from "../db/schema.js";
import { FEATURE_SCHEMA_VERSION } from "./features.js";
import { type ModelCard, parseModelCard } from "./train/card.js";

export type ModelRow = typeof models.$inferSelect;

export class ModelNotFoundError extends Error {
  constructor(readonly version: string) {
    super(`no model with version "${version}"`);
    this.name = "ModelNotFoundError";
  }
}

export class ModelExistsError extends Error {
  constructor(readonly version: string) {
    super(`a model with version "${version}" is already registered`);
    this.name = "ModelExistsError";
  }
}

export type PromotionObjection =
  | {
      kind: "worse";
      metric: "logLoss" | "auc";
      candidate: number | null;
      current: number | null;
      /** How much worse, in the metric's units (positive); null when the candidate lacks the metric. */
      by: number | null;
    }
  | { kind: "schema"; candidate: number; expected: number };

export class PromotionRefusedError extends Error {
  constructor(
    readonly version: string,
    readonly currentVersion: string | null,
    readonly objections: readonly PromotionObjection[],
  ) {
    super(
      `model ${version} not promoted: ${objections.map(describeObjection).join("; ")} (promote with force to override)`,
    );
    this.name = "PromotionRefusedError";
  }
}

function describeObjection(o: PromotionObjection): string {
  if (o.kind === "schema") return `built for feature schema v${o.candidate}, this build computes v${o.expected}`;
  const what = o.metric === "logLoss" ? "held-out log-loss" : "held-out AUC";
  if (o.by === null) return `${what} unknown (current ${o.current})`;
  const dir = o.metric === "logLoss" ? "higher" : "lower";
  return `${what} ${o.candidate?.toFixed(4)} is ${o.by.toFixed(4)} ${dir} than the current model's ${o.current?.toFixed(4)}`;
}

export async function listModels(db: DbOrTx): Promise<ModelRow[]> {
  return db.select().from(models).orderBy(desc(models.createdAt), desc(models.id));
}

export async function currentModel(db: DbOrTx): Promise<ModelRow | null> {
  const rows = await db.select().from(models).where(eq(models.status, "current")).limit(1);
  return rows[0] ?? null;
}

async function findModel(db: DbOrTx, version: string): Promise<ModelRow | null> {
  const rows = await db.select().from(models).where(eq(models.version, version)).limit(1);
  return rows[0] ?? null;
}

/** The pooled held-out figures kept in the `metrics` column (model's plain, heuristic's and majority's prefixed). */
function cardMetrics(card: ModelCard): Record<string, number> {
  const out: Record<string, number> = {};
  const pooled = card.heldOut.pooled;
  for (const [prefix, set] of [
    ["", pooled.model],
    ["heuristic.", pooled.heuristic],
    ["majority.", pooled.majority],
  ] as const) {
    for (const [k, v] of Object.entries(set)) if (typeof v === "number") out[`${prefix}${k}`] = v;
  }
  return out;
}

export async function registerModel(db: DbOrTx, card: ModelCard, path: string): Promise<ModelRow> {
  const valid = parseModelCard(card, `model ${card.modelVersion}`);
  if (await findModel(db, valid.modelVersion)) throw new ModelExistsError(valid.modelVersion);
  const rows = await db
    .insert(models)
    .values({
      version: valid.modelVersion,
      kind: valid.kind,
      path,
      featureSchemaVersion: valid.featureSchemaVersion,
      metrics: cardMetrics(valid),
      card: valid,
      status: "candidate",
    })
    .returning();
  return rows[0] as ModelRow;
}

/**
 * Registers a freshly trained model, or returns the registered one of the same version: versions are content
 * hashes, so the same version is the same model (trained again on the same data with the same seed).
 */
export async function registerTrained(db: DbOrTx, card: ModelCard, path: string): Promise<ModelRow> {
  return (await findModel(db, card.modelVersion)) ?? registerModel(db, card, path);
}

/** Why `candidate` should not replace `current`; empty when it may. */
function compareCards(candidate: ModelCard, current: ModelCard | null): PromotionObjection[] {
  const objections: PromotionObjection[] = [];
  if (candidate.featureSchemaVersion !== FEATURE_SCHEMA_VERSION) {
    objections.push({ kind: "schema", candidate: candidate.featureSchemaVersion, expected: FEATURE_SCHEMA_VERSION });
  }
  if (!current) return objections;
  const c = candidate.heldOut.pooled.model;
  const p = current.heldOut.pooled.model;
  if (p.logLoss !== null) {
    if (c.logLoss === null)
      objections.push({ kind: "worse", metric: "logLoss", candidate: null, current: p.logLoss, by: null });
    else if (c.logLoss > p.logLoss) {
      objections.push({
        kind: "worse",
        metric: "logLoss",
        candidate: c.logLoss,
        current: p.logLoss,
        by: c.logLoss - p.logLoss,
      });
    }
  }
  if (p.auc !== null) {
    if (c.auc === null) objections.push({ kind: "worse", metric: "auc", candidate: null, current: p.auc, by: null });
    else if (c.auc < p.auc)
      objections.push({ kind: "worse", metric: "auc", candidate: c.auc, current: p.auc, by: p.auc - c.auc });
  }
  return objections;
}

export interface PromotionResult {
  promoted: ModelRow;
  previous: ModelRow | null;
  /** What a forced promotion overrode; empty otherwise. */
  overridden: PromotionObjection[];
}

/**
 * Makes `version` the current model in one transaction (the previous current one is retired), so there is
 * exactly one current model afterwards. Refuses with {@link PromotionRefusedError} when the candidate is worse on
 * held-out repositories or built for other features, unless `force`.
 */
export async function promoteModel(
  db: DbOrTx,
  version: string,
  options: { force?: boolean; now?: Date } = {},
): Promise<PromotionResult> {
  return db.transaction(async (tx) => {
    const target = await findModel(tx, version);
    if (!target) throw new ModelNotFoundError(version);
    const previous = await currentModel(tx);
    if (previous?.id === target.id) return { promoted: target, previous: null, overridden: [] };
    const objections = compareCards(
      parseModelCard(target.card, `model ${target.version}`),
      previous ? parseModelCard(previous.card, `model ${previous.version}`) : null,
    );
    if (objections.length && !options.force) {
      throw new PromotionRefusedError(version, previous?.version ?? null, objections);
    }
    if (previous) await tx.update(models).set({ status: "retired" }).where(eq(models.id, previous.id));
    const rows = await tx
      .update(models)
      .set({ status: "current", promotedAt: options.now ?? new Date() })
      .where(eq(models.id, target.id))
      .returning();
    return { promoted: rows[0] as ModelRow, previous, overridden: objections };
  });
}
