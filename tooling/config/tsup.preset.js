// Every package builds the same way: ESM + CJS + .d.ts from src/index.ts (plus any bin entries).
export function packageBuild(extra = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    ...extra,
  };
}
