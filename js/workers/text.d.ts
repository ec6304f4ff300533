// build.mjs bundles js/workers/worker.ts into build/simdnorm-worker.txt; esbuild's text loader
// embeds it as a string.
declare module "*.txt" {
  const text: string;
  export default text;
}
