let enabled = true;

/**
 * Whether a record that waits for its group is replaced by its kernel's smaller form
 * (`NormKernel.compact`, e.g. a layer norm's per-sample gradients). On by default: off is the
 * "before" of a before/after (`clipwise bench --compact-records off`). The private step and the
 * memory model both read it.
 *
 * @example
 * setRecordCompaction(false); // hold every record as (a, dy) until its group closes
 */
export function setRecordCompaction(on: boolean): void {
  enabled = on;
}

export function recordCompactionEnabled(): boolean {
  return enabled;
}
