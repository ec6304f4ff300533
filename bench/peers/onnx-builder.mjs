// Minimal protobuf encoder for the ONNX messages the peer benchmarks need: enough of
// ModelProto / GraphProto / NodeProto / ValueInfoProto / TensorProto / AttributeProto to build
// small float32 graphs at start-up, so the benchmark ships no .onnx files and no protobuf
// dependency. Field numbers follow onnx/onnx.proto (IR version 10).
//
// Only the wire types used by ONNX appear: varint (0), 64-bit (1, unused), length-delimited (2)
// and 32-bit (5, single floats). Repeated scalars are written packed, which proto3 parsers
// (onnxruntime's included) accept for every repeated numeric field.

const enc = new TextEncoder();

/** Growable byte writer. */
class Writer {
  constructor() { this.buf = new Uint8Array(256); this.len = 0; }
  ensure(n) {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2; while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap); b.set(this.buf.subarray(0, this.len)); this.buf = b;
  }
  byte(b) { this.ensure(1); this.buf[this.len++] = b; }
  // Varints go through BigInt so negative int64 values (e.g. axis = -1) encode as the
  // 10-byte two's complement protobuf expects, not a truncated 32-bit value.
  varint(v) {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) { this.byte(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    this.byte(Number(x));
  }
  bytes(u8) { this.ensure(u8.length); this.buf.set(u8, this.len); this.len += u8.length; }
  tag(field, wire) { this.varint((field << 3) | wire); }
  finish() { return this.buf.slice(0, this.len); }
}

// Field writers. Each skips undefined values so message builders can pass optional fields.
const W = {
  int(w, f, v) { if (v === undefined) return; w.tag(f, 0); w.varint(v); },
  float(w, f, v) { if (v === undefined) return; w.tag(f, 5); const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, v, true); w.bytes(b); },
  bytes(w, f, u8) { if (u8 === undefined) return; w.tag(f, 2); w.varint(u8.length); w.bytes(u8); },
  str(w, f, s) { if (s === undefined) return; W.bytes(w, f, enc.encode(s)); },
  msg(w, f, m) { if (m === undefined) return; W.bytes(w, f, m); },
  packedInts(w, f, arr) {
    if (!arr || arr.length === 0) return;
    const inner = new Writer(); for (const v of arr) inner.varint(v);
    W.bytes(w, f, inner.finish());
  },
  packedFloats(w, f, arr) {
    if (!arr || arr.length === 0) return;
    const b = new Uint8Array(arr.length * 4); const dv = new DataView(b.buffer);
    for (let i = 0; i < arr.length; i++) dv.setFloat32(i * 4, arr[i], true);
    W.bytes(w, f, b);
  },
};

export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 };
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 };

/**
 * TensorProto (used for initializers and Constant attributes). `values` are written as raw
 * little-endian bytes (field 9), the form onnxruntime reads fastest.
 * @param {string} name
 * @param {number[]} dims
 * @param {ArrayLike<number>} values
 * @param {number} dataType DataType.FLOAT or DataType.INT64
 */
export function tensor(name, dims, values, dataType = DataType.FLOAT) {
  const w = new Writer();
  W.packedInts(w, 1, dims);
  W.int(w, 2, dataType);
  W.str(w, 8, name);
  let raw;
  if (dataType === DataType.FLOAT) raw = new Uint8Array(Float32Array.from(values).buffer);
  else if (dataType === DataType.INT64) raw = new Uint8Array(BigInt64Array.from(Array.from(values), (v) => BigInt(v)).buffer);
  else if (dataType === DataType.INT32) raw = new Uint8Array(Int32Array.from(values).buffer);
  else throw new Error(`tensor: unsupported data type ${dataType}`);
  W.bytes(w, 9, raw);
  return w.finish();
}

/**
 * AttributeProto from a JS value: integer → INT, non-integer number → FLOAT, string → STRING,
 * array → INTS (or FLOATS when wrapped as { floats: [...] }), { tensor: bytes } → TENSOR.
 * Force a float for an integral value with { float: 1 }.
 */
function attribute(name, v) {
  const w = new Writer();
  W.str(w, 1, name);
  if (typeof v === 'number' && Number.isInteger(v)) { W.int(w, 3, v); W.int(w, 20, AttrType.INT); }
  else if (typeof v === 'number') { W.float(w, 2, v); W.int(w, 20, AttrType.FLOAT); }
  else if (typeof v === 'string') { W.bytes(w, 4, enc.encode(v)); W.int(w, 20, AttrType.STRING); }
  else if (Array.isArray(v)) { W.packedInts(w, 8, v); W.int(w, 20, AttrType.INTS); }
  else if (v && 'float' in v) { W.float(w, 2, v.float); W.int(w, 20, AttrType.FLOAT); }
  else if (v && 'floats' in v) { W.packedFloats(w, 7, v.floats); W.int(w, 20, AttrType.FLOATS); }
  else if (v && 'tensor' in v) { W.msg(w, 5, v.tensor); W.int(w, 20, AttrType.TENSOR); }
  else throw new Error(`attribute ${name}: unsupported value ${v}`);
  return w.finish();
}

/**
 * NodeProto. `attrs` maps attribute names to values (see attribute()).
 * @param {string} opType
 * @param {string[]} inputs   '' marks an omitted optional input
 * @param {string[]} outputs
 * @param {object} [attrs]
 * @param {string} [name]
 */
export function node(opType, inputs, outputs, attrs = {}, name) {
  const w = new Writer();
  for (const i of inputs) W.str(w, 1, i);
  for (const o of outputs) W.str(w, 2, o);
  W.str(w, 3, name ?? `${opType}_${outputs[0]}`);
  W.str(w, 4, opType);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) W.msg(w, 5, attribute(k, v));
  return w.finish();
}

/**
 * ValueInfoProto for a tensor. dims entries are numbers (fixed) or strings (symbolic);
 * dims === null leaves the shape unknown (rank too), which onnxruntime accepts for outputs.
 */
export function valueInfo(name, dims, elemType = DataType.FLOAT) {
  const tt = new Writer();
  W.int(tt, 1, elemType);
  if (dims) {
    const shape = new Writer();
    for (const d of dims) {
      const dim = new Writer();
      if (typeof d === 'number') W.int(dim, 1, d); else W.str(dim, 2, d);
      W.msg(shape, 1, dim.finish());
    }
    W.msg(tt, 2, shape.finish());
  }
  const type = new Writer(); W.msg(type, 1, tt.finish());
  const w = new Writer();
  W.str(w, 1, name);
  W.msg(w, 2, type.finish());
  return w.finish();
}

/** GraphProto. */
export function graph({ name = 'g', nodes, inputs, outputs, initializers = [] }) {
  const w = new Writer();
  for (const n of nodes) W.msg(w, 1, n);
  W.str(w, 2, name);
  for (const t of initializers) W.msg(w, 5, t);
  for (const i of inputs) W.msg(w, 11, i);
  for (const o of outputs) W.msg(w, 12, o);
  return w.finish();
}

/**
 * ModelProto with one default-domain opset import.
 * IR version 10 is required for opset 21 and is read by onnxruntime ≥ 1.18.
 */
export function model(graphBytes, { opset = 21, irVersion = 10, producer = 'simdnorm-bench' } = {}) {
  const w = new Writer();
  W.int(w, 1, irVersion);
  W.str(w, 2, producer);
  W.str(w, 3, '0');
  W.msg(w, 7, graphBytes);
  const op = new Writer(); W.str(op, 1, ''); W.int(op, 2, opset);
  W.msg(w, 8, op.finish());
  return w.finish();
}

/**
 * Convenience: a small graph-building context that names intermediate values and collects
 * int64/float constants as initializers. Graph outputs are made by renaming the producing
 * node's output (no Identity node, so nothing extra runs).
 *
 *   const g = new GraphBuilder();
 *   const m = g.op('ReduceMean', ['x', g.i64([0, 2, 3])], { keepdims: 1 });
 *   g.output(m, 'mean');
 *   const bytes = g.build({ inputs: [valueInfo('x', [8, 64, 56, 56])], opset: 21 });
 */
export class GraphBuilder {
  constructor() { this.specs = []; this.inits = []; this.n = 0; this.outs = []; this.rename = new Map(); }
  fresh(p = 't') { return `${p}${this.n++}`; }
  i64(values, dims = [values.length]) { const name = this.fresh('c'); this.inits.push(tensor(name, dims, values, DataType.INT64)); return name; }
  f32(values, dims = [values.length]) { const name = this.fresh('c'); this.inits.push(tensor(name, dims, values, DataType.FLOAT)); return name; }
  /** Adds a node; returns its output name (or names when nOut > 1). */
  op(type, inputs, attrs = {}, nOut = 1) {
    const outs = Array.from({ length: nOut }, () => this.fresh());
    this.specs.push({ type, inputs, outs, attrs });
    return nOut === 1 ? outs[0] : outs;
  }
  /** Declares `value` (an op output) as graph output `name`. */
  output(value, name, dims = null) {
    if (this.rename.has(value)) throw new Error(`${value} is already output ${this.rename.get(value)}`);
    this.rename.set(value, name);
    this.outs.push(valueInfo(name, dims));
    return name;
  }
  build({ inputs, opset = 21 }) {
    const r = (v) => this.rename.get(v) ?? v;
    const nodes = this.specs.map((s) => node(s.type, s.inputs.map(r), s.outs.map(r), s.attrs));
    return model(graph({ nodes, inputs, outputs: this.outs, initializers: this.inits }), { opset });
  }
}
