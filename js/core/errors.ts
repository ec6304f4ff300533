// Validation helpers: every message names the argument, the expected and the actual value.

export function checkFinite(name: string, v: unknown, min = -Infinity): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new Error(`${name} must be a finite number${min > -Infinity ? ` ≥ ${min}` : ""}, got ${String(v)}`);
  }
  return v;
}

export type Vec = Float32Array | Float64Array | number[];

export function isVec(v: unknown): v is Vec {
  return v instanceof Float32Array || v instanceof Float64Array || Array.isArray(v);
}

/** A per-channel vector: right type, right length. */
export function checkVec(name: string, v: unknown, C: number, unit = "channels"): Vec {
  if (!isVec(v)) throw new Error(`${name} must be a Float32Array, Float64Array or number[] of ${C} values, got ${v === null ? "null" : typeof v}`);
  if (v.length !== C) throw new Error(`${name} has ${v.length} values, the tensor has ${C} ${unit}`);
  return v;
}

export function checkNonNegative(name: string, v: Vec, arg = name): void {
  for (let i = 0; i < v.length; i++) {
    if (v[i] < 0) throw new Error(`${name}[${i}] is negative (${v[i]}): ${arg} must hold variances ≥ 0`);
  }
}
