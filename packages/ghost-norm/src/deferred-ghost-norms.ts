let enabled = true;

/**
 * Whether a private step holds the ghost-norm operands of records that wait for their group
 * (`NormKernel.deferredGhost`) and forms all of a group's partials at its close in a few launches
 * (`ghostSqNormPartialsMany`), rather than one launch per record on arrival. On by default: off is
 * the "before" of a before/after and the reference of tests. The norms are the same either way.
 *
 * @example
 * setDeferredGhostNorms(false); // one ghost-norm launch per linear layer, as each record arrives
 */
export function setDeferredGhostNorms(on: boolean): void {
  enabled = on;
}

export function deferredGhostNormsEnabled(): boolean {
  return enabled;
}
