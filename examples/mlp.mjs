// npm run demo:mlp — the network from the classic "where do I call BatchNormalization in Keras?"
// question, trained twice on the same seeded data (without and with batch norm):
//
//   14 inputs → Dense 64 → BatchNorm → tanh → Dropout 0.5 → Dense 64 → BatchNorm → tanh
//             → Dropout 0.5 → Dense 2 → softmax
//   SGD lr 0.1, momentum 0.9 (Nesterov), batch 16, 20 epochs, cross-entropy.
//
// Dense, tanh, dropout, softmax and SGD are plain JS (float64 math); batch norm is simdnorm's
// BatchNorm layer: training forward/backward with batch statistics (running statistics updated
// by the same call), eval with the running statistics. Seeded: every run prints the same numbers.
import * as sn from "../dist/index.js";

const SEED = 20240611, EPOCHS = 20, BATCH = 16, LR = 0.1, MOMENTUM = 0.9, HIDDEN = 64, FEATURES = 14;
const N_TRAIN = 4000, N_VAL = 1000;
const log = (...a) => console.log(...a);
const t00 = performance.now();

// ---------------------------------------------------------------- seeded randomness
function rng(seed) {
  let a = seed >>> 0;
  const u = () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const normal = () => { let s = 0; while (s === 0) s = u(); return Math.sqrt(-2 * Math.log(s)) * Math.cos(2 * Math.PI * u()); };
  return { u, normal };
}

// ---------------------------------------------------------------- the dataset
// 14 latent standard-normal factors; the class is a nonlinear function of them. Each feature
// the model sees is offset_j + scale_j·factor_j, with scales from 0.01 to 1000 and offsets up to
// ±2000: raw, unscaled features as they come out of a CSV.
const SCALES = [1000, 0.01, 250, 3, 0.5, 40, 1, 800, 0.05, 12, 150, 0.2, 6, 2];
const OFFSETS = [2000, -0.3, 500, 40, 7, -900, 0, 1500, 0.1, -60, 300, 1, -25, 1000];
function makeData(n, r) {
  const x = new Float32Array(n * FEATURES), y = new Uint8Array(n), z = new Float64Array(FEATURES);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < FEATURES; j++) z[j] = r.normal();
    const score = 1.2 * z[0] - z[2] + 0.9 * z[7] + z[5] * z[10] + 0.8 * Math.sin(2 * z[9]) - 0.6 * z[3] + 0.4 * (z[12] * z[12] - 1) + 0.3 * r.normal();
    y[i] = score > 0 ? 1 : 0;
    for (let j = 0; j < FEATURES; j++) x[i * FEATURES + j] = OFFSETS[j] + SCALES[j] * z[j];
  }
  return { x, y, n };
}
const dataRng = rng(SEED);
const train = makeData(N_TRAIN, dataRng), val = makeData(N_VAL, dataRng);

// ---------------------------------------------------------------- plain-JS layers
/** Dense: y = x·W + b, W (in, out) as Keras stores it, glorot_uniform init, bias 0. */
class Dense {
  constructor(inp, out, r) {
    this.inp = inp; this.out = out;
    const lim = Math.sqrt(6 / (inp + out));
    this.W = Float64Array.from({ length: inp * out }, () => (2 * r.u() - 1) * lim);
    this.b = new Float64Array(out);
    this.dW = new Float64Array(inp * out); this.db = new Float64Array(out);
  }
  forward(x, n) {
    this.x = x; this.n = n;
    const { inp, out, W, b } = this, y = new Float32Array(n * out), row = new Float64Array(out);
    for (let i = 0; i < n; i++) {
      row.set(b);
      for (let k = 0; k < inp; k++) { const v = x[i * inp + k], w = k * out; for (let o = 0; o < out; o++) row[o] += v * W[w + o]; }
      y.set(row, i * out);
    }
    return y;
  }
  backward(dy) {
    const { inp, out, W, x, n, dW, db } = this, dx = new Float32Array(n * inp);
    dW.fill(0); db.fill(0);
    for (let i = 0; i < n; i++) {
      const d = i * out;
      for (let o = 0; o < out; o++) db[o] += dy[d + o];
      for (let k = 0; k < inp; k++) {
        const v = x[i * inp + k], w = k * out;
        let s = 0;
        for (let o = 0; o < out; o++) { const g = dy[d + o]; dW[w + o] += v * g; s += W[w + o] * g; }
        dx[i * inp + k] = s;
      }
    }
    return dx;
  }
  params() { return [[this.W, this.dW], [this.b, this.db]]; }
  get count() { return this.W.length + this.b.length; }
}

class Tanh {
  forward(x) { this.y = x.map(Math.tanh); return this.y; }
  backward(dy) { return dy.map((g, i) => g * (1 - this.y[i] * this.y[i])); }
  params() { return []; }
}

/** Inverted dropout: scale kept units by 1/(1−rate) in training, identity in eval. */
class Dropout {
  constructor(rate, r) { this.rate = rate; this.r = r; this.training = true; }
  forward(x) {
    if (!this.training) return x;
    const keep = 1 - this.rate;
    this.mask = Float32Array.from(x, () => (this.r.u() < keep ? 1 / keep : 0));
    return x.map((v, i) => v * this.mask[i]);
  }
  backward(dy) { return this.training ? dy.map((g, i) => g * this.mask[i]) : dy; }
  params() { return []; }
}

/** simdnorm's BatchNorm (NC layout) inside the plain-JS model; gamma/beta trained by the same SGD. */
class BN {
  constructor(C) { this.bn = new sn.BatchNorm(C); }  // pytorch convention: momentum 0.1, eps 1e-5
  forward(x) { return this.bn.forward(x); }
  backward(dy) { return this.bn.backward(dy); }
  params() { return [[this.bn.gamma, this.bn.dgamma], [this.bn.beta, this.bn.dbeta]]; }
}

function model(withBN, seed) {
  const r = rng(seed);
  const layers = [new Dense(FEATURES, HIDDEN, r)];
  if (withBN) layers.push(new BN(HIDDEN));
  layers.push(new Tanh(), new Dropout(0.5, r), new Dense(HIDDEN, HIDDEN, r));
  if (withBN) layers.push(new BN(HIDDEN));
  layers.push(new Tanh(), new Dropout(0.5, r), new Dense(HIDDEN, 2, r));
  return layers;
}

function setTraining(layers, on) {
  for (const l of layers) { if (l instanceof Dropout) l.training = on; if (l instanceof BN) l.bn.train(on); }
}

function forward(layers, x, n) {
  let h = x;
  for (const l of layers) h = l instanceof Dense ? l.forward(h, n) : l.forward(h);
  return h; // logits (n, 2)
}

/** Softmax cross-entropy: mean loss and dlogits (already divided by n). */
function softmaxXent(logits, y, n) {
  const d = new Float32Array(n * 2);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const a = logits[2 * i], b = logits[2 * i + 1], m = Math.max(a, b);
    const ea = Math.exp(a - m), eb = Math.exp(b - m), s = ea + eb;
    const p1 = eb / s;
    loss -= Math.log(Math.max(y[i] ? p1 : 1 - p1, 1e-12));
    d[2 * i] = ((1 - p1) - (y[i] ? 0 : 1)) / n;
    d[2 * i + 1] = (p1 - (y[i] ? 1 : 0)) / n;
  }
  return { loss: loss / n, d };
}

/** Keras SGD(nesterov=True): v ← μv − lr·g; w ← w + μv − lr·g. */
class SGD {
  constructor(layers) { this.slots = layers.flatMap((l) => l.params()).map(([w, g]) => ({ w, g, v: new Float64Array(w.length) })); }
  step() {
    for (const { w, g, v } of this.slots) {
      for (let i = 0; i < w.length; i++) { v[i] = MOMENTUM * v[i] - LR * g[i]; w[i] += MOMENTUM * v[i] - LR * g[i]; }
    }
  }
}

function accuracy(layers, data) {
  setTraining(layers, false);
  const logits = forward(layers, data.x, data.n);
  setTraining(layers, true);
  let ok = 0;
  for (let i = 0; i < data.n; i++) ok += (logits[2 * i + 1] > logits[2 * i] ? 1 : 0) === data.y[i] ? 1 : 0;
  return ok / data.n;
}

function fit(layers, seed) {
  const opt = new SGD(layers), r = rng(seed), order = Uint32Array.from({ length: train.n }, (_, i) => i);
  const xb = new Float32Array(BATCH * FEATURES), yb = new Uint8Array(BATCH), history = [];
  for (let epoch = 1; epoch <= EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) { const j = Math.floor(r.u() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    let loss = 0, batches = 0;
    for (let s = 0; s + BATCH <= train.n; s += BATCH) {
      for (let i = 0; i < BATCH; i++) { const k = order[s + i]; xb.set(train.x.subarray(k * FEATURES, (k + 1) * FEATURES), i * FEATURES); yb[i] = train.y[k]; }
      const out = softmaxXent(forward(layers, xb, BATCH), yb, BATCH);
      let g = out.d;
      for (let l = layers.length - 1; l >= 0; l--) g = layers[l].backward(g);
      opt.step();
      loss += out.loss; batches++;
    }
    history.push({ loss: loss / batches, acc: accuracy(layers, val) });
  }
  return history;
}

// ---------------------------------------------------------------- run
await sn.init();
log("simdnorm MLP demo — 14 → Dense 64 → BatchNorm → tanh → Dropout 0.5 → Dense 64 → BatchNorm → tanh → Dropout 0.5 → Dense 2 → softmax");
log(`SGD lr ${LR}, momentum ${MOMENTUM} (Nesterov), batch ${BATCH}, ${EPOCHS} epochs; ${N_TRAIN} training / ${N_VAL} validation samples, seed ${SEED}`);
log(`feature scales ${Math.min(...SCALES)}…${Math.max(...SCALES)}, offsets ${Math.min(...OFFSETS)}…${Math.max(...OFFSETS)} (raw, not standardized)\n`);

// Third run: the same BN model on inputs standardized by simdnorm's streaming Standardizer
// (fitted chunk by chunk over the training set, as if it did not fit in memory).
const scaler = new sn.Standardizer(FEATURES);
for (let s = 0; s < train.n; s += 500) scaler.partialFit(train.x.subarray(s * FEATURES, Math.min(train.n, s + 500) * FEATURES));
const trainRaw = train.x, valRaw = val.x;
const runs = [["without batch norm", false, false], ["with batch norm", true, false], ["standardized + BN", true, true]].map(([name, bn, std]) => {
  train.x = std ? scaler.transform(trainRaw) : trainRaw; val.x = std ? scaler.transform(valRaw) : valRaw;
  const t0 = performance.now(), layers = model(bn, SEED + 1), hist = fit(layers, SEED + 2);
  return { name, layers, hist, ms: performance.now() - t0, trainX: train.x, valX: val.x };
});
train.x = trainRaw; val.x = valRaw;
const [plain, withBN] = runs.map((r) => r.layers);

const col = (t) => t.padEnd(24);
log("epoch │ " + runs.map((r) => col(r.name)).join("│ "));
log("      │ " + runs.map(() => col("train loss   val acc")).join("│ "));
for (let e = 0; e < EPOCHS; e++) {
  log(`${String(e + 1).padStart(5)} │ ` + runs.map((r) => col(`${r.hist[e].loss.toFixed(4).padStart(10)}   ${(100 * r.hist[e].acc).toFixed(1).padStart(5)} %`)).join("│ "));
}
log("time  │ " + runs.map((r) => col(`${(r.ms / 1000).toFixed(1)} s`)).join("│ "));
const last = (i) => `${(100 * runs[i].hist[EPOCHS - 1].acc).toFixed(1)} %`;
const sat0 = plain[0].forward(val.x, val.n).reduce((n, v) => n + (Math.abs(Math.tanh(v)) > 0.99 ? 1 : 0), 0) / (val.n * HIDDEN);
log(`Without BN the raw features (offsets up to 2000) drive the first layer's tanh into saturation (${(100 * sat0).toFixed(0)} % of its inputs`);
log(`on the validation set after training): no gradient flows and the model predicts one class (${last(0)}). BN after Dense 1`);
log(`re-centres and re-scales each unit, so training works (${last(1)}), but it normalizes the Dense outputs, not the inputs:`);
log(`the first layer still sees features at scale 0.01 next to features at scale 1000.`);
log(`Standardizing the inputs as well (sn.Standardizer, fitted in one streaming pass) gives ${last(2)}.\n`);
// ---------------------------------------------------------------- parameter counts
const bns = withBN.filter((l) => l instanceof BN).map((l) => l.bn);
log("Parameter counts of each BatchNorm layer (C = 64), as the frameworks report them:");
bns.forEach((bn, i) => {
  const p = sn.parameterCounts(bn);
  log(`  BN ${i + 1}  Keras:   ${p.keras.total} params (${p.keras.trainable} trainable gamma/beta, ${p.keras.nonTrainable} non-trainable moving_mean/moving_variance)`);
  log(`        PyTorch: ${p.pytorch.parameters} parameters (weight, bias) + ${p.pytorch.buffers} buffer values (running_mean ${bn.channels}, running_var ${bn.channels}, num_batches_tracked 1)`);
  log(`        Caffe:   ${p.caffe.batchNorm} BatchNorm blob values (mean·s, var·s, s) + ${p.caffe.scale} in the Scale layer`);
});
const denseCount = withBN.filter((l) => l instanceof Dense).reduce((a, l) => a + l.count, 0);
const bnTotal = bns.reduce((a, bn) => a + sn.parameterCounts(bn).keras.total, 0), bnFrozen = bns.reduce((a, bn) => a + sn.parameterCounts(bn).keras.nonTrainable, 0);
log(`  Whole model, Keras model.summary(): Total params ${denseCount + bnTotal}, Trainable ${denseCount + bnTotal - bnFrozen}, Non-trainable ${bnFrozen} (without BN: ${plain.filter((l) => l instanceof Dense).reduce((a, l) => a + l.count, 0)})\n`);

// ---------------------------------------------------------------- the classic bug
// A training loop that normalizes with batch statistics but never updates the moving averages
// (TF1 without UPDATE_OPS, a hand-written BN that forgets the update…): the trained weights are
// the same, but eval normalizes with the initial mean 0 / variance 1.
/** A copy of a BN wrapper through the PyTorch state_dict form (gamma, beta, running stats). */
const cloneBN = (l) => { const c = new BN(l.bn.channels); sn.importWeights(c.bn, "pytorch", sn.exportWeights(l.bn, "pytorch")); return c; };
const zeros = new Float32Array(HIDDEN), ones = new Float32Array(HIDDEN).fill(1);
const spread = (a) => { let m = 0, v = 0; for (let i = 0; i < a.length; i++) m += a[i] / a.length; for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2 / a.length; return `mean ${m.toFixed(2).padStart(7)}, std ${Math.sqrt(v).toFixed(2).padStart(6)}`; };
const saturated = (a) => `${(100 * a.reduce((n, v) => n + (Math.abs(Math.tanh(v)) > 0.99 ? 1 : 0), 0) / a.length).toFixed(0).padStart(3)} % of tanh inputs saturated`;

log("Eval with running statistics that were never updated (the classic bug), same trained weights:");
for (const r of runs.slice(1)) {
  const v = { x: r.valX, y: val.y, n: val.n };
  const stale = r.layers.map((l) => (l instanceof BN ? cloneBN(l) : l));
  stale.filter((l) => l instanceof BN).forEach((l) => l.bn.setStats(zeros, ones)); // as initialized
  // Precise population statistics over the training set (streamed in chunks of 500), replacing
  // the moving averages: a layer-by-layer pass in eval mode.
  const precise = r.layers.map((l) => (l instanceof BN ? cloneBN(l) : l));
  setTraining(precise, false);
  let h = r.trainX;
  for (const l of precise) {
    if (l instanceof BN) sn.preciseBatchNormStats(l.bn, Array.from({ length: train.n / 500 }, (_, k) => h.subarray(k * 500 * HIDDEN, (k + 1) * 500 * HIDDEN)));
    h = l instanceof Dense ? l.forward(h, train.n) : l.forward(h);
  }
  setTraining(precise, true);
  const acc = [accuracy(r.layers, v), accuracy(stale, v), accuracy(precise, v)];
  setTraining(r.layers, false); setTraining(stale, false);
  const h1 = r.layers[0].forward(v.x, v.n), good = r.layers[1].bn.forward(h1), bad = stale[1].bn.forward(h1);
  setTraining(r.layers, true);
  log(`  ${r.name}:`);
  log(`    running stats updated by training (always, in simdnorm): val acc ${(100 * acc[0]).toFixed(1).padStart(5)} %   BN 1 output ${spread(good)}, ${saturated(good)}`);
  log(`    running stats never updated (mean 0, var 1):              val acc ${(100 * acc[1]).toFixed(1).padStart(5)} %   BN 1 output ${spread(bad)}, ${saturated(bad)}`);
  log(`    precise population statistics (preciseBatchNormStats):    val acc ${(100 * acc[2]).toFixed(1).padStart(5)} %`);
}
log("  Training normalizes with batch statistics, so the training loss looks fine either way; eval uses the");
log("  running statistics, and with mean 0 / var 1 a BN layer passes its input through unnormalized. With raw");
log("  features that saturates every tanh; the test accuracy drops although nothing looked wrong in training.");
log("  simdnorm's BatchNorm updates the running statistics in the same call that normalizes a training batch.\n");
log(`total ${((performance.now() - t00) / 1000).toFixed(1)} s`);
