import { ClipwiseConfigError } from '@clipwise/core';

/** A bad optimizer or privacy setting; the message names the value, the valid range and the fix. */
export class ClipwiseOptimError extends ClipwiseConfigError {}
