/**
 * The model card: what a model was trained on, how it was validated, and how it compares with the heuristic and
 * with always predicting the majority on the same held-out repositories. Stored beside the model file and in the
 * `models` table; promotion reads it back through {@link modelCardSchema}. Repository names are not in the card:
 * it ships with the model, and installed repositories may be private.
 */
import { z } from "zod";
import { recipePriorsSchema } from "../priors.js";

/**
 * `heuristic-boosted-trees`: boosted trees that start from the heuristic's logit and learn corrections to it
 * (the heuristic is a fixed function of the features, so the model still reads only the feature vector).
 */
export const MODEL_KINDS = ["logistic-regression", "gradient-boosted-trees", "heuristic-boosted-trees"] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

const metric = z.number().nullable();

const metricSetSchema = z.object({
  samples: z.number().int().nonnegative(),
  positives: z.number().int().nonnegative(),
  accuracy: metric,
  balancedAccuracy: metric,
  auc: metric,
  logLoss: metric,
  brier: metric,
  ece: metric,
  falsePositiveRate: metric,
  autoApplyPrecision: metric,
  autoApprovalRate: metric,
});

const comparedSchema = z.object({ model: metricSetSchema, heuristic: metricSetSchema, majority: metricSetSchema });

const calibrationBinSchema = z.object({
  lower: z.number(),
  upper: z.number(),
  count: z.number().int().nonnegative(),
  meanPredicted: metric,
  observedRate: metric,
});

const operatingPointSchema = z
  .object({
    threshold: z.number(),
    approvalRate: z.number(),
    precision: z.number(),
    failuresApproved: z.number(),
  })
  .nullable();

const operatingPointsSchema = z.array(
  z.object({ minPrecision: z.number(), model: operatingPointSchema, heuristic: operatingPointSchema }),
);

/** A figure and its 95% interval from resampling repositories (null where undefined on the data). */
const intervalSchema = z.object({ value: metric, low: metric, high: metric });
export type Interval = z.infer<typeof intervalSchema>;

const rankingSchema = z.object({ auc: intervalSchema, logLoss: intervalSchema });

/**
 * The model against the heuristic on held-out repositories, as the mean of the folds' figures and pooled over
 * folds; `improvement` is the model's gain (AUC: model minus heuristic; log-loss: heuristic minus model), so a
 * positive figure favours the model. Intervals: percentile bootstrap resampling each fold's repositories.
 */
const comparisonViewSchema = z.object({
  model: rankingSchema,
  heuristic: rankingSchema,
  improvement: rankingSchema,
});

const comparisonSchema = z.object({
  resamples: z.number().int().positive(),
  meanPerFold: comparisonViewSchema,
  pooled: comparisonViewSchema,
});

const realisedSchema = z.object({
  /** Share of held-out candidates at or above their fold's threshold. */
  approvalRate: metric,
  /** Share of successes among them. */
  precision: metric,
  /** Share of held-out failures at or above their fold's threshold. */
  failuresApproved: metric,
});

/**
 * Auto-apply thresholds chosen on each fold's training repositories alone (the lowest score at which their
 * out-of-fold predictions reach `minPrecision`; null: never reached, nothing approved), and what they realised
 * on the held-out repositories.
 */
const chosenThresholdsSchema = z.object({
  minPrecision: z.number(),
  folds: z.array(z.object({ fold: z.number().int(), model: z.number().nullable(), heuristic: z.number().nullable() })),
  realised: z.object({ model: realisedSchema, heuristic: realisedSchema }),
});

/** The validation table: held-out figures at the card's thresholds, model beside heuristic and majority. */
const validationRowSchema = z.object({
  metric: z.string(),
  model: intervalSchema,
  heuristic: intervalSchema,
  majority: intervalSchema,
});

const learningPointSchema = z.object({
  /** Share of each fold's training repositories used. */
  fraction: z.number(),
  /** Mean number of training repositories per fold. */
  repositories: z.number(),
  model: z.object({ auc: metric, logLoss: metric }),
  heuristic: z.object({ auc: metric, logLoss: metric }),
});

const gateSchema = z.object({
  /** Whether the predictor lets this model decide. */
  open: z.boolean(),
  /** The criteria that failed (empty when open). */
  reasons: z.array(z.string()),
});

export const modelCardSchema = z.object({
  modelVersion: z.string().min(1),
  kind: z.enum(MODEL_KINDS),
  createdAt: z.string(),
  featureSchemaVersion: z.number().int().positive(),
  featureNames: z.array(z.string()),
  data: z.object({
    samples: z.number().int().nonnegative(),
    repositories: z.number().int().nonnegative(),
    positives: z.number().int().nonnegative(),
    negatives: z.number().int().nonnegative(),
    positiveRate: z.number(),
  }),
  selection: z.object({
    metric: z.literal("logLoss"),
    candidates: z.array(
      z.object({
        kind: z.enum(MODEL_KINDS),
        heldOut: metricSetSchema,
        /** Boosted trees: the number of trees early stopping kept in each outer fold's model. */
        treesPerFold: z.array(z.number().int().nonnegative()).optional(),
      }),
    ),
  }),
  heldOut: z.object({
    /** How the held-out predictions were made. */
    method: z.string(),
    folds: z.array(
      z.object({
        fold: z.number().int().nonnegative(),
        repositories: z.number().int().nonnegative(),
        samples: z.number().int().nonnegative(),
        metrics: comparedSchema,
        operatingPoints: operatingPointsSchema.optional(),
        /** False when the fold's calibration slope was held at 0 (it wanted a negative one): no skill. */
        skill: z.boolean().optional(),
      }),
    ),
    pooled: comparedSchema,
    calibrationBins: z.array(calibrationBinSchema),
    /**
     * For each wanted auto-apply precision, the threshold with the most approvals that reaches it, for the model
     * and for the heuristic on the same held-out samples (absent in cards made before them).
     */
    operatingPoints: operatingPointsSchema.optional(),
    comparison: comparisonSchema.optional(),
    chosenThresholds: chosenThresholdsSchema.optional(),
    validation: z.array(validationRowSchema).optional(),
    learningCurve: z.array(learningPointSchema).optional(),
  }),
  /** Whether the model beats the heuristic on held-out repositories (absent in cards made before the gate). */
  gate: gateSchema.optional(),
  /** Inference time of the shipped model (ms a batch), measured with onnxruntime when the card was written. */
  latency: z.object({ batchSize: z.number().int(), medianMs: z.number(), heuristicMedianMs: z.number() }).optional(),
  /** Boosted trees: how many trees the shipped ensemble holds (0: the heuristic or the base rate, calibrated). */
  trees: z.number().int().nonnegative().optional(),
  /**
   * The recipe outcomes the model was trained on (after duplicates were left out): the model file carries them too,
   * and the feature recipe.prior.logit is computed from them at inference. Absent in cards made before v3.
   */
  recipePriors: recipePriorsSchema.optional(),
  calibration: z.object({
    method: z.literal("platt"),
    a: z.number(),
    b: z.number(),
    /** False when the slope was held at 0 (it wanted a negative one): the model ranks nothing. */
    skill: z.boolean().optional(),
  }),
  thresholds: z.object({ autoApply: z.number(), review: z.number() }),
  params: z.object({
    folds: z.number().int(),
    /** Folds inside each training set for calibration and early stopping (absent in cards made before them). */
    innerFolds: z.number().int().optional(),
    seed: z.number().int(),
    logisticRegression: z.record(z.string(), z.number()),
    gradientBoostedTrees: z.record(z.string(), z.number()),
  }),
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type Comparison = z.infer<typeof comparisonSchema>;
export type ChosenThresholds = z.infer<typeof chosenThresholdsSchema>;
export type ValidationRow = z.infer<typeof validationRowSchema>;
export type LearningPoint = z.infer<typeof learningPointSchema>;
export type Gate = z.infer<typeof gateSchema>;

class ModelCardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ModelCardError";
  }
}

export function parseModelCard(value: unknown, where: string): ModelCard {
  const parsed = modelCardSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ModelCardError(`invalid model card (${where}): ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}
