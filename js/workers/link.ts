// What the pool's implementation (dist/simdnorm-pool.js, loaded by createPool) uses of the runtime:
// the functions and classes of the bundle that loaded it, handed to every pool it makes. So the
// pool runs on that bundle's runtime (its wasm instance, heap and Tensor class), and one module
// serves the ESM, CommonJS and browser bundles, even two of them in one process.
import plainWasm from "../../build/simdnorm.wasm";
import { init, rt, isInitialized } from "../core/runtime";
import { fmt, readOptions } from "../core/errors";
import { resolveGeometry, sameSize, wantsTensor } from "../core/args";
import { typedSet, typedKind, typedLength } from "../core/typed";
import { isTensor, tensor } from "../core/tensor";
import { geometry, fmtShape } from "../core/layout";
import { Scope, sameShape } from "../core/scope";
import { optionsOf, trainOptions, backwardOptions } from "../ops/options";
import { partialStats, finishStats, mergePartials } from "../ops/stats";
import { batchNormTrain, batchNormBackward } from "../ops/batchnorm";
import { isPixels } from "../ops/pixels-input";
import { tempBytes } from "../ops/dispatch";
import { WorkerPoolError } from "./error";
import { bnOutputs, gradOutputs } from "../ops/family/outputs";

/** @internal */
export const link = {
  plainWasm, init, rt, isInitialized, fmt, readOptions, resolveGeometry, sameSize, wantsTensor, typedSet, typedKind, typedLength,
  isTensor, tensor, geometry, fmtShape, Scope, sameShape, optionsOf, trainOptions, backwardOptions,
  partialStats, finishStats, mergePartials, batchNormTrain, batchNormBackward, isPixels, tempBytes, WorkerPoolError, bnOutputs, gradOutputs,
};

/** @internal */
export type PoolLink = typeof link;
