// Turns a token's error into an outcome. The rule is deliberately simple and stated in the report:
// a mechanism the token does not advertise, or a code that means "not offered", is `unsupported`;
// anything else an advertised mechanism returns is a `fail`.
import { formatCkr, type Pkcs11CallError } from "../pkcs11/errors.js";
import type { Outcome } from "../report/model.js";

/** Codes that say "this token does not offer that", not "this token got it wrong". */
export const UNSUPPORTED_CODES = new Set([
  "CKR_MECHANISM_INVALID",
  "CKR_MECHANISM_PARAM_INVALID",
  "CKR_KEY_SIZE_RANGE",
  "CKR_CURVE_NOT_SUPPORTED",
  "CKR_FUNCTION_NOT_SUPPORTED",
  "CKR_DOMAIN_PARAMS_INVALID",
]);

/** The calls that receive the mechanism and its parameters. */
const TAKES_MECHANISM = /^C_(\w+Init|WrapKey|UnwrapKey|DeriveKey|GenerateKey|GenerateKeyPair)$/;

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
  const m = ctx.mechanism;
  if (m && !m.advertised) {
    return { outcome: "unsupported", message: `${m.name} is not in the token's mechanism list; ${err.fn} returned ${rv}` };
  }
  if (UNSUPPORTED_CODES.has(err.ckr.name)) {
    return { outcome: "unsupported", message: `${err.fn} returned ${rv}${m ? ` for ${m.name}` : ""}` };
  }
  if (m?.explicitParams && err.ckr.name === "CKR_ARGUMENTS_BAD" && TAKES_MECHANISM.test(err.fn)) {
    return {
      outcome: "unsupported",
      message: `${err.fn} rejected ${m.name} with ${m.explicitParams}: ${rv} (PKCS#11 prescribes CKR_MECHANISM_PARAM_INVALID)`,
    };
  }
  return { outcome: "fail", message: `${err.fn} returned ${rv}${m ? ` for ${m.name}` : ""}` };
}
