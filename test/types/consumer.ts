// Compiled (not run) by test/types.test.mjs against the published declarations, strict and with
// library checks on: the public API must type-check on its own, internals stripped.
import {
  init, tensor, Tensor, LAYOUTS, channelStats, partialStats, finishStats, mergePartials, StatsAccumulator,
  batchNormTrain, batchNormInfer, batchNormBackward, batchNormBackwardEval, backwardPartials, CONVENTIONS,
  memoryStats, BatchNorm, GroupNorm, LayerNorm, InstanceNorm, exportWeights, importWeights, parameterCounts,
  Standardizer, preciseBatchNormStats, foldBatchNorm, instanceNorm, groupNorm, layerNorm, layerNormBackward,
  createPool, WorkerPool, WorkerPoolError, fromPixels, PIXEL_PRESETS,
  type FromPixelsOptions, type Layout, type TensorLike, type ChannelStats, type BatchNormTrainResult, type WorkerPoolOptions, type FaultReason,
} from "../../dist/index.js";

export async function consumer(): Promise<number> {
  await init({ warmup: false });
  const layout: Layout = "NCHW";
  const x: Tensor = tensor([2, 3, 4, 4], layout);
  const s: ChannelStats = channelStats(x);
  const acc = new StatsAccumulator(3);
  acc.update(x);
  const merged = mergePartials(partialStats(x), partialStats(x));
  const r: BatchNormTrainResult = batchNormTrain(x, { gamma: [1, 1, 1], runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1) });
  const y: TensorLike = batchNormInfer(x, { runningMean: r.saveMean, runningVar: r.var });
  const b = batchNormBackward(x, x, { saveMean: r.saveMean, saveInvstd: r.saveInvstd });
  batchNormBackwardEval(x, x, { runningMean: r.saveMean, runningVar: r.var });
  backwardPartials(x, x, { saveMean: r.saveMean });
  const bn = new BatchNorm(3, { layout });
  importWeights(bn, "pytorch", exportWeights(bn, "pytorch"));
  parameterCounts(bn);
  new GroupNorm(3, { layout, groups: 3 }); new LayerNorm(3); new InstanceNorm(3, { layout });
  new Standardizer(3);
  preciseBatchNormStats;
  foldBatchNorm;
  instanceNorm(x); groupNorm(x, { groups: 3 });
  const ln = layerNorm(x);
  layerNormBackward(x, x, { mean: ln.mean, invstd: ln.invstd });
  const px: FromPixelsOptions & { out?: undefined } = { width: 2, height: 1, preset: "imagenet", layout: "NHWC" };
  const img: Tensor = fromPixels({ data: new Uint8ClampedArray(8), width: 2, height: 1 }, px);
  const into: Float32Array = fromPixels(new Uint8Array(8), { width: 2, height: 1, out: new Float32Array(6) });
  img.free();
  const byteStats: ChannelStats = channelStats(new Uint8Array(6), { width: 2, height: 1, channels: 3 });
  acc.update([new Uint8Array(8)], { width: 1, height: 2 });
  const o: WorkerPoolOptions = { workers: 2, transport: "auto", minSplit: 1 << 20 };
  const pool: WorkerPool = await createPool(o);
  const split: number = pool.minSplit.partialStats + pool.minSplit.batchNormTrain + pool.minSplit.batchNormBackward;
  const states: string[] = pool.workers().map((w) => w.state);
  const poolBytes: ChannelStats = await pool.channelStats([new Uint8ClampedArray(8)], { width: 2, height: 1 });
  const why: FaultReason | undefined = new WorkerPoolError("m", 0, "op", "phase", "failed").reason;
  await pool.close();
  return s.mean[0] + merged[0] + b.dgamma[0] + (y instanceof Tensor ? 1 : 0) + LAYOUTS.NC.rank + CONVENTIONS.pytorch.eps
    + img.length + into.length + byteStats.count + PIXEL_PRESETS.clip.scale + memoryStats().allocatedBytes + finishStats(acc.partials).count + split + states.length + poolBytes.count + (why ? 1 : 0);
}
