// Builds bench/ceiling/ceiling.wasm with the same code generation settings as the package's
// kernels: SIMD on, -O3, stub runtime (no GC: the module only sees raw pointers), no asserts.
//   node bench/ceiling/build.mjs
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const WASM_PATH = join(here, 'ceiling.wasm');
/** The same kernels importing their memory (env.memory), to run on another module's bytes. */
export const WASM_IMPORT_PATH = join(here, 'ceiling-import.wasm');

/** Compiles ceiling.ts → ceiling.wasm (or, importMemory, ceiling-import.wasm). */
export async function buildCeiling({ importMemory = false } = {}) {
  const asc = (await import('assemblyscript/asc')).default;
  let errText = '';
  const { error } = await asc.main([
    join(here, 'ceiling.ts'),
    // Our own config, so asc does not pick up the package's ./asconfig.json (and its entries)
    // from the working directory.
    '--config', join(here, 'asconfig.json'),
    '--outFile', importMemory ? WASM_IMPORT_PATH : WASM_PATH,
    ...(importMemory ? ['--importMemory'] : []),
    '--enable', 'simd',
    '-O3',
    '--runtime', 'stub',
    '--noAssert',
  ], { stderr: { write: (s) => { errText += s; } }, stdout: process.stdout });
  if (error) throw new Error(`asc failed to build the ceiling module: ${error.message}\n${errText}`);
  return importMemory ? WASM_IMPORT_PATH : WASM_PATH;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`built ${await buildCeiling()}`);
}
