// Instance, group and layer norm: forward and backward in every layout (see docs/family.md).
export { instanceNorm, instanceNormBackward, groupNorm, groupNormBackward, type GroupNormOptions, type GroupNormBackwardOptions } from "./groupnorm";
export { layerNorm, layerNormBackward } from "./layernorm";
export type { NormOptions, NormResult, NormBackwardOptions, NormBackwardResult } from "./common";
