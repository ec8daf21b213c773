/**
 * Builds the ONNX graphs of the trust models. Both take input "features" float32 [N, F] and give output "trust"
 * float32 [N, 1], the calibrated probability:
 *   logistic regression: Sigmoid(a * (MatMul((X - mean) / scale, w) + bias) + b)
 *   boosted trees:       Sigmoid(a * TreeEnsembleRegressor(X) + b), the ensemble summing leaf values to a logit.
 *   heuristic-boosted:   Sigmoid(a * (H(X) + TreeEnsembleRegressor(X)) + b), trees fitted to correct the
 *                        heuristic's logit H, which the graph computes from the same features (HeuristicForm).
 * Platt calibration (a, b) is folded into the graph so that the runtime's output needs no post-processing.
 */
import type { HeuristicForm } from "../heuristic.js";
import type { RecipePriors } from "../priors.js";
import { DataType, encodeModel, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from "./model.js";

/** IR 8 is the first to allow ai.onnx.ml opset 3 together with ai.onnx opset 17; onnxruntime reads newer IRs too. */
const ONNX_IR_VERSION = 8;
const ONNX_OPSET = 17;
const ONNX_ML_OPSET = 3;
export const INPUT_NAME = "features";
export const OUTPUT_NAME = "trust";
/** Symbolic batch dimension. */
const BATCH_DIM = "N";

/** Keys of the model's metadata_props that the predictor reads at load. */
export const MetadataKey = {
  featureSchemaVersion: "featureSchemaVersion",
  modelVersion: "modelVersion",
  kind: "kind",
  featureNames: "featureNames",
  /** JSON {@link LinearExplanation}: how the reason line is computed without re-running the model. */
  explanation: "explanation",
  /**
   * JSON `{ open, reasons }`: whether the model's card shows it beats the heuristic on held-out repositories. A
   * model without it, or with it closed, is run beside the heuristic but never decides.
   */
  gate: "gate",
  /**
   * JSON {@link RecipePriors}: the recipe outcomes the model was trained on, from which the feature
   * `recipe.prior.successRate` is computed at inference.
   */
  recipePriors: "recipePriors",
} as const;

/**
 * A linear view of the model in logit units: the contribution of feature i to one score is
 * weights[i] * (x[i] - means[i]). Exact for logistic regression, a least-squares surrogate for trees.
 */
export interface LinearExplanation {
  means: number[];
  weights: number[];
}

export interface ModelMetadata {
  featureSchemaVersion: number;
  modelVersion: string;
  kind: string;
  featureNames: readonly string[];
  explanation?: LinearExplanation;
  gate?: { open: boolean; reasons: readonly string[] };
  recipePriors?: RecipePriors;
}

export interface PlattCalibration {
  a: number;
  b: number;
}

export interface LogisticExport {
  means: readonly number[];
  scales: readonly number[];
  weights: readonly number[];
  bias: number;
  calibration: PlattCalibration;
  metadata: ModelMetadata;
}

export type ExportTreeNode =
  | { kind: "split"; feature: number; threshold: number; left: number; right: number }
  | { kind: "leaf"; value: number };

export interface TreeEnsembleExport {
  featureCount: number;
  baseLogit: number;
  /** Each tree's nodes; node 0 is the root, `left` is taken when x[feature] <= threshold. */
  trees: readonly (readonly ExportTreeNode[])[];
  calibration: PlattCalibration;
  metadata: ModelMetadata;
  /** The trees correct this logit: the graph adds it to the ensemble's sum before calibration. */
  heuristic?: HeuristicForm;
}

function floatTensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return { name, dataType: DataType.FLOAT, dims, values };
}

function metadataProps(m: ModelMetadata): Record<string, string> {
  const props: Record<string, string> = {
    [MetadataKey.featureSchemaVersion]: String(m.featureSchemaVersion),
    [MetadataKey.modelVersion]: m.modelVersion,
    [MetadataKey.kind]: m.kind,
    [MetadataKey.featureNames]: JSON.stringify(m.featureNames),
  };
  if (m.explanation) props[MetadataKey.explanation] = JSON.stringify(m.explanation);
  if (m.gate) props[MetadataKey.gate] = JSON.stringify(m.gate);
  if (m.recipePriors) props[MetadataKey.recipePriors] = JSON.stringify(m.recipePriors);
  return props;
}

/** Wraps a graph body into a model with the standard input and output. */
export function buildModel(options: {
  nodes: readonly NodeProto[];
  initializers: readonly TensorProto[];
  featureCount: number;
  metadataProps: Record<string, string>;
  usesMl?: boolean;
  outputShape?: readonly (number | string)[];
  inputShape?: readonly (number | string)[];
}): ModelProto {
  const graph: GraphProto = {
    name: "trust",
    nodes: options.nodes,
    initializers: options.initializers,
    inputs: [
      { name: INPUT_NAME, elemType: DataType.FLOAT, shape: options.inputShape ?? [BATCH_DIM, options.featureCount] },
    ],
    outputs: [{ name: OUTPUT_NAME, elemType: DataType.FLOAT, shape: options.outputShape ?? [BATCH_DIM, 1] }],
  };
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImports: [
      { domain: "", version: ONNX_OPSET },
      ...(options.usesMl ? [{ domain: "ai.onnx.ml", version: ONNX_ML_OPSET }] : []),
    ],
    producerName: "odavl-autopilot",
    producerVersion: "1",
    graph,
    metadataProps: options.metadataProps,
  };
}

function indexTensor(name: string, values: readonly number[]): TensorProto {
  return { name, dataType: DataType.INT64, dims: [values.length], values };
}

/** Nodes computing "heuristic_logit" [N, 1] from the features, as {@link HeuristicForm} describes. */
function heuristicNodes(
  form: HeuristicForm,
  featureCount: number,
): { nodes: NodeProto[]; initializers: TensorProto[] } {
  if (form.linear.length !== featureCount) {
    throw new RangeError(`heuristic export: ${form.linear.length} linear weights for ${featureCount} features`);
  }
  const gather = (indices: string, output: string): NodeProto => ({
    opType: "Gather",
    inputs: [INPUT_NAME, indices],
    outputs: [output],
    attributes: [{ name: "axis", value: { kind: "int", value: 1 } }],
  });
  // An empty list adds nothing to the graph (a zero-width Gather is best not asked of the runtime).
  const pairs = (list: HeuristicForm["products"], prefix: string, op: "Mul" | "Max") =>
    list.length === 0
      ? { nodes: [], initializers: [], output: [] }
      : {
          output: [prefix],
          nodes: [
            gather(`${prefix}_a`, `${prefix}_x`),
            gather(`${prefix}_b`, `${prefix}_y`),
            { opType: op, inputs: [`${prefix}_x`, `${prefix}_y`], outputs: [`${prefix}_xy`] },
            { opType: "MatMul", inputs: [`${prefix}_xy`, `${prefix}_w`], outputs: [prefix] },
          ],
          initializers: [
            indexTensor(
              `${prefix}_a`,
              list.map((t) => t.a),
            ),
            indexTensor(
              `${prefix}_b`,
              list.map((t) => t.b),
            ),
            floatTensor(
              `${prefix}_w`,
              [list.length, 1],
              list.map((t) => t.weight),
            ),
          ],
        };
  const products = pairs(form.products, "heuristic_products", "Mul");
  const maxima = pairs(form.maxima, "heuristic_maxima", "Max");
  return {
    nodes: [
      { opType: "MatMul", inputs: [INPUT_NAME, "heuristic_linear_w"], outputs: ["heuristic_linear"] },
      ...products.nodes,
      ...maxima.nodes,
      gather("heuristic_rate_index", "heuristic_rate"),
      { opType: "Clip", inputs: ["heuristic_rate", "heuristic_floor", "heuristic_ceiling"], outputs: ["heuristic_p"] },
      { opType: "Sub", inputs: ["heuristic_one", "heuristic_p"], outputs: ["heuristic_q"] },
      { opType: "Div", inputs: ["heuristic_p", "heuristic_q"], outputs: ["heuristic_odds"] },
      { opType: "Log", inputs: ["heuristic_odds"], outputs: ["heuristic_base"] },
      {
        opType: "Sum",
        inputs: ["heuristic_base", "heuristic_linear", ...products.output, ...maxima.output],
        outputs: ["heuristic_logit"],
      },
    ],
    initializers: [
      floatTensor("heuristic_linear_w", [featureCount, 1], form.linear),
      ...products.initializers,
      ...maxima.initializers,
      indexTensor("heuristic_rate_index", [form.rate]),
      floatTensor("heuristic_floor", [], [form.floor]),
      floatTensor("heuristic_ceiling", [], [form.ceiling]),
      floatTensor("heuristic_one", [1], [1]),
    ],
  };
}

function calibrationNodes(logit: string, c: PlattCalibration): { nodes: NodeProto[]; initializers: TensorProto[] } {
  return {
    nodes: [
      { opType: "Mul", inputs: [logit, "calibration_a"], outputs: ["calibrated_logit_scaled"] },
      { opType: "Add", inputs: ["calibrated_logit_scaled", "calibration_b"], outputs: ["calibrated_logit"] },
      { opType: "Sigmoid", inputs: ["calibrated_logit"], outputs: [OUTPUT_NAME] },
    ],
    initializers: [floatTensor("calibration_a", [1], [c.a]), floatTensor("calibration_b", [1], [c.b])],
  };
}

export function logisticRegressionModel(m: LogisticExport): Uint8Array {
  const f = m.weights.length;
  if (m.means.length !== f || m.scales.length !== f) {
    throw new RangeError(
      `logistic regression export: ${f} weights but ${m.means.length} means, ${m.scales.length} scales`,
    );
  }
  const cal = calibrationNodes("logit", m.calibration);
  const nodes: NodeProto[] = [
    { opType: "Sub", inputs: [INPUT_NAME, "mean"], outputs: ["centered"] },
    { opType: "Div", inputs: ["centered", "scale"], outputs: ["standardized"] },
    { opType: "MatMul", inputs: ["standardized", "weights"], outputs: ["weighted"] },
    { opType: "Add", inputs: ["weighted", "bias"], outputs: ["logit"] },
    ...cal.nodes,
  ];
  const initializers = [
    floatTensor("mean", [f], m.means),
    floatTensor("scale", [f], m.scales),
    floatTensor("weights", [f, 1], m.weights),
    floatTensor("bias", [1], [m.bias]),
    ...cal.initializers,
  ];
  return encodeModel(buildModel({ nodes, initializers, featureCount: f, metadataProps: metadataProps(m.metadata) }));
}

export function treeEnsembleModel(m: TreeEnsembleExport): Uint8Array {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const targetTreeIds: number[] = [];
  const targetNodeIds: number[] = [];
  const targetIds: number[] = [];
  const targetWeights: number[] = [];
  // An ensemble needs a node: with no trees (early stopping kept none) it holds one leaf worth 0.
  const trees: readonly (readonly ExportTreeNode[])[] = m.trees.length ? m.trees : [[{ kind: "leaf", value: 0 }]];
  trees.forEach((tree, t) => {
    tree.forEach((node, id) => {
      treeIds.push(t);
      nodeIds.push(id);
      if (node.kind === "split") {
        if (node.feature < 0 || node.feature >= m.featureCount) {
          throw new RangeError(`tree ${t} node ${id}: feature ${node.feature} outside [0, ${m.featureCount})`);
        }
        featureIds.push(node.feature);
        modes.push("BRANCH_LEQ");
        values.push(node.threshold);
        trueIds.push(node.left);
        falseIds.push(node.right);
      } else {
        featureIds.push(0);
        modes.push("LEAF");
        values.push(0);
        trueIds.push(0);
        falseIds.push(0);
        targetTreeIds.push(t);
        targetNodeIds.push(id);
        targetIds.push(0);
        targetWeights.push(node.value);
      }
    });
  });
  const ensemble: NodeProto = {
    opType: "TreeEnsembleRegressor",
    domain: "ai.onnx.ml",
    inputs: [INPUT_NAME],
    outputs: [m.heuristic ? "tree_logit" : "logit"],
    attributes: [
      { name: "n_targets", value: { kind: "int", value: 1 } },
      { name: "aggregate_function", value: { kind: "string", value: "SUM" } },
      { name: "post_transform", value: { kind: "string", value: "NONE" } },
      { name: "base_values", value: { kind: "floats", value: [m.baseLogit] } },
      { name: "nodes_treeids", value: { kind: "ints", value: treeIds } },
      { name: "nodes_nodeids", value: { kind: "ints", value: nodeIds } },
      { name: "nodes_featureids", value: { kind: "ints", value: featureIds } },
      { name: "nodes_modes", value: { kind: "strings", value: modes } },
      { name: "nodes_values", value: { kind: "floats", value: values } },
      { name: "nodes_truenodeids", value: { kind: "ints", value: trueIds } },
      { name: "nodes_falsenodeids", value: { kind: "ints", value: falseIds } },
      { name: "target_treeids", value: { kind: "ints", value: targetTreeIds } },
      { name: "target_nodeids", value: { kind: "ints", value: targetNodeIds } },
      { name: "target_ids", value: { kind: "ints", value: targetIds } },
      { name: "target_weights", value: { kind: "floats", value: targetWeights } },
    ],
  };
  const cal = calibrationNodes("logit", m.calibration);
  const heuristic = m.heuristic ? heuristicNodes(m.heuristic, m.featureCount) : null;
  const offset: NodeProto[] = heuristic
    ? [...heuristic.nodes, { opType: "Add", inputs: ["heuristic_logit", "tree_logit"], outputs: ["logit"] }]
    : [];
  return encodeModel(
    buildModel({
      nodes: [ensemble, ...offset, ...cal.nodes],
      initializers: [...(heuristic?.initializers ?? []), ...cal.initializers],
      featureCount: m.featureCount,
      metadataProps: metadataProps(m.metadata),
      usesMl: true,
    }),
  );
}
