import { envSwitch } from '../../env-switch';

// off until a GPU A/B decides (`clipwise bench --ab late-staging`): written in a session without the GPU
const late = envSwitch('CLIPWISE_MATMUL_LATE_STAGING', false);

/**
 * Whether the tiled matmul applies its staged operands' bounds, row or column of ones and K scale (the
 * private step's clip factors) as it stores each slice to workgroup memory, after the previous slice's
 * multiply, instead of right after the slice's global loads. Early (the default), the first use of a
 * loaded register makes each thread wait for its loads before it multiplies, which the double buffering
 * means to hide; late, only the store waits. The products are the same, bit for bit (the same operations
 * on the same values). `setLateStaging(true)` or CLIPWISE_MATMUL_LATE_STAGING=on (read once); null:
 * back to the default.
 *
 * @example
 * setLateStaging(true); // the next products plan pipelines with the late transform
 */
export function setLateStaging(on: boolean | null): void {
  late.set(on);
}

/** Whether the matmul stages its operands' transform late (`setLateStaging`). */
export function lateStagingEnabled(): boolean {
  return late.enabled();
}
