// One error type for a failed PKCS#11 call: it always carries the function and the CK_RV.
import pkcs11js from "pkcs11js";
import { nameOf } from "./constants.js";

export interface Ckr {
  name: string;
  code: number;
}

function ckr(code: number): Ckr {
  return { name: nameOf("CKR", code), code };
}

export function formatCkr(rv: Ckr): string {
  return `${rv.name} (0x${rv.code.toString(16).padStart(rv.code > 0xffff ? 8 : 2, "0")})`;
}

/** The templates a failed call took, and a way to call it again with others (for diagnosis). */
export interface TemplateCall {
  fn: string;
  templates: { name: "template" | "public" | "private"; attrs: { type: number; value: boolean | number | Buffer }[] }[];
  /** Calls `fn` again with these templates (same session, mechanism and objects); returns what it created. */
  replay: (templates: { type: number; value: boolean | number | Buffer }[][]) => Buffer[];
  /** Destroys an object a successful replay created. */
  destroy: (handle: Buffer) => void;
  /**
   * Attribute types diagnosis must leave as they are (never remove, change or add): on a token that
   * picks a key slot by CKA_ID, another CKA_ID would write another slot.
   */
  fixed?: number[];
}

export class Pkcs11CallError extends Error {
  readonly fn: string;
  readonly ckr: Ckr;
  /** The attribute or parameter the harness knows the call was about, when there is one. */
  readonly detail?: string;
  /** Set on calls that take templates. */
  templateCall?: TemplateCall;

  constructor(fn: string, code: number, detail?: string) {
    const rv = ckr(code);
    super(`${fn} returned ${formatCkr(rv)}${detail ? ` (${detail})` : ""}`);
    this.name = "Pkcs11CallError";
    this.fn = fn;
    this.ckr = rv;
    this.detail = detail;
  }

  is(...names: string[]): boolean {
    return names.includes(this.ckr.name);
  }
}

/**
 * pkcs11js throws Pkcs11Error with the numeric CK_RV, except for the calls it wraps in JavaScript
 * (C_SetAttributeValue, C_CreateObject, C_CopyObject), which throw a plain Error "CKR_NAME:number".
 * Anything else is not a token answer.
 */
export function toCallError(fn: string, err: unknown): unknown {
  if (err instanceof pkcs11js.Pkcs11Error && typeof err.code === "number") return new Pkcs11CallError(fn, err.code);
  const m = err instanceof Error ? /^(CKR_[A-Z0-9_]+):(\d+)$/.exec(err.message) : null;
  if (m) return new Pkcs11CallError(fn, Number(m[2]));
  return err;
}
