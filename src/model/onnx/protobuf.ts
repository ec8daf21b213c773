/**
 * Just enough of the protobuf wire format to write and read ONNX files: the model is exported and its metadata is
 * read back without a protobuf dependency. Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
 */

export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Appends fields to a growing buffer. Nested messages are encoded first and written as bytes. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;
  private readonly view4 = new DataView(new ArrayBuffer(4));

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Unsigned or negative (int64 two's complement, ten bytes) varint. */
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    if (typeof value === "number" && value >= 0 && value <= 0xffffffff) {
      // The common case without BigInt arithmetic.
      let n = value;
      while (n > 0x7f) {
        this.byte((n & 0x7f) | 0x80);
        n = Math.floor(n / 128);
      }
      this.byte(n);
      return this;
    }
    while (v > 0x7fn) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  int64(field: number, value: number | bigint): this {
    return this.tag(field, WireType.varint).varint(value);
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.fixed32);
    this.view4.setFloat32(0, value, true);
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.buf[this.len++] = this.view4.getUint8(i);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.bytes).varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.len);
    this.len += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, encode: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    encode(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

export class ProtoDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = "ProtoDecodeError";
  }
}

export interface ProtoField {
  field: number;
  wireType: number;
  /** Varint value (as a number: ONNX header fields fit), or the fixed32 bits as a float. */
  value?: number;
  /** Length-delimited payload. */
  bytes?: Uint8Array;
}

/** Reads the fields of one message; every read is bounds-checked so that a damaged file fails cleanly. */
export class ProtoReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtoDecodeError("truncated varint", this.pos);
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtoDecodeError("varint longer than ten bytes", this.pos);
  }

  next(): ProtoField {
    const start = this.pos;
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new ProtoDecodeError("field number 0", start);
    switch (wireType) {
      case WireType.varint:
        return { field, wireType, value: this.varint() };
      case WireType.fixed64:
        this.skip(8);
        return { field, wireType };
      case WireType.fixed32: {
        if (this.pos + 4 > this.buf.length) throw new ProtoDecodeError("truncated fixed32", this.pos);
        const value = this.view.getFloat32(this.pos, true);
        this.pos += 4;
        return { field, wireType, value };
      }
      case WireType.bytes: {
        const length = this.varint();
        if (this.pos + length > this.buf.length) throw new ProtoDecodeError("length past the end", this.pos);
        const bytes = this.buf.subarray(this.pos, this.pos + length);
        this.pos += length;
        return { field, wireType, bytes };
      }
      default:
        throw new ProtoDecodeError(`unsupported wire type ${wireType}`, start);
    }
  }

  private skip(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtoDecodeError("truncated field", this.pos);
    this.pos += n;
  }
}

export function decodeString(bytes: Uint8Array, offset = 0): string {
  try {
    return textDecoder.decode(bytes);
  } catch {
    throw new ProtoDecodeError("invalid UTF-8 in a string field", offset);
  }
}
