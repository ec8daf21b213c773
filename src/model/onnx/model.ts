/**
 * The ONNX messages the exporter needs (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto,
 * AttributeProto) as plain objects, their encoder, and a decoder for what the predictor checks before trusting a
 * file: IR version, opsets, metadata_props and the graph's input and output shapes. Field numbers follow onnx.proto.
 */
import { decodeString, ProtoDecodeError, ProtoReader, ProtoWriter, WireType } from "./protobuf.js";

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

export interface TensorProto {
  name: string;
  dataType: DataTypeId;
  dims: readonly number[];
  /** Row-major values; stored as little-endian raw_data. */
  values: readonly number[];
}

export type AttributeValue =
  | { kind: "float"; value: number }
  | { kind: "int"; value: number }
  | { kind: "string"; value: string }
  | { kind: "floats"; value: readonly number[] }
  | { kind: "ints"; value: readonly number[] }
  | { kind: "strings"; value: readonly string[] }
  | { kind: "tensor"; value: TensorProto };

export interface AttributeProto {
  name: string;
  value: AttributeValue;
}

export interface NodeProto {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: readonly AttributeProto[];
}

/** A tensor-typed graph input or output; a string dimension is symbolic (e.g. the batch "N"). */
export interface ValueInfoProto {
  name: string;
  elemType: DataTypeId;
  shape: readonly (number | string)[];
}

export interface GraphProto {
  name: string;
  nodes: readonly NodeProto[];
  initializers: readonly TensorProto[];
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
}

export interface OperatorSetId {
  domain: string;
  version: number;
}

export interface ModelProto {
  irVersion: number;
  opsetImports: readonly OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph: GraphProto;
  metadataProps?: Readonly<Record<string, string>>;
}

/** AttributeProto.AttributeType. */
const AttributeType = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const;

function encodeTensor(w: ProtoWriter, t: TensorProto): void {
  for (const d of t.dims) w.int64(1, d);
  w.int64(2, t.dataType);
  w.string(8, t.name);
  const raw =
    t.dataType === DataType.FLOAT
      ? new Uint8Array(Float32Array.from(t.values).buffer)
      : new Uint8Array(BigInt64Array.from(t.values, (v) => BigInt(v)).buffer);
  // Typed arrays are little-endian on every platform Node supports, which is what raw_data requires.
  w.bytes(9, raw);
}

function encodeAttribute(w: ProtoWriter, a: AttributeProto): void {
  w.string(1, a.name);
  w.int64(20, AttributeType[a.value.kind]);
  const v = a.value;
  // Repeated scalars are written unpacked, as proto2 declares them in onnx.proto.
  switch (v.kind) {
    case "float":
      w.float(2, v.value);
      break;
    case "int":
      w.int64(3, v.value);
      break;
    case "string":
      w.string(4, v.value);
      break;
    case "tensor":
      w.message(5, (m) => encodeTensor(m, v.value));
      break;
    case "floats":
      for (const f of v.value) w.float(7, f);
      break;
    case "ints":
      for (const i of v.value) w.int64(8, i);
      break;
    case "strings":
      for (const s of v.value) w.string(9, s);
      break;
  }
}

function encodeNode(w: ProtoWriter, n: NodeProto): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, (m) => encodeAttribute(m, a));
  if (n.domain) w.string(7, n.domain);
}

function encodeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int64(1, v.elemType);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => {
            if (typeof d === "number") dim.int64(1, d);
            else dim.string(2, d);
          });
        }
      });
    }),
  );
}

function encodeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.nodes) w.message(1, (m) => encodeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => encodeTensor(m, t));
  for (const i of g.inputs) w.message(11, (m) => encodeValueInfo(m, i));
  for (const o of g.outputs) w.message(12, (m) => encodeValueInfo(m, o));
}

export function encodeModel(model: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  w.int64(1, model.irVersion);
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (m) => encodeGraph(m, model.graph));
  for (const o of model.opsetImports) {
    w.message(8, (m) => {
      if (o.domain) m.string(1, o.domain);
      m.int64(2, o.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadataProps ?? {})) {
    w.message(14, (m) => m.string(1, key).string(2, value));
  }
  return w.finish();
}

export interface ValueInfoSummary {
  name: string;
  elemType: number;
  shape: (number | string)[];
}

/** What the predictor checks in a model file before handing it to the runtime. */
export interface ModelInfo {
  irVersion: number;
  producerName: string;
  opsetImports: OperatorSetId[];
  metadataProps: Record<string, string>;
  inputs: ValueInfoSummary[];
  outputs: ValueInfoSummary[];
}

export class OnnxDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OnnxDecodeError";
  }
}

function expectBytes(f: { bytes?: Uint8Array; wireType: number; field: number }): Uint8Array {
  if (f.wireType !== WireType.bytes || !f.bytes) throw new OnnxDecodeError(`field ${f.field}: expected bytes`);
  return f.bytes;
}

function expectVarint(f: { value?: number; wireType: number; field: number }): number {
  if (f.wireType !== WireType.varint || f.value === undefined) {
    throw new OnnxDecodeError(`field ${f.field}: expected a varint`);
  }
  return f.value;
}

function decodeValueInfo(bytes: Uint8Array): ValueInfoSummary {
  const out: ValueInfoSummary = { name: "", elemType: 0, shape: [] };
  const r = new ProtoReader(bytes);
  while (!r.done) {
    const f = r.next();
    if (f.field === 1) out.name = decodeString(expectBytes(f));
    else if (f.field === 2) {
      const type = new ProtoReader(expectBytes(f));
      while (!type.done) {
        const tf = type.next();
        if (tf.field !== 1) continue;
        const tensor = new ProtoReader(expectBytes(tf));
        while (!tensor.done) {
          const xf = tensor.next();
          if (xf.field === 1) out.elemType = expectVarint(xf);
          else if (xf.field === 2) {
            const shape = new ProtoReader(expectBytes(xf));
            while (!shape.done) {
              const sf = shape.next();
              if (sf.field !== 1) continue;
              const dim = new ProtoReader(expectBytes(sf));
              let d: number | string = "?";
              while (!dim.done) {
                const df = dim.next();
                if (df.field === 1) d = expectVarint(df);
                else if (df.field === 2) d = decodeString(expectBytes(df));
              }
              out.shape.push(d);
            }
          }
        }
      }
    }
  }
  return out;
}

/** Decodes the header of a model; throws {@link OnnxDecodeError} on anything that is not a well-formed ModelProto. */
export function decodeModelInfo(bytes: Uint8Array): ModelInfo {
  const info: ModelInfo = {
    irVersion: 0,
    producerName: "",
    opsetImports: [],
    metadataProps: {},
    inputs: [],
    outputs: [],
  };
  let sawGraph = false;
  try {
    const r = new ProtoReader(bytes);
    while (!r.done) {
      const f = r.next();
      switch (f.field) {
        case 1:
          info.irVersion = expectVarint(f);
          break;
        case 2:
          info.producerName = decodeString(expectBytes(f));
          break;
        case 7: {
          sawGraph = true;
          const g = new ProtoReader(expectBytes(f));
          while (!g.done) {
            const gf = g.next();
            if (gf.field === 11) info.inputs.push(decodeValueInfo(expectBytes(gf)));
            else if (gf.field === 12) info.outputs.push(decodeValueInfo(expectBytes(gf)));
          }
          break;
        }
        case 8: {
          const o = new ProtoReader(expectBytes(f));
          const op: OperatorSetId = { domain: "", version: 0 };
          while (!o.done) {
            const of = o.next();
            if (of.field === 1) op.domain = decodeString(expectBytes(of));
            else if (of.field === 2) op.version = expectVarint(of);
          }
          info.opsetImports.push(op);
          break;
        }
        case 14: {
          const e = new ProtoReader(expectBytes(f));
          let key = "";
          let value = "";
          while (!e.done) {
            const ef = e.next();
            if (ef.field === 1) key = decodeString(expectBytes(ef));
            else if (ef.field === 2) value = decodeString(expectBytes(ef));
          }
          info.metadataProps[key] = value;
          break;
        }
        default:
          break;
      }
    }
  } catch (err) {
    if (err instanceof OnnxDecodeError) throw err;
    if (err instanceof ProtoDecodeError) throw new OnnxDecodeError(`not an ONNX model: ${err.message}`, { cause: err });
    throw err;
  }
  if (!sawGraph || info.irVersion === 0) throw new OnnxDecodeError("not an ONNX model: no IR version or no graph");
  return info;
}
