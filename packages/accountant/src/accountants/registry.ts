/**
 * The accountant registry (like Opacus' `accountants/registry.py`): names to factories. The
 * built-ins register themselves below exactly as a contributor's accountant would:
 *
 * @example
 * ```ts
 * registerAccountant({
 *   name: 'my-accountant',
 *   create: (options) => new MyAccountant(options),
 *   fromJSON: (ledger) => MyAccountant.fromJSON(ledger),
 * });
 * const acc = createAccountant('my-accountant');
 * ```
 */
import { ClipwiseAccountantError } from '../errors';
import type { AccountantLedger, AccountantOptions, PrivacyAccountant } from './accountant';
import { GdpAccountant } from './gdp-accountant';
import { PrvAccountant, type PrvAccountantOptions } from './prv-accountant';
import { RdpAccountant, type RdpAccountantOptions } from './rdp-accountant';

export interface AccountantFactory {
  /** Registry name, also written into ledgers. */
  name: string;
  /** One-line description for `--help` and error messages. */
  description?: string;
  /** True when ε is an approximation, not a guarantee (calibration refuses such accountants). */
  approximate?: boolean;
  create(options?: AccountantOptions & Record<string, unknown>): PrivacyAccountant;
  fromJSON(ledger: AccountantLedger): PrivacyAccountant;
}

const factories = new Map<string, AccountantFactory>();

/** Adds (or replaces) an accountant under `factory.name`. */
export function registerAccountant(factory: AccountantFactory): void {
  if (typeof factory?.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(factory.name)) {
    throw new ClipwiseAccountantError(
      `an accountant name must be lower-case letters, digits and dashes, got ${JSON.stringify(factory?.name)}; e.g. 'my-accountant'.`,
      { argument: 'name' },
    );
  }
  factories.set(factory.name, factory);
}

/** Names of all registered accountants. */
export function listAccountants(): string[] {
  return [...factories.keys()];
}

/** The factory registered under `name`; throws naming the valid choices otherwise. */
export function getAccountantFactory(name: string): AccountantFactory {
  const factory = factories.get(name);
  if (factory === undefined) {
    throw new ClipwiseAccountantError(
      `unknown accountant ${JSON.stringify(name)}; valid accountants are ${listAccountants()
        .map((n) => `'${n}'`)
        .join(', ')} (or register your own with registerAccountant).`,
      { argument: 'accountant' },
    );
  }
  return factory;
}

/**
 * A fresh accountant by name.
 *
 * @example
 * ```ts
 * const acc = createAccountant('prv', { epsError: 0.02 }).step(1.0, 0.01, 1000);
 * ```
 */
export function createAccountant(name: 'rdp', options?: RdpAccountantOptions): RdpAccountant;
export function createAccountant(name: 'prv', options?: PrvAccountantOptions): PrvAccountant;
export function createAccountant(name: 'gdp', options?: AccountantOptions): GdpAccountant;
export function createAccountant(name: string, options?: AccountantOptions & Record<string, unknown>): PrivacyAccountant;
export function createAccountant(name: string, options?: object): PrivacyAccountant {
  return getAccountantFactory(name).create(options as AccountantOptions & Record<string, unknown>);
}

registerAccountant({
  name: 'rdp',
  description: 'Rényi DP of the subsampled Gaussian (Mironov et al. 2019), Balle et al. 2020 conversion: an upper bound',
  create: (options) => new RdpAccountant(options as RdpAccountantOptions),
  fromJSON: (ledger) => RdpAccountant.fromJSON(ledger),
});
registerAccountant({
  name: 'prv',
  description: 'privacy random variables composed by FFT (Gopi et al. 2021): near-exact, with error bounds',
  create: (options) => new PrvAccountant(options as PrvAccountantOptions),
  fromJSON: (ledger) => PrvAccountant.fromJSON(ledger),
});
registerAccountant({
  name: 'gdp',
  description: 'Gaussian DP via the central limit theorem (Dong, Roth & Su): an approximation',
  approximate: true,
  create: (options) => new GdpAccountant(options),
  fromJSON: (ledger) => GdpAccountant.fromJSON(ledger),
});
