// The peer systems by name, loaded lazily (each pulls in a large framework): shared by the
// verify script and the benchmark runner.
export const PEERS = {
  js: async () => (await import('./js.mjs')).createJs(),
  'tfjs-wasm': async () => (await import('./tfjs.mjs')).createTfjs('wasm'),
  'tfjs-cpu': async () => (await import('./tfjs.mjs')).createTfjs('cpu'),
  'ort-web': async () => (await import('./ort.mjs')).createOrt('web'),
  'ort-node': async () => (await import('./ort.mjs')).createOrt('node'),
};
