/** Base class of every error Clipwise throws on purpose: catch this to tell ours from bugs. */
export class ClipwiseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A configuration or input the user gave is invalid; the message names it and the fix. */
export class ClipwiseConfigError extends ClipwiseError {}

/**
 * Training would break the privacy guarantee (a trainable variable outside any DP-aware layer, a
 * layer that is missing its per-sample record, ...). Never caught and ignored.
 */
export class ClipwisePrivacyError extends ClipwiseError {}
