import { ClipwiseAccountantError } from '../errors';

/**
 * The default Rényi orders α: 1.1, 1.2, …, 10.9 (step 0.1), every integer 11 … 64, then 128, 256
 * and 512. This contains the grids of Opacus and TF Privacy (1.1…10.9 and 12…63) so it is never
 * looser than they are; the large orders help when ε is small. Fractional orders are written
 * (10 + k) / 10 so that 1.3 is the double nearest 1.3, exactly as in a JSON ledger.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => (11 + k) / 10),
  ...Array.from({ length: 54 }, (_, k) => 11 + k),
  128,
  256,
  512,
]);

/** Checks a list of orders: finite numbers > 1, at least one. Returns a frozen copy. */
export function checkOrders(orders: readonly number[], argument = 'orders'): readonly number[] {
  if (!Array.isArray(orders) || orders.length === 0) {
    throw new ClipwiseAccountantError(
      `${argument} must be a non-empty array of Rényi orders > 1, got ${JSON.stringify(orders)}; omit it to use DEFAULT_RDP_ORDERS.`,
      { argument },
    );
  }
  for (const a of orders) {
    if (typeof a !== 'number' || !(a > 1) || !Number.isFinite(a)) {
      throw new ClipwiseAccountantError(
        `${argument} must contain only finite numbers > 1 (Rényi orders), got ${String(a)}; remove it or use DEFAULT_RDP_ORDERS.`,
        { argument },
      );
    }
  }
  return Object.freeze([...orders]);
}
