/**
 * The trust predictor: the ONNX model, loaded once per process and run over a cycle's candidates in one batch,
 * with the heuristic computed beside it every time. Whenever the model cannot be trusted to decide (disabled,
 * missing, unreadable, built for other features, failing, slow, returning something that is not a probability, or
 * not promoted: its card does not show it beats the heuristic on held-out repositories) the heuristic decides, the batch says why, and the cycle goes on: nothing here throws for a model problem.
 *
 * The file on disk is what decides. Before each batch the predictor compares the model file's identity (inode,
 * size, modification and change times) with the one it loaded; when the file was replaced (a model promoted on a
 * running worker, or a file overwritten by mistake) it loads the new one. A replacement that does not load
 * leaves the heuristic deciding, with the cause, until a good file appears. A file that was only removed changes
 * nothing: the model already loaded is still good (removing the old file is one way to replace it), and whatever
 * appears at the path next is loaded.
 */
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type * as OrtModule from "onnxruntime-node";
import { z } from "zod";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION, featureNames } from "./features.js";
import { confidenceFor, heuristicScores, signed, topThree } from "./heuristic.js";
import { INPUT_NAME, type LinearExplanation, MetadataKey, OUTPUT_NAME } from "./onnx/export.js";
import { decodeModelInfo, OnnxDecodeError } from "./onnx/model.js";
import { type RecipePriors, recipePriorsSchema } from "./priors.js";
import type { FallbackCause, Predictor, Score, ScoredBatch } from "./types.js";

/** pino's Logger fits; so does a test spy. */
export interface PredictorLogger {
  warn(obj: object, msg: string): void;
  info?(obj: object, msg: string): void;
}

export interface FallbackEvent {
  cause: FallbackCause;
  modelVersion: string | null;
  batchSize: number;
  message?: string;
}

export interface PredictorOptions {
  /** ML_ENABLE: false means the heuristic decides every batch. */
  enabled: boolean;
  /** ML_MODEL_PATH. */
  modelPath: string | null | undefined;
  /** ML_TIME_BUDGET_MS: a batch whose inference takes longer is decided by the heuristic. */
  timeBudgetMs: number;
  logger?: PredictorLogger;
  /** Called for every batch the heuristic decides (e.g. to feed a metrics counter). */
  onFallback?: (event: FallbackEvent) => void;
}

export interface PredictorStatus {
  /** Whether a model is loaded and will be asked. */
  loaded: boolean;
  modelPath: string | null;
  modelVersion: string | null;
  kind: string | null;
  /** Why no model is loaded. */
  loadFailure: { cause: FallbackCause; message: string } | null;
}

export interface TrustPredictor extends Predictor {
  readonly status: PredictorStatus;
}

/** A batch whose vectors do not fit the schema: a defect of the caller, not of the model. */
export class FeatureVectorError extends Error {
  constructor(
    message: string,
    readonly row: number,
  ) {
    super(message);
    this.name = "FeatureVectorError";
  }
}

const DEFAULT_TIME_BUDGET_MS = 250;
const RUN_OPTIONS: OrtModule.InferenceSession.RunOptions = { logSeverityLevel: 4 };

type Ort = typeof OrtModule;
let runtime: Promise<Ort> | null = null;

/**
 * The runtime is imported on first use: its native binding loads at import, and a platform without it must
 * leave the heuristic deciding rather than stop the process.
 */
function ortRuntime(): Promise<Ort> {
  runtime ??= import("onnxruntime-node");
  return runtime;
}

interface LoadedModel {
  path: string;
  ort: Ort;
  session: OrtModule.InferenceSession;
  inputName: string;
  outputName: string;
  modelVersion: string;
  kind: string;
  explanation: LinearExplanation | null;
  /** The gate its card set: null when it may decide, else why not. */
  notPromoted: string | null;
  /** The recipe priors it was trained with (null: none shipped, every recipe at the fallback rate). */
  recipePriors: RecipePriors | null;
}

type LoadResult = { ok: true; model: LoadedModel } | { ok: false; cause: FallbackCause; message: string };

const explanationSchema = z
  .object({ means: z.array(z.number()), weights: z.array(z.number()) })
  .refine((e) => e.means.length === FEATURE_COUNT && e.weights.length === FEATURE_COUNT);

const gateSchema = z.object({ open: z.boolean(), reasons: z.array(z.string()) });

/** Why the model may not decide (null: it may): a model without a gate has no card figures showing it should. */
function gateOf(raw: string | undefined): string | null {
  const parsed = gateSchema.safeParse(safeJson(raw));
  if (!parsed.success)
    return "the model carries no gate from its card (trained before the gate, or not by odavl train)";
  if (parsed.data.open) return null;
  return parsed.data.reasons.join("; ") || "its card does not show it beats the heuristic";
}

/**
 * Sessions by absolute path, with the identity of the file they were loaded from: a model is loaded once per
 * process however many predictors ask for it, and again only when its file changes.
 */
const sessions = new Map<string, { signature: string | null; pending: Promise<LoadResult> }>();
/** Sessions replaced by a newer file: predictors may still be scoring with them, so they live until release. */
const superseded: Promise<LoadResult>[] = [];

/** Identity of the file at `path` (null when it cannot be stat'ed): changes whenever the file is replaced. */
async function fileSignature(path: string): Promise<string | null> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return null;
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

async function load(path: string): Promise<LoadResult> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    return { ok: false, cause: isNotFound(err) ? "missing" : "corrupt", message: messageOf(err) };
  }
  let info: ReturnType<typeof decodeModelInfo>;
  try {
    info = decodeModelInfo(bytes);
  } catch (err) {
    if (err instanceof OnnxDecodeError) return { ok: false, cause: "corrupt", message: err.message };
    throw err;
  }
  // The version is checked before the runtime sees the file: a model of other features must never score.
  const meta = info.metadataProps;
  const version = meta[MetadataKey.featureSchemaVersion];
  if (version !== String(FEATURE_SCHEMA_VERSION)) {
    return {
      ok: false,
      cause: "schema-version",
      message: `model features are schema ${version ?? "(none)"}, this build computes schema ${FEATURE_SCHEMA_VERSION}`,
    };
  }
  const names = meta[MetadataKey.featureNames];
  if (names !== undefined && names !== JSON.stringify(featureNames())) {
    return { ok: false, cause: "schema-version", message: "model feature names differ from this build's schema" };
  }
  let ort: Ort;
  try {
    ort = await ortRuntime();
  } catch (err) {
    return { ok: false, cause: "corrupt", message: `onnxruntime-node cannot be loaded: ${messageOf(err)}` };
  }
  let session: OrtModule.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      // Errors come back as exceptions and are logged by the caller; the runtime's own log would duplicate them on
      // stderr, outside the structured log.
      logSeverityLevel: 4,
      // Batches are small: one thread avoids contention with the worker's other cycles.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
  } catch (err) {
    return { ok: false, cause: "corrupt", message: messageOf(err) };
  }
  const input = session.inputMetadata[0];
  const shapeProblem = (() => {
    if (session.inputNames.length !== 1 || !input) return `expected one input, got ${session.inputNames.length}`;
    if (!input.isTensor || input.type !== "float32") return `input "${input.name}" is not a float32 tensor`;
    const [batch, width, ...rest] = input.shape;
    if (rest.length || width === undefined) return `input "${input.name}" must be [N, ${FEATURE_COUNT}]`;
    if (typeof batch === "number" && batch >= 0) return `input "${input.name}" has a fixed batch size ${batch}`;
    if (width !== FEATURE_COUNT)
      return `input "${input.name}" takes ${width} features, the schema has ${FEATURE_COUNT}`;
    return null;
  })();
  if (shapeProblem) {
    await session.release().catch(() => {});
    return { ok: false, cause: "input-shape", message: shapeProblem };
  }
  const parsed = explanationSchema.safeParse(safeJson(meta[MetadataKey.explanation]));
  let recipePriors: RecipePriors | null = null;
  if (meta[MetadataKey.recipePriors] !== undefined) {
    const priors = recipePriorsSchema.safeParse(safeJson(meta[MetadataKey.recipePriors]));
    if (!priors.success) {
      await session.release().catch(() => {});
      return { ok: false, cause: "corrupt", message: "the model's recipe priors (metadata recipePriors) are invalid" };
    }
    recipePriors = priors.data;
  }
  const model: LoadedModel = {
    path,
    ort,
    session,
    inputName: input?.name ?? INPUT_NAME,
    outputName: session.outputNames.includes(OUTPUT_NAME) ? OUTPUT_NAME : (session.outputNames[0] ?? OUTPUT_NAME),
    modelVersion: meta[MetadataKey.modelVersion] ?? "unknown",
    kind: meta[MetadataKey.kind] ?? "unknown",
    explanation: parsed.success ? parsed.data : null,
    notPromoted: gateOf(meta[MetadataKey.gate]),
    recipePriors,
  };
  // The first run allocates; doing it here keeps that cost out of the first cycle's budget. Its failure is
  // not a load failure: a run that fails on real batches reports "threw" there.
  try {
    await session.run(
      { [model.inputName]: new ort.Tensor("float32", new Float32Array(FEATURE_COUNT), [1, FEATURE_COUNT]) },
      RUN_OPTIONS,
    );
  } catch {
    // Reported per batch.
  }
  return { ok: true, model };
}

function safeJson(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

async function loadOnce(path: string, signature: string | null): Promise<LoadResult> {
  const key = resolve(path);
  let entry = sessions.get(key);
  // A removed file: the session loaded from it, if any, is still good.
  if (!entry || (signature !== null && entry.signature !== signature)) {
    if (entry) superseded.push(entry.pending);
    const pending = load(key).catch((err: unknown) => ({
      ok: false as const,
      cause: "corrupt" as const,
      message: messageOf(err),
    }));
    entry = { signature, pending };
    sessions.set(key, entry);
  }
  const current = entry;
  const result = await current.pending;
  // Only successes are kept: a file that appears or is fixed later is picked up by the next load.
  if (!result.ok && sessions.get(key) === current) sessions.delete(key);
  return result;
}

/** Releases every loaded session (shutdown, tests). Predictors created before must not be used afterwards. */
export async function releaseModels(): Promise<void> {
  const pending = [...[...sessions.values()].map((e) => e.pending), ...superseded.splice(0)];
  sessions.clear();
  for (const p of pending) {
    const r = await p;
    if (r.ok) await r.model.session.release().catch(() => {});
  }
}

const contributions = new Float64Array(FEATURE_COUNT);

/** One line: the model's score and the features that moved it most from the average candidate. */
function explain(trust: number, row: readonly number[], e: LinearExplanation | null): string {
  const head = `model ${trust.toFixed(2)}`;
  if (!e) return head;
  for (let j = 0; j < FEATURE_COUNT; j++) {
    contributions[j] = (e.weights[j] as number) * ((row[j] as number) - (e.means[j] as number));
  }
  const top = topThree(contributions);
  if (top.length === 0) return `${head}: close to the average candidate`;
  const names = featureNames();
  return `${head}: ${top.map((j) => `${names[j]} ${signed(contributions[j] as number)}`).join(", ")}`;
}

function checkBatch(features: readonly (readonly number[])[]): void {
  features.forEach((row, i) => {
    if (row.length !== FEATURE_COUNT) {
      throw new FeatureVectorError(
        `row ${i}: ${row.length} features, schema v${FEATURE_SCHEMA_VERSION} has ${FEATURE_COUNT}`,
        i,
      );
    }
    for (const x of row) {
      if (!Number.isFinite(x)) throw new FeatureVectorError(`row ${i}: a feature is not a finite number`, i);
    }
  });
}

class OnnxTrustPredictor implements TrustPredictor {
  readonly featureSchemaVersion = FEATURE_SCHEMA_VERSION;
  private readonly budgetMs: number;
  private refreshing: Promise<void> | null = null;

  /**
   * @param watched the model file and the identity it had when it was (or failed to be) loaded; null when no file
   *   is ever loaded (disabled, no path configured).
   */
  constructor(
    private model: LoadedModel | null,
    private loadFailure: { cause: FallbackCause; message: string } | null,
    private readonly options: Pick<PredictorOptions, "logger" | "onFallback" | "modelPath"> & { timeBudgetMs: number },
    private watched: { path: string; signature: string | null } | null = null,
  ) {
    this.budgetMs = options.timeBudgetMs;
  }

  get status(): PredictorStatus {
    return {
      loaded: this.model !== null,
      modelPath: this.options.modelPath ?? null,
      modelVersion: this.model?.modelVersion ?? null,
      kind: this.model?.kind ?? null,
      loadFailure: this.loadFailure,
    };
  }

  async recipePriors(): Promise<RecipePriors | null> {
    // The model that scores the next batch: a replaced file is loaded first.
    await this.refresh();
    return this.model?.recipePriors ?? null;
  }

  /** Loads the model file again when it was replaced since it was loaded. Never throws. */
  private refresh(): Promise<void> {
    const watched = this.watched;
    if (!watched) return Promise.resolve();
    this.refreshing ??= (async () => {
      const signature = await fileSignature(watched.path);
      // Unchanged, or removed (then the model in use stays, and whatever appears next is loaded).
      if (signature === watched.signature || signature === null) return;
      const previous = this.model?.modelVersion ?? null;
      const result = await loadOnce(watched.path, signature);
      this.watched = { path: watched.path, signature };
      if (result.ok) {
        this.model = result.model;
        this.loadFailure = null;
        this.options.logger?.info?.(
          { modelPath: watched.path, modelVersion: result.model.modelVersion, previous },
          "trust model file changed; the new model is loaded",
        );
      } else {
        this.model = null;
        this.loadFailure = { cause: result.cause, message: result.message };
        this.options.logger?.warn(
          { cause: result.cause, message: result.message, modelPath: watched.path, previous },
          "trust model file changed and does not load; the heuristic decides",
        );
      }
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  async score(features: readonly number[][]): Promise<ScoredBatch> {
    checkBatch(features);
    // Before the clock starts: loading a replaced file is not the batch's inference time.
    await this.refresh();
    const start = performance.now();
    const heuristic = heuristicScores(features);
    const model = this.model;
    const fallback = (cause: FallbackCause, message?: string, logEach = true): ScoredBatch => {
      const event: FallbackEvent = {
        cause,
        modelVersion: model?.modelVersion ?? null,
        batchSize: features.length,
        ...(message ? { message } : {}),
      };
      if (logEach) this.options.logger?.warn(event, "trust model did not decide; the heuristic did");
      this.options.onFallback?.(event);
      return {
        ml: null,
        heuristic,
        usedML: false,
        fallbackCause: cause,
        modelVersion: model?.modelVersion ?? null,
        latencyMs: performance.now() - start,
      };
    };
    if (!model) {
      // Logged once when loading failed; counted for every batch.
      return fallback(this.loadFailure?.cause ?? "missing", this.loadFailure?.message, false);
    }
    const n = features.length;
    if (n === 0) {
      return { ml: [], heuristic, usedML: true, fallbackCause: null, modelVersion: model.modelVersion, latencyMs: 0 };
    }
    const input = new Float32Array(n * FEATURE_COUNT);
    features.forEach((row, i) => {
      input.set(row, i * FEATURE_COUNT);
    });
    let output: OrtModule.Tensor | undefined;
    const runStart = performance.now();
    try {
      const result = await model.session.run(
        { [model.inputName]: new model.ort.Tensor("float32", input, [n, FEATURE_COUNT]) },
        RUN_OPTIONS,
      );
      output = result[model.outputName];
    } catch (err) {
      return fallback("threw", messageOf(err));
    }
    // The runtime runs the graph on this thread and cannot be interrupted, so an overrun is detected when the run
    // returns, and its result is discarded: a slow model must not decide, even once.
    const runMs = performance.now() - runStart;
    if (runMs > this.budgetMs) {
      return fallback("timeout", `inference took ${runMs.toFixed(3)} ms, budget ${this.budgetMs} ms`);
    }
    if (output?.type !== "float32" || output.size !== n) {
      return fallback("input-shape", `output "${model.outputName}" has ${output?.size ?? 0} values for ${n} rows`);
    }
    const data = output.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const p = data[i] as number;
      if (Number.isNaN(p)) return fallback("nan", `row ${i} scored NaN`);
    }
    for (let i = 0; i < n; i++) {
      const p = data[i] as number;
      if (!(p >= 0 && p <= 1)) return fallback("out-of-range", `row ${i} scored ${p}`);
    }
    const ml: Score[] = features.map((row, i) => {
      const trust = data[i] as number;
      return { trust, confidence: confidenceFor(trust, row), reason: explain(trust, row, model.explanation) };
    });
    if (model.notPromoted !== null) {
      // Logged once when the model was loaded; counted for every batch. Its scores are kept for the report.
      return { ...fallback("not-promoted", model.notPromoted, false), ml };
    }
    return {
      ml,
      heuristic,
      usedML: true,
      fallbackCause: null,
      modelVersion: model.modelVersion,
      latencyMs: performance.now() - start,
    };
  }
}

/** A predictor in which the heuristic decides every batch, for the given cause. */
export function createHeuristicPredictor(
  cause: FallbackCause = "disabled",
  hooks: Pick<PredictorOptions, "logger" | "onFallback"> = {},
): TrustPredictor {
  return new OnnxTrustPredictor(
    null,
    { cause, message: cause === "disabled" ? "ML_ENABLE is false" : cause },
    { ...hooks, modelPath: null, timeBudgetMs: DEFAULT_TIME_BUDGET_MS },
  );
}

/** Never throws for a model problem: the predictor it returns falls back to the heuristic and says why. */
export async function createPredictor(options: PredictorOptions): Promise<TrustPredictor> {
  const budget =
    Number.isFinite(options.timeBudgetMs) && options.timeBudgetMs > 0 ? options.timeBudgetMs : DEFAULT_TIME_BUDGET_MS;
  const hooks = {
    logger: options.logger,
    onFallback: options.onFallback,
    modelPath: options.modelPath,
    timeBudgetMs: budget,
  };
  if (!options.enabled) {
    options.logger?.info?.({ cause: "disabled" }, "trust model disabled; the heuristic decides");
    return new OnnxTrustPredictor(null, { cause: "disabled", message: "ML_ENABLE is false" }, hooks);
  }
  if (!options.modelPath) {
    const failure = { cause: "missing" as const, message: "no model path configured (ML_MODEL_PATH)" };
    options.logger?.warn(failure, "trust model not loaded; the heuristic decides");
    return new OnnxTrustPredictor(null, failure, hooks);
  }
  const watched = { path: options.modelPath, signature: await fileSignature(options.modelPath) };
  const result = await loadOnce(options.modelPath, watched.signature);
  if (!result.ok) {
    const failure = { cause: result.cause, message: result.message };
    options.logger?.warn({ ...failure, modelPath: options.modelPath }, "trust model not loaded; the heuristic decides");
    return new OnnxTrustPredictor(null, failure, hooks, watched);
  }
  options.logger?.info?.(
    { modelPath: options.modelPath, modelVersion: result.model.modelVersion, kind: result.model.kind },
    "trust model loaded",
  );
  if (result.model.notPromoted !== null) {
    options.logger?.warn(
      { cause: "not-promoted", modelVersion: result.model.modelVersion, message: result.model.notPromoted },
      "trust model not promoted by its card; it runs beside the heuristic, which decides",
    );
  }
  return new OnnxTrustPredictor(result.model, null, hooks, watched);
}
