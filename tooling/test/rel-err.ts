/** ‖got − want‖ / ‖want‖ over all entries: the kernel and fixture tests' error measure (a test helper shared by the packages). */
export function relErr(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < want.length; k++) {
    num += (got[k]! - want[k]!) ** 2;
    den += want[k]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
