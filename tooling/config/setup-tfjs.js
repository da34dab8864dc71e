// Test set-up: the backend from CLIPWISE_BACKEND (default cpu), started by core's own setupBackend
// (gradients registered, webgpu through Dawn with CLIPWISE_DAWN_FLAGS), so tests start backends the
// way users do. Workspace packages resolve to their sources (vitest alias), so this needs no build.
import { setupBackend } from '@clipwise/core';

await setupBackend(process.env.CLIPWISE_BACKEND ?? 'cpu');
