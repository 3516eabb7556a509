// Turns a token's error into an outcome. The rule is deliberately simple and stated in the report:
// a mechanism the token does not advertise, or a code that means "not offered", is `unsupported`;
// anything else an advertised mechanism returns is a `fail`.
import { formatCkr, type Pkcs11CallError } from "../pkcs11/errors.js";
import type { Outcome } from "../contract/report.js";

/** Codes that say "this token does not offer that", not "this token got it wrong". */
const UNSUPPORTED_CODES = new Set([
  "CKR_MECHANISM_INVALID",
  "CKR_MECHANISM_PARAM_INVALID",
  "CKR_KEY_SIZE_RANGE",
  "CKR_CURVE_NOT_SUPPORTED",
  "CKR_FUNCTION_NOT_SUPPORTED",
  "CKR_DOMAIN_PARAMS_INVALID",
]);

/** The calls that receive the mechanism, and those that receive its parameters. */
const TAKES_MECHANISM = /^C_(\w+Init|WrapKey|UnwrapKey|DeriveKey|GenerateKey|GenerateKeyPair)$/;
const PARAMETER_CALLS = /^C_(\w+Init|WrapKey|UnwrapKey|DeriveKey)$/;

/** Codes about the session, login or handles: never explained by a missing mechanism. */
const NOT_ABOUT_MECHANISMS = new Set([
  "CKR_SESSION_HANDLE_INVALID",
  "CKR_SESSION_CLOSED",
  "CKR_USER_NOT_LOGGED_IN",
  "CKR_OBJECT_HANDLE_INVALID",
  "CKR_KEY_HANDLE_INVALID",
  "CKR_OPERATION_ACTIVE",
  "CKR_CRYPTOKI_NOT_INITIALIZED",
  "CKR_DEVICE_REMOVED",
  "CKR_TOKEN_NOT_PRESENT",
]);

export interface MechanismInPlay {
  name: string;
  advertised: boolean;
  /** The parameters the suite set, as text ("hash=CKM_SHA256, mgf=CKG_MGF1_SHA256"), if any. */
  explicitParams?: string;
}

export function classifyTokenError(
  err: Pkcs11CallError,
  ctx: { mechanism?: MechanismInPlay; step: string },
): { outcome: Outcome; message: string } {
  const rv = formatCkr(err.ckr);
  // What a mechanism's absence explains is only the answer of the call that was given the mechanism.
  const m = ctx.mechanism && TAKES_MECHANISM.test(err.fn) ? ctx.mechanism : undefined;
  const about = ctx.mechanism ? ` for ${ctx.mechanism.name}` : "";
  if (m && !m.advertised && !NOT_ABOUT_MECHANISMS.has(err.ckr.name)) {
    return {
      outcome: "unsupported",
      message: `${m.name} is not in the token's mechanism list; ${err.fn} returned ${rv}`,
    };
  }
  if (UNSUPPORTED_CODES.has(err.ckr.name)) {
    return { outcome: "unsupported", message: `${err.fn} returned ${rv}${about}` };
  }
  if (m?.explicitParams && err.ckr.name === "CKR_ARGUMENTS_BAD" && PARAMETER_CALLS.test(err.fn)) {
    return {
      outcome: "unsupported",
      message: `${err.fn} rejected ${m.name} with ${m.explicitParams}: ${rv} (PKCS#11 prescribes CKR_MECHANISM_PARAM_INVALID)`,
    };
  }
  return { outcome: "fail", message: `${err.fn} returned ${rv}${about}` };
}
