/**
 * Reading a ledger (the JSON form of an accountant, see `AccountantLedger`) with errors that say
 * what is wrong and how to fix it. Version 1 is the only version so far; a later build that changes
 * the format bumps `version` and keeps reading 1.
 */
import type { AccountantLedger } from './accountants/accountant';
import { checkSampling } from './accountants/accountant';
import { ClipwiseAccountantError } from './errors';
import { parseHistory } from './history';

export const LEDGER_VERSION = 1;

/** Parses (if a string) and validates a ledger; returns a normalised copy. */
export function parseLedger(input: unknown): AccountantLedger {
  let data: unknown = input;
  if (typeof input === 'string') {
    try {
      data = JSON.parse(input);
    } catch (e) {
      throw new ClipwiseAccountantError(
        `ledger is not valid JSON (${(e as Error).message}); pass the exact text written by JSON.stringify(accountant).`,
        { argument: 'ledger', cause: e },
      );
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ClipwiseAccountantError(
      `ledger must be a JSON object like {"version":1,"accountant":"rdp","sampling":"poisson","history":[]}, got ${JSON.stringify(data)}.`,
      { argument: 'ledger' },
    );
  }
  const obj = data as Record<string, unknown>;
  if (obj.version !== LEDGER_VERSION) {
    throw new ClipwiseAccountantError(
      `ledger version must be ${LEDGER_VERSION}, got ${JSON.stringify(obj.version)}; this build of @clipwise/accountant reads ` +
        `version ${LEDGER_VERSION} only — upgrade the package to read newer ledgers.`,
      { argument: 'ledger.version' },
    );
  }
  if (typeof obj.accountant !== 'string' || obj.accountant === '') {
    throw new ClipwiseAccountantError(
      `ledger.accountant must be the accountant's name ('rdp', 'prv', 'gdp', ...), got ${JSON.stringify(obj.accountant)}.`,
      { argument: 'ledger.accountant' },
    );
  }
  const sampling = checkSampling(obj.sampling ?? 'poisson', 'ledger.sampling');
  const history = parseHistory(obj.history, 'ledger.history');
  const ledger: AccountantLedger = { version: 1, accountant: obj.accountant, sampling, history };
  if (obj.options !== undefined) {
    if (typeof obj.options !== 'object' || obj.options === null || Array.isArray(obj.options)) {
      throw new ClipwiseAccountantError(`ledger.options must be an object, got ${JSON.stringify(obj.options)}; remove it to use defaults.`, {
        argument: 'ledger.options',
      });
    }
    ledger.options = { ...(obj.options as Record<string, unknown>) };
  }
  return ledger;
}

/** parseLedger, then checks the ledger was written by the expected accountant. */
export function parseLedgerFor(input: unknown, accountant: string): AccountantLedger {
  const ledger = parseLedger(input);
  if (ledger.accountant !== accountant) {
    throw new ClipwiseAccountantError(
      `ledger was written by the '${ledger.accountant}' accountant, not '${accountant}'; restore it with ` +
        "accountantFromLedger(ledger) or the matching class's fromJSON.",
      { argument: 'ledger.accountant' },
    );
  }
  return ledger;
}
