// Option names: an options object may hold only the names its call reads. A misspelt name or
// another framework's (Keras' `epsilon`, PyTorch's `weight`) would otherwise be ignored and the
// call would run with a default its caller did not mean, so it is refused, naming the one meant.

/**
 * Whether `src` has a name (an enumerable string key, own or inherited: what a read of it would
 * see) that `read` lacks, with a value other than undefined (absent, as everywhere:
 * `{ ...o, groups: undefined }` passes). `read` is the call's copy of its options, every name it
 * reads a key of it. The per-call check: no allocation, no getter of src run again.
 *
 * First by count: when src has as many names as read has values, every name of src is one read
 * has (read's values came from src's names). This alone misses an unknown name only when a
 * known one reached read from a property for-in does not see (a class's getter on its
 * prototype), which then balances the count. Otherwise each name is looked up (~15 ns a name).
 * @internal
 */
export function hasUnknown(src: object, read: object): boolean {
  let names = 0, values = 0;
  for (const k in src) names++;
  for (const k in read) if ((read as Record<string, unknown>)[k] !== undefined) values++;
  if (names === values) return false;
  for (const k in src) if (!(k in read) && (src as Record<string, unknown>)[k] !== undefined) return true;
  return false;
}

/**
 * Throws on the first name hasUnknown finds that `accepted` does not list either (names taken
 * and not read: a backward accepts its forward's options, so one object can serve both).
 * @internal
 */
export function onlyKnown(src: object, read: object, what = "options", accepted: readonly string[] = []): void {
  if (!hasUnknown(src, read)) return;
  for (const k in src) {
    if (!(k in read) && (src as Record<string, unknown>)[k] !== undefined && !accepted.includes(k)) throw unknownOption(k, Object.keys(read), what, accepted);
  }
}

/** The names other frameworks (or habits) give an option, by their canonical form (see canon). */
const ALIASES: Record<string, string> = {
  epsilon: "eps", varianceepsilon: "eps", weight: "gamma", scale: "gamma", bias: "beta", offset: "beta",
  movingmean: "runningMean", movingvariance: "runningVar", movingvar: "runningVar", runningvariance: "runningVar",
  mean: "runningMean", var: "runningVar", variance: "runningVar", dataformat: "layout", numgroups: "groups",
  savedmean: "saveMean", savedinvstd: "saveInvstd", invstd: "saveInvstd", rstd: "invstd",
};

/** Lower case, without `_`, `-` and spaces: running_mean, RunningMean and running-mean meet. */
const canon = (s: string): string => s.toLowerCase().replace(/[_\-\s]/g, "");

/** Edit distance of a and b (insertions, deletions, substitutions; short option names only). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The known name k most likely means: the same name but for case and `_`, an alias, or a near spelling. */
export function suggestion(k: string, known: readonly string[]): string | undefined {
  const c = canon(k);
  const same = known.find((n) => canon(n) === c);
  if (same !== undefined) return same;
  const alias = ALIASES[c];
  if (alias !== undefined && Object.prototype.hasOwnProperty.call(ALIASES, c) && known.includes(alias)) return alias;
  let best: string | undefined, bestD = c.length < 5 ? 1 : 2;
  for (const n of known) {
    const d = distance(c, canon(n));
    if (d <= bestD && (best === undefined || d < bestD)) { best = n; bestD = d; }
  }
  return best;
}

function unknownOption(k: string, known: readonly string[], what: string, accepted: readonly string[]): Error {
  const s = suggestion(k, [...known, ...accepted]);
  const hint = s === undefined ? "" : ` (did you mean "${s}"?)`;
  const also = accepted.length > 0 ? " (and, unread, the forward's)" : "";
  return new Error(`unknown option "${k}"${hint}: the ${what} read here are ${known.join(", ")}${also}; a name not among them would be ignored, so it is refused`);
}
