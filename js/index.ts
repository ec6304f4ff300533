// simdnorm public API. Call `await init()` once, then use the functions below.
export { init, isInitialized, simdSupported, SIMD_REQUIREMENT, type InitOptions } from "./core/runtime";
export { tensor, Tensor, type TensorLike } from "./core/tensor";
export { LAYOUTS, type Layout } from "./core/layout";
export { channelStats, partialStats, finishStats, mergePartials, StatsAccumulator, type ChannelStats } from "./ops/stats";
export {
  batchNormTrain, batchNormInfer, batchNormBackward, batchNormBackwardEval, backwardPartials,
  type BatchNormTrainOptions, type BatchNormTrainResult, type BatchNormInferOptions,
  type BatchNormBackwardOptions, type BatchNormBackwardResult, type BatchNormBackwardEvalOptions,
} from "./ops/batchnorm";
export { CONVENTIONS, type Convention, type ConventionInfo } from "./ops/conventions";
export { ACTIVATIONS, type Activation } from "./ops/activation";
export { fromPixels, PIXEL_PRESETS, isPixels, type FromPixelsOptions, type PixelPreset, type PixelPresetName, type Pixels, type PixelImage, type PixelShape, type ImageDataLike } from "./ops/pixels";
export { pixelPartials } from "./ops/pixels-stats";
export { memoryStats, wasmMemory } from "./core/memstats";
export { NormLayer, BatchNorm, InstanceNorm, GroupNorm, LayerNorm, RMSNorm, type BatchNormOptions, type NormLayerOptions, type RMSNormOptions, type ForwardOptions, type BackwardOptions } from "./api/layers";
export type { RmsWeights } from "./api/interop-rms";
export { exportWeights, importWeights, parameterCounts, type WeightFormat, type KerasWeights, type TorchStateDict, type CaffeWeights, type OnnxWeights, type ParameterCounts, type ImportOptions } from "./api/interop";
export { Standardizer, preciseBatchNormStats, applyStats, type StandardizerOptions, type StandardizerJSON, type Batch } from "./api/standardize";
export { foldBatchNorm, type WeightLayout, type FoldOptions } from "./api/fold";
export * from "./ops/family/index";
export { createPool } from "./workers/create";
export { WorkerPool, WorkerPoolError, type WorkerPoolOptions, type Shard, type BackwardShard, type SyncTrainResult, type SyncBackwardResult, type SyncTrainOptions, type SyncBackwardOptions, type TransportName, type Fault, type FaultReason } from "./workers/pool";
