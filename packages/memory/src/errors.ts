import { ClipwiseConfigError } from '@clipwise/core';

/** Bad input to a memory measurement or model (a trace that does not fit, a batch size that is not positive, ...). */
export class ClipwiseMemoryError extends ClipwiseConfigError {}
