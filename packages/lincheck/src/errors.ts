/** Stable error codes. Match on `err.code`, never on the message. */
export const LincheckErrorCode = {
  /** The history is malformed: bad times, duplicate ids, an `ok` op without output. */
  InvalidHistory: 'LINCHECK_INVALID_HISTORY',
  /** An operation's input or output does not fit the model (e.g. a `get` without a value). */
  InvalidOperation: 'LINCHECK_INVALID_OPERATION',
  /** A recorder handle was completed twice. */
  AlreadyCompleted: 'LINCHECK_ALREADY_COMPLETED',
  /** An internal invariant was broken: a bug in lincheck. */
  InvariantViolated: 'LINCHECK_INVARIANT_VIOLATED',
} as const;
export type LincheckErrorCode = (typeof LincheckErrorCode)[keyof typeof LincheckErrorCode];

/** The only error lincheck throws. A non-linearizable history is a result, not an error. */
export class LincheckError extends Error {
  readonly code: LincheckErrorCode;
  constructor(code: LincheckErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'LincheckError';
  }
}

export function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new LincheckError(LincheckErrorCode.InvariantViolated, message);
}
