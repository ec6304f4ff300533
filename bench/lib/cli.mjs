// One argument parser for the bench entry scripts: `--name value` pairs and `--flag`s, the rest
// positional. Defaults decide the type: a string default takes a value, a boolean a flag.
export function parseArgs(argv, defaults = {}) {
  const opts = { ...defaults }, rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) { rest.push(a); continue; }
    const key = a.slice(2);
    if (!(key in defaults)) throw new Error(`unknown option ${a}: one of ${Object.keys(defaults).map((k) => `--${k}`).join(", ")}`);
    if (typeof defaults[key] === "boolean") opts[key] = true;
    else if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
    else opts[key] = argv[++i];
  }
  return { opts, rest };
}

export { median, quantile, lowerQuartile } from "./timing.mjs";
