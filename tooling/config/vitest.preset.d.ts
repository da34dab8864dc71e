// Types of vitest.preset.js, for TypeScript files that import it (apps/web's page build in tests).
/** The workspace packages' entries (`@clipwise/<name>`, `@clipwise/<name>/node`) to their sources. */
export interface VitestPreset {
  resolve: { alias: Record<string, string> };
  test: Record<string, unknown>;
}
/** tfjs: false for packages that do not use TF.js. */
export function vitestPreset(options?: { timeoutMs?: number; tfjs?: boolean }): VitestPreset;
