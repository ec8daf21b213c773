import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { FEATURE_COUNT, FEATURE_SCHEMA_VERSION } from "../../src/model/features.js";
import { MetadataKey } from "../../src/model/onnx/export.js";
import { decodeModelInfo, OnnxDecodeError } from "../../src/model/onnx/model.js";
import { ProtoReader, ProtoWriter } from "../../src/model/onnx/protobuf.js";
import { MODEL_KINDS } from "../../src/model/train/card.js";
import { seededRandom } from "../../src/model/train/random.js";
import { trainModels } from "../../src/model/train/train.js";
import { randomVector, syntheticSamples } from "./synthetic.js";

describe("protobuf encoding", () => {
  it("writes varints, negative int64, floats and nested messages that read back", () => {
    const w = new ProtoWriter();
    w.int64(1, 300)
      .int64(2, -1)
      .float(3, 1.5)
      .string(4, "é")
      .message(5, (m) => m.int64(1, 2 ** 40));
    const r = new ProtoReader(w.finish());
    expect(r.next()).toMatchObject({ field: 1, value: 300 });
    // -1 as int64 is ten bytes of two's complement: 2^64 - 1, read here as a (rounded) number.
    expect(r.next()).toMatchObject({ field: 2, value: 2 ** 64 - 1 });
    expect(r.next()).toMatchObject({ field: 3, value: 1.5 });
    expect(new TextDecoder().decode(r.next().bytes)).toBe("é");
    const inner = new ProtoReader(r.next().bytes as Uint8Array);
    expect(inner.next()).toMatchObject({ field: 1, value: 2 ** 40 });
    expect(r.done).toBe(true);
  });

  it("rejects bytes that are not a model", () => {
    expect(() => decodeModelInfo(new Uint8Array([0x0a, 0x50, 1]))).toThrow(OnnxDecodeError);
    expect(() => decodeModelInfo(new Uint8Array([]))).toThrow(OnnxDecodeError);
  });
});

describe("exported models", () => {
  const samples = syntheticSamples({ repositories: 6, perRepository: 120, signal: "interaction", seed: 11 });
  const random = seededRandom(5);
  // Rows both from the training distribution and fresh ones, plus values sitting exactly on common thresholds.
  const rows = [
    ...samples.slice(0, 150).map((s) => s.features),
    ...Array.from({ length: 150 }, () => randomVector(random)),
  ];

  // Noise: early stopping keeps no tree, and the exported ensemble is empty (the heuristic or the base rate alone).
  const noise = syntheticSamples({ repositories: 6, perRepository: 120, signal: "none", seed: 11 });
  const cases = [
    ...MODEL_KINDS.map((kind) => ({ kind, data: samples, name: kind })),
    ...(["gradient-boosted-trees", "heuristic-boosted-trees"] as const).map((kind) => ({
      kind,
      data: noise,
      name: `${kind} with no trees kept`,
    })),
  ];
  for (const { kind, data, name } of cases) {
    it(`${name}: the runtime reproduces the in-process probabilities to 1e-5`, async () => {
      const { best, onnx, card } = trainModels(data, {
        kinds: [kind],
        gbt: { trees: 60 },
        learningCurve: [],
      });
      expect(card.kind).toBe(kind);
      if (data === noise) expect([card.trees, best.gbt?.trees.length]).toEqual([0, 0]);
      else if (kind !== "logistic-regression") expect(card.trees).toBeGreaterThan(0);
      const info = decodeModelInfo(onnx);
      expect(info.metadataProps).toMatchObject({
        [MetadataKey.featureSchemaVersion]: String(FEATURE_SCHEMA_VERSION),
        [MetadataKey.modelVersion]: card.modelVersion,
        [MetadataKey.kind]: kind,
      });
      expect(info.inputs).toEqual([{ name: "features", elemType: 1, shape: ["N", FEATURE_COUNT] }]);
      expect(info.outputs).toEqual([{ name: "trust", elemType: 1, shape: ["N", 1] }]);
      const session = await ort.InferenceSession.create(onnx);
      try {
        const input = new Float32Array(rows.length * FEATURE_COUNT);
        rows.forEach((r, i) => {
          input.set(r, i * FEATURE_COUNT);
        });
        const out = await session.run({ features: new ort.Tensor("float32", input, [rows.length, FEATURE_COUNT]) });
        const got = out.trust?.data as Float32Array;
        expect(out.trust?.dims).toEqual([rows.length, 1]);
        let maxDiff = 0;
        rows.forEach((r, i) => {
          maxDiff = Math.max(maxDiff, Math.abs((got[i] as number) - best.predict(r)));
        });
        expect(maxDiff).toBeLessThan(1e-5);
      } finally {
        await session.release();
      }
    });
  }
});
