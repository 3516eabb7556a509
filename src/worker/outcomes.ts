// Why a step did not succeed, other than a token error: each maps to one named outcome.
import type { Outcome } from "../contract/report.js";
import type { Ckr } from "../pkcs11/errors.js";

/** The token answered CKR_OK but node:crypto disagrees with its output. */
export class VerificationFailure extends Error {
  constructor(
    readonly fn: string,
    message: string,
    readonly attribute?: string,
  ) {
    super(message);
    this.name = "VerificationFailure";
  }
}

/** A step needs something an earlier case could not provide (a key that failed to generate). */
export class DependencyFailure extends Error {
  constructor(
    readonly outcome: Outcome,
    message: string,
    readonly fn?: string,
    readonly ckr?: Ckr,
  ) {
    super(message);
    this.name = "DependencyFailure";
  }
}

/** The case cannot be carried out honestly here (e.g. nothing independent can check the output). */
export class CannotCheck extends Error {
  constructor(
    message: string,
    readonly fn?: string,
  ) {
    super(message);
    this.name = "CannotCheck";
  }
}

/** The token answered another code than the PKCS #11 specification requires for this call. */
export class Nonconformant extends Error {
  constructor(
    readonly fn: string,
    message: string,
    readonly ckr: Ckr,
  ) {
    super(message);
    this.name = "Nonconformant";
  }
}
