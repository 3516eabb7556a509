// Reads OpenSC's pkcs11-spy log as it streams in and keeps the calls, never a secret: PINs, secret
// key values and the data a client signs or encrypts are reduced to their lengths line by line, so the
// raw log exists only in this parser's buffer of one call and never reaches a file.
import { codeOf, nameOf } from "../pkcs11/constants.js";
import { decodeAttribute, isSensitiveAttribute } from "../pkcs11/attributes.js";

/** One attribute of a template as the client passed it (or as the token answered it). */
export interface RecordedAttr {
  /** CKA_ name (or 0x... for an unknown code). */
  type: string;
  /** The value as a template value (src/template/encode.ts reads it back); absent when redacted or a length query. */
  value?: string | number | boolean | string[];
  /** Byte length the client gave (0 with no buffer: a length query). */
  length?: number;
  /** The value was a secret (key material): only its length is kept. */
  redacted?: boolean;
}

export interface RecordedCall {
  /** Which client process (in order of first appearance) made the call. */
  process: number;
  /** The spy's call counter within that process. */
  index: number;
  fn: string;
  /** CKR_ name and number the module returned. */
  rv?: { name: string; code: number };
  /** Scalar arguments in and out (hSession, slotID, userType, hKey, hObject, ulMaxObjectCount, ...). */
  args: Record<string, string>;
  mechanism?: { type: string; parameter?: string; params?: Record<string, string> };
  /** Templates by argument name (pTemplate, pPublicKeyTemplate, pPrivateKeyTemplate); `out:` prefix for answers. */
  templates: Record<string, RecordedAttr[]>;
  /** Byte lengths of buffers (pData, pSignature, pPin, ...): the bytes themselves are never kept. */
  lengths: Record<string, number>;
  /** Object handles C_FindObjects returned. */
  found: string[];
}

const CALL_START = /^(\d+): (C_\w+)\s*$/;
const HEADER = /^\*+ OpenSC PKCS#11 spy \*+$/;
const BUFFER = /^([0-9a-f]{8,16}|\(nil\)) \/ (-?\d+)$/i;
const HEXDUMP = /^ {4}[0-9A-F]{8} {2}((?:[0-9A-F]{2} ){1,16})/;

/** Splits the stream into calls; `push` any chunks, then `end`. Holds at most one call's lines. */
export class SpyParser {
  readonly calls: RecordedCall[] = [];
  private rest = "";
  private block: string[] = [];
  private process = 0;

  push(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  end(): RecordedCall[] {
    if (this.rest) this.line(this.rest);
    this.rest = "";
    this.flush();
    return this.calls;
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, "");
    if (HEADER.test(line.trim())) {
      this.flush();
      this.process++;
      return;
    }
    if (CALL_START.test(line)) this.flush();
    if (this.block.length > 0 || CALL_START.test(line)) this.block.push(line);
    // Secrets are dropped as they arrive: a dump line under a PIN argument is replaced by nothing.
    if (this.block.length > 1 && HEXDUMP.test(line) && this.secretOpen()) this.block.pop();
  }

  /** Whether the argument or attribute the current dump lines belong to is a secret. */
  private secretOpen(): boolean {
    for (let i = this.block.length - 2; i > 0; i--) {
      const l = this.block[i]!;
      if (HEXDUMP.test(l)) continue;
      return isSecretHeader(l, this.block);
    }
    return false;
  }

  private flush(): void {
    if (this.block.length === 0) return;
    const call = parseBlock(this.block, Math.max(this.process, 1));
    this.block = [];
    if (call) this.calls.push(call);
  }
}

/** A line that opens a buffer whose bytes must not be kept. */
function isSecretHeader(line: string, block: string[]): boolean {
  const arg = /^\[(?:in|out)\] (\w+)(?:\[[^\]]*\])? /.exec(line);
  if (arg) return SECRET_ARGS.test(arg[1]!) || DATA_ARGS.test(arg[1]!);
  const attr = /^ {4}(CKA_\w+)\s/.exec(line);
  if (attr) {
    const type = codeOf("CKA", attr[1]!);
    return type !== undefined && isSensitiveAttribute(type, classOf(block));
  }
  return false;
}

// PINs, and the data, signatures, ciphertexts and wrapped keys that pass through the calls: their
// lengths matter for a replay, their bytes are the client's business.
const SECRET_ARGS = /pin/i;
const DATA_ARGS =
  /^p(Data|Part|Signature|EncryptedData|EncryptedPart|LastPart|LastEncryptedPart|Digest|WrappedKey|Random|Seed)$/;

function classOf(block: string[]): number | undefined {
  for (const l of block) {
    const m = /^ {4}CKA_CLASS\s+(CKO_\w+)/.exec(l);
    if (m) return codeOf("CKO", m[1]!);
  }
  return undefined;
}

function parseBlock(lines: string[], process: number): RecordedCall | undefined {
  const start = CALL_START.exec(lines[0]!);
  if (!start) return undefined;
  const call: RecordedCall = {
    process,
    index: Number(start[1]),
    fn: start[2]!,
    args: {},
    templates: {},
    lengths: {},
    found: [],
  };
  let template: RecordedAttr[] | undefined;
  let attrClass: number | undefined;
  let pending: { attr?: RecordedAttr; arg?: string; length: number; hex: string; print?: boolean } | undefined;
  const settle = () => {
    if (!pending) return;
    const bytes = Buffer.from(pending.hex, "hex");
    if (pending.attr && pending.attr.value === undefined && !pending.attr.redacted && bytes.length === pending.length) {
      const type = codeOf("CKA", pending.attr.type);
      if (type !== undefined && pending.length > 0) pending.attr.value = decodeAttribute(type, bytes).value;
    }
    if (pending.arg === "pParameter" && call.mechanism && bytes.length === pending.length && pending.length > 0) {
      call.mechanism.parameter = bytes.toString("hex");
    }
    pending = undefined;
  };
  for (const line of lines.slice(2)) {
    const dump = HEXDUMP.exec(line);
    if (dump && pending) {
      pending.hex += dump[1]!.replace(/ /g, "");
      continue;
    }
    // print_print's form (labels): hex groups on one line, the characters on the next.
    if (pending?.print && /^ {4}[0-9A-F ]+$/.test(line) && pending.hex.length < pending.length * 2) {
      pending.hex += line.replace(/ /g, "");
      continue;
    }
    if (pending?.print && /^ {4}( .)+$/.test(line)) continue;
    settle();
    const ret = /^Returned:\s+(\d+)\s+(\S+)/.exec(line);
    if (ret) {
      const rvCode = Number(ret[1]);
      call.rv = { code: rvCode, name: ret[2]!.startsWith("CKR_") ? ret[2]! : nameOf("CKR", rvCode) };
      template = undefined;
      continue;
    }
    const obj = /^Object (0x[0-9a-f]+) matches/i.exec(line);
    if (obj) {
      call.found.push(obj[1]!);
      continue;
    }
    const tpl = /^\[(in|out)\] (\w+)\[(\d+)\]:\s*$/.exec(line);
    if (tpl) {
      const key = tpl[1] === "out" ? `out:${tpl[2]}` : tpl[2]!;
      template = [];
      call.templates[key] = template;
      attrClass = undefined;
      continue;
    }
    const mech = /^\[in\] pMechanism->(type|pParameter->(\w+)) = (.*?)\s*$/.exec(line);
    if (mech) {
      if (mech[1] === "type") call.mechanism = { type: mechName(mech[3]!) };
      else if (call.mechanism) (call.mechanism.params ??= {})[mech[2]!] = mech[3]!;
      template = undefined;
      continue;
    }
    const buf = /^\[(in|out)\] (?:pMechanism->)?(\w+)(?:\[[^\]]*\])? (.*?)\s*$/.exec(line);
    if (buf && !line.includes(" = ")) {
      template = undefined;
      const b = BUFFER.exec(buf[3]!) ?? /^NULL \[size : 0x[0-9a-f]+ \((\d+)\)\]$/i.exec(buf[3]!);
      if (b) {
        const length = Number(b[2] ?? b[1]);
        if (buf[2] !== "pParameter") call.lengths[buf[2]!] = length;
        if (buf[2] === "pParameter") pending = { arg: "pParameter", length, hex: "" };
      }
      continue;
    }
    const scalar = /^\[(in|out)\] (\*?\w+) = (.*?)\s*$/.exec(line);
    if (scalar) {
      template = undefined;
      call.args[scalar[2]!.replace(/^\*/, "")] = scalar[3]!;
      continue;
    }
    const attr = /^ {4}(CKA_\w+|Unknown\S*)\s+(.*?)\s*$/.exec(line);
    if (attr && template) {
      const type = codeOf("CKA", attr[1]!);
      const rec: RecordedAttr = { type: attr[1]! };
      const shown = attr[2]!;
      const b = BUFFER.exec(shown);
      if (b) {
        rec.length = Number(b[2]);
        if (type !== undefined && isSensitiveAttribute(type, attrClass)) rec.redacted = true;
        pending = { attr: rec, length: rec.length, hex: "", print: true };
      } else if (shown === "True" || shown === "False") rec.value = shown === "True";
      else if (/^CK[A-Z]_\w+$/.test(shown)) {
        rec.value = shown;
        if (attr[1] === "CKA_CLASS") attrClass = codeOf("CKO", shown);
      } else if (shown === "EMPTY") rec.length = 0;
      else rec.value = shown;
      template.push(rec);
    }
  }
  settle();
  return call;
}

/** CKM_ name from the spy's form (a name, or 0x0000... for one it does not know). */
function mechName(shown: string): string {
  const hex = /^0x([0-9a-f]+)$/i.exec(shown.trim());
  if (hex) return nameOf("CKM", parseInt(hex[1]!, 16)).replace(/^CKM_0x/, "0x");
  const unknown = /Unknown Mechanism \(([0-9a-f]+)\)/i.exec(shown);
  if (unknown) return `0x${parseInt(unknown[1]!, 16).toString(16)}`;
  return shown.trim();
}
