/**
 * Restoring any registered accountant from its ledger, for resuming a checkpointed run.
 *
 * @example
 * ```ts
 * const saved = JSON.stringify(accountant);          // at checkpoint time
 * const resumed = accountantFromLedger(saved);        // after a restart: same class, same history
 * resumed.step(1.1, 0.004, 500);
 * ```
 */
import type { PrivacyAccountant } from './accountants/accountant';
import { getAccountantFactory } from './accountants/registry';
import { parseLedger } from './ledger-format';

/** An accountant of the kind named in the ledger (object or JSON text), with its history. */
export function accountantFromLedger(ledger: unknown): PrivacyAccountant {
  const parsed = parseLedger(ledger);
  return getAccountantFactory(parsed.accountant).fromJSON(parsed);
}

/** The ledger of an accountant as pretty JSON text, ready to write next to a checkpoint. */
export function serializeLedger(accountant: PrivacyAccountant): string {
  return `${JSON.stringify(accountant.toJSON(), null, 2)}\n`;
}
