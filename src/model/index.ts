/** The trust model's public surface: features, heuristic, predictor, tiers, history, metrics, training, registry. */
export {
  DatasetError,
  type DatasetRow,
  datasetRowSchema,
  readDataset,
  toTrainingSample,
  writeDataset,
} from "./dataset.js";
export {
  computeFeatures,
  FEATURE_COUNT,
  FEATURE_SCHEMA_VERSION,
  type FeatureIssue,
  type FeatureSpec,
  featureIndex,
  featureNames,
  featureSpecs,
  renderFeatureTable,
  validateFeatureVector,
} from "./features.js";
export { HEURISTIC_WEIGHTS, heuristicScore, heuristicScores, heuristicTerms } from "./heuristic.js";
export { emptyHistory, type HistoryQuery, loadRecipeHistory } from "./history.js";
export * from "./metrics.js";
export { predictionFor } from "./prediction.js";
export {
  createHeuristicPredictor,
  createPredictor,
  type FallbackEvent,
  FeatureVectorError,
  fallbackCounts,
  type PredictorLogger,
  type PredictorOptions,
  type PredictorStatus,
  releaseModels,
  resetFallbackCounts,
  type TrustPredictor,
} from "./predictor.js";
export {
  cardMetrics,
  compareCards,
  currentModel,
  findModel,
  listModels,
  ModelExistsError,
  ModelNotFoundError,
  type ModelRow,
  type PromotionObjection,
  PromotionRefusedError,
  type PromotionResult,
  promoteModel,
  registerModel,
} from "./registry.js";
export { DEFAULT_THRESHOLDS, effectiveThresholds, ThresholdError, type TierThresholds, tierFor } from "./tiers.js";
export { type ModelCard, type ModelKind, modelCardSchema, parseModelCard } from "./train/card.js";
export {
  runTrainCommand,
  summarizeCard,
  type TrainCommandArgs,
  type TrainCommandDeps,
  TrainCommandError,
  type TrainCommandResult,
} from "./train/command.js";
export { groupedKFold } from "./train/folds.js";
export { loadTrainingRows, trainFromDb, trainFromJsonl, writeModelFiles } from "./train/run.js";
export {
  type TrainedModel,
  TrainingError,
  type TrainingSample,
  type TrainOptions,
  type TrainResult,
  trainModels,
} from "./train/train.js";
export type * from "./types.js";
