/** Small real ONNX models, built with the project's encoder, that fail in each way the predictor must survive. */
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION, featureNames } from "../../src/model/features.js";
import { buildModel, INPUT_NAME, MetadataKey, OUTPUT_NAME } from "../../src/model/onnx/export.js";
import { DataType, encodeModel, type NodeProto, type TensorProto } from "../../src/model/onnx/model.js";

const F = FEATURE_COUNT;

export function metadata(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    [MetadataKey.featureSchemaVersion]: String(FEATURE_SCHEMA_VERSION),
    [MetadataKey.modelVersion]: "fixture-1",
    [MetadataKey.kind]: "fixture",
    [MetadataKey.featureNames]: JSON.stringify(featureNames()),
    // Fixtures stand for promoted models unless a test closes the gate.
    [MetadataKey.gate]: JSON.stringify({ open: true, reasons: [] }),
    ...overrides,
  };
}

const floats = (name: string, dims: number[], values: number[]): TensorProto => ({
  name,
  dataType: DataType.FLOAT,
  dims,
  values,
});

/** trust = Sigmoid(X · w + b): a valid model with known output. */
export function sigmoidModel(options: { weights?: number[]; bias?: number; meta?: Record<string, string> } = {}) {
  const w = options.weights ?? new Array<number>(F).fill(0.1);
  return encodeModel(
    buildModel({
      nodes: [
        { opType: "MatMul", inputs: [INPUT_NAME, "w"], outputs: ["xw"] },
        { opType: "Add", inputs: ["xw", "b"], outputs: ["z"] },
        { opType: "Sigmoid", inputs: ["z"], outputs: [OUTPUT_NAME] },
      ],
      initializers: [floats("w", [F, 1], w), floats("b", [1], [options.bias ?? 0])],
      featureCount: F,
      metadataProps: options.meta ?? metadata(),
    }),
  );
}

/** (X - X) / (X - X) is 0/0, NaN everywhere. */
export function nanModel() {
  const nodes: NodeProto[] = [
    { opType: "Sub", inputs: [INPUT_NAME, INPUT_NAME], outputs: ["zero"] },
    { opType: "Div", inputs: ["zero", "zero"], outputs: ["nan"] },
    { opType: "MatMul", inputs: ["nan", "w"], outputs: [OUTPUT_NAME] },
  ];
  return encodeModel(
    buildModel({
      nodes,
      initializers: [floats("w", [F, 1], new Array<number>(F).fill(1))],
      featureCount: F,
      metadataProps: metadata(),
    }),
  );
}

/** X · 0 + 5 without a sigmoid: 5 for every row. */
export function outOfRangeModel() {
  return encodeModel(
    buildModel({
      nodes: [
        { opType: "MatMul", inputs: [INPUT_NAME, "w"], outputs: ["xw"] },
        { opType: "Add", inputs: ["xw", "five"], outputs: [OUTPUT_NAME] },
      ],
      initializers: [floats("w", [F, 1], new Array<number>(F).fill(0)), floats("five", [1], [5])],
      featureCount: F,
      metadataProps: metadata(),
    }),
  );
}

/** Takes 3 features instead of the schema's. */
export function wrongInputModel() {
  return encodeModel(
    buildModel({
      nodes: [
        { opType: "MatMul", inputs: [INPUT_NAME, "w"], outputs: ["xw"] },
        { opType: "Sigmoid", inputs: ["xw"], outputs: [OUTPUT_NAME] },
      ],
      initializers: [floats("w", [3, 1], [1, 1, 1])],
      featureCount: 3,
      metadataProps: metadata(),
    }),
  );
}

/** Loads, but reshapes every batch to two rows: any other batch size fails inside the runtime. */
export function throwingModel() {
  return encodeModel(
    buildModel({
      nodes: [
        { opType: "MatMul", inputs: [INPUT_NAME, "w"], outputs: ["xw"] },
        { opType: "Reshape", inputs: ["xw", "two_rows"], outputs: ["reshaped"] },
        { opType: "Sigmoid", inputs: ["reshaped"], outputs: [OUTPUT_NAME] },
      ],
      initializers: [
        floats("w", [F, 1], new Array<number>(F).fill(0.1)),
        { name: "two_rows", dataType: DataType.INT64, dims: [2], values: [2, 1] },
      ],
      featureCount: F,
      metadataProps: metadata(),
      outputShape: [2, 1],
    }),
  );
}
