// simdnorm public API. Call `await init()` once, then use the functions below.
export { init, isInitialized, simdSupported, SIMD_REQUIREMENT, type InitOptions } from "./runtime";
export { tensor, Tensor, type TensorLike } from "./tensor";
export { LAYOUTS, type Layout } from "./layout";
export { channelStats, partialStats, finishStats, mergePartials, StatsAccumulator, type ChannelStats } from "./stats";
export {
  batchNormTrain, batchNormInfer, batchNormBackward, batchNormBackwardEval, backwardPartials,
  type BatchNormTrainOptions, type BatchNormTrainResult, type BatchNormInferOptions,
  type BatchNormBackwardOptions, type BatchNormBackwardResult, type BatchNormBackwardEvalOptions,
} from "./batchnorm";
export { CONVENTIONS, type Convention, type ConventionInfo } from "./conventions";
export { memoryStats, wasmMemory } from "./memstats";
export { NormLayer, BatchNorm, InstanceNorm, GroupNorm, LayerNorm, type BatchNormOptions, type NormLayerOptions, type ForwardOptions, type BackwardOptions } from "./layers";
export { exportWeights, importWeights, parameterCounts, type WeightFormat, type KerasWeights, type TorchStateDict, type CaffeWeights, type OnnxWeights, type ParameterCounts, type ImportOptions } from "./interop";
export { Standardizer, preciseBatchNormStats, applyStats, type StandardizerOptions, type StandardizerJSON, type Batch } from "./standardize";
export { foldBatchNorm, type WeightLayout, type FoldOptions } from "./fold";
export * from "./family/index";
export { createPool, WorkerPool, WorkerPoolError, type WorkerPoolOptions, type Shard, type BackwardShard, type SyncTrainResult, type SyncBackwardResult, type SyncTrainOptions, type SyncBackwardOptions, type TransportName, type Fault, type FaultReason } from "./workers/pool";
