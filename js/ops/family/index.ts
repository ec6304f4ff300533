// Instance, group, layer and RMS norm and the skip norms: forward and backward in every layout
// (see docs/family.md and docs/transformers.md).
export { instanceNorm, instanceNormBackward, groupNorm, groupNormBackward, type GroupNormOptions, type GroupNormBackwardOptions } from "./groupnorm";
export { layerNorm, layerNormBackward, type LayerNormBackwardOptions } from "./layernorm";
export { rmsNorm, rmsNormBackward, type RmsNormOptions, type RmsNormResult, type RmsNormBackwardOptions, type RmsNormBackwardResult } from "./rmsnorm";
export {
  skipLayerNorm, skipRmsNorm, skipLayerNormBackward, skipRmsNormBackward,
  type SkipNormOptions, type SkipNormResult, type SkipLayerNormResult, type SkipRmsNormResult,
  type SkipNormBackwardOptions, type SkipNormBackwardResult,
} from "./skipnorm";
export type { NormOptions, NormResult, NormBackwardOptions, NormBackwardResult } from "./common";
