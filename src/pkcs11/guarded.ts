// The calls whose output length the module reports, made through koffi instead of pkcs11js: pkcs11js
// copies as many bytes as the module claims (C_GetAttributeValue, C_FindObjects) or silently cuts the
// claim to its buffer and to 32 bits (C_Sign, C_Encrypt ...), so a lying module either leaks this
// process's memory into the report or hides its lie. Here every claimed length is checked against the
// buffer the module was given before a byte of it is read, and an over-long one is the module's fault.
import koffi from "koffi";
import pkcs11js from "pkcs11js";
import { Pkcs11CallError } from "./errors.js";

/** The module answered CKR_OK with a length it cannot have written: more than the buffer it was given. */
export class OutputLengthFault extends Error {
  constructor(
    readonly fn: string,
    readonly claimed: bigint,
    readonly capacity: number,
    opts: {
      /** The attribute whose length it is (C_GetAttributeValue). */
      attribute?: string;
      /** What the length counts, when not bytes. */
      unit?: string;
      /** The limit exceeded, when it is not the buffer's size. */
      limit?: string;
    } = {},
  ) {
    const unit = opts.unit ?? "bytes";
    super(
      `${fn} returned CKR_OK claiming ${claimed} ${unit}${opts.attribute ? ` for ${opts.attribute}` : ""}, more than ` +
        `${opts.limit ?? `the ${capacity}-${unit === "bytes" ? "byte" : unit} buffer it was given`}: ` +
        "the module's fault (none of it was read)",
    );
    this.name = "OutputLengthFault";
    this.attribute = opts.attribute;
  }

  readonly attribute?: string;
}

// The order of CK_FUNCTION_LIST (PKCS#11 2.40, section 5.16), after its CK_VERSION.
const FUNCTIONS = [
  "C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList", "C_GetSlotInfo",
  "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo", "C_InitToken", "C_InitPIN", "C_SetPIN",
  "C_OpenSession", "C_CloseSession", "C_CloseAllSessions", "C_GetSessionInfo", "C_GetOperationState",
  "C_SetOperationState", "C_Login", "C_Logout", "C_CreateObject", "C_CopyObject", "C_DestroyObject",
  "C_GetObjectSize", "C_GetAttributeValue", "C_SetAttributeValue", "C_FindObjectsInit", "C_FindObjects",
  "C_FindObjectsFinal", "C_EncryptInit", "C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal", "C_DecryptInit",
  "C_Decrypt", "C_DecryptUpdate", "C_DecryptFinal", "C_DigestInit", "C_Digest", "C_DigestUpdate",
  "C_DigestKey", "C_DigestFinal", "C_SignInit", "C_Sign", "C_SignUpdate", "C_SignFinal", "C_SignRecoverInit",
  "C_SignRecover", "C_VerifyInit", "C_Verify", "C_VerifyUpdate", "C_VerifyFinal", "C_VerifyRecoverInit",
  "C_VerifyRecover", "C_DigestEncryptUpdate", "C_DecryptDigestUpdate", "C_SignEncryptUpdate",
  "C_DecryptVerifyUpdate", "C_GenerateKey", "C_GenerateKeyPair", "C_WrapKey",
] as const; // prettier-ignore

/** The output calls this file makes: with input data (one-part and Update) or without (Final). */
export type DataOut = "C_Sign" | "C_Encrypt" | "C_EncryptUpdate" | "C_Decrypt" | "C_DecryptUpdate" | "C_Digest";
export type FinalOut = "C_SignFinal" | "C_EncryptFinal" | "C_DecryptFinal" | "C_DigestFinal";

/** What one attribute may be at most (a certificate chain fits many times): beyond it, the claim is the fault. */
const MAX_ATTRIBUTE_BYTES = 64 * 1024 * 1024;
const ULONG = koffi.sizeof("unsigned long");
const PTR = koffi.sizeof("void *");
const UNAVAILABLE = (1n << BigInt(8 * ULONG)) - 1n;
const CK_ATTRIBUTE = koffi.struct({
  type: "unsigned long",
  pValue: "void *",
  ulValueLen: "unsigned long",
});
const VALUE_AT = koffi.offsetof(CK_ATTRIBUTE, "pValue");
const LEN_AT = koffi.offsetof(CK_ATTRIBUTE, "ulValueLen");

const readUlong = (b: Buffer, at = 0): bigint => (ULONG === 8 ? b.readBigUInt64LE(at) : BigInt(b.readUInt32LE(at)));
const writeUlong = (b: Buffer, v: bigint, at = 0): void => {
  if (ULONG === 8) b.writeBigUInt64LE(v, at);
  else b.writeUInt32LE(Number(v), at);
};
const writePtr = (b: Buffer, v: bigint, at: number): void => {
  if (PTR === 8) b.writeBigUInt64LE(v, at);
  else b.writeUInt32LE(Number(v), at);
};

// Every pointer is passed as bytes the caller owns; CK_ULONGs as numbers. The types are anonymous:
// koffi's names are process-wide, and jest loads this module once per test file in one process.
const DATA_OUT = koffi.proto("unsigned long (unsigned long, uint8_t *, unsigned long, uint8_t *, uint8_t *)");
const FINAL_OUT = koffi.proto("unsigned long (unsigned long, uint8_t *, uint8_t *)");
const GET_ATTRIBUTE = koffi.proto("unsigned long (unsigned long, unsigned long, uint8_t *, unsigned long)");
const WRAP_KEY = koffi.proto(
  "unsigned long (unsigned long, uint8_t *, unsigned long, unsigned long, uint8_t *, uint8_t *)",
);
const OAEP = koffi.struct({
  hashAlg: "unsigned long",
  mgf: "unsigned long",
  source: "unsigned long",
  pSourceData: "void *",
  ulSourceDataLen: "unsigned long",
});
const LIST_SLOTS = koffi.proto("unsigned long (uint8_t, uint8_t *, uint8_t *)");
const LIST_MECHANISMS = koffi.proto("unsigned long (unsigned long, uint8_t *, uint8_t *)");
const FIND_OBJECTS = koffi.proto("unsigned long (unsigned long, uint8_t *, unsigned long, uint8_t *)");
const GET_FUNCTION_LIST = "unsigned long C_GetFunctionList(_Out_ void **list)";

export interface GuardedMechanism {
  mechanism: number;
  parameter?: Buffer | number | { type: number; [k: string]: unknown };
}

/** A CK_MECHANISM in bytes, and the buffers its pointers point into (alive as long as `keep` is). */
function encodeMechanism(mech: GuardedMechanism): { struct: Buffer; keep: Buffer[] } | undefined {
  const struct = Buffer.alloc(koffi.sizeof(CK_ATTRIBUTE)); // same layout: ulong, pointer, ulong
  writeUlong(struct, BigInt(mech.mechanism), 0);
  const p = mech.parameter;
  let param: Buffer | undefined;
  const keep: Buffer[] = [];
  if (Buffer.isBuffer(p)) param = p.length ? p : undefined;
  else if (typeof p === "number") {
    param = Buffer.alloc(ULONG);
    writeUlong(param, BigInt(p));
  } else if (p && p.type === pkcs11js.CK_PARAMS_RSA_OAEP) {
    param = Buffer.alloc(koffi.sizeof(OAEP));
    writeUlong(param, BigInt(p.hashAlg as number), koffi.offsetof(OAEP, "hashAlg"));
    writeUlong(param, BigInt(p.mgf as number), koffi.offsetof(OAEP, "mgf"));
    writeUlong(param, BigInt(p.source as number), koffi.offsetof(OAEP, "source"));
    const label = p.sourceData as Buffer | undefined;
    if (label?.length) {
      keep.push(label);
      writePtr(param, koffi.address(label), koffi.offsetof(OAEP, "pSourceData"));
      writeUlong(param, BigInt(label.length), koffi.offsetof(OAEP, "ulSourceDataLen"));
    }
  } else if (p) return undefined;
  if (param) {
    keep.push(param);
    writePtr(struct, koffi.address(param), VALUE_AT);
    writeUlong(struct, BigInt(param.length), LEN_AT);
  }
  return { struct, keep };
}

/** A pkcs11js handle (a CK_ULONG in a Buffer) as a number for koffi. */
const handleValue = (h: Buffer): bigint => readUlong(h);

export class GuardedCalls {
  private readonly fns: Map<(typeof FUNCTIONS)[number], unknown>;

  /** The module is already loaded by pkcs11js: dlopen hands back the same instance and function list. */
  constructor(modulePath: string) {
    const lib = koffi.load(modulePath);
    const out: unknown[] = [null];
    const rv = lib.func(GET_FUNCTION_LIST)(out) as number;
    if (rv !== 0 || !out[0]) throw new Pkcs11CallError("C_GetFunctionList", rv);
    const pointers = koffi.decode(out[0], PTR, koffi.array("void *", FUNCTIONS.length)) as unknown[];
    this.fns = new Map(FUNCTIONS.map((name, i) => [name, pointers[i]]));
  }

  private fn(name: (typeof FUNCTIONS)[number]): unknown {
    const f = this.fns.get(name);
    // A NULL entry in the module's list: the function is not there (pkcs11js would call through it).
    if (!f) throw new Pkcs11CallError(name, 0x54); // CKR_FUNCTION_NOT_SUPPORTED
    return f;
  }

  /** One attribute: its length, then its value into a buffer of exactly that length. */
  getAttribute(session: Buffer, object: Buffer, type: number, name: string): Buffer | undefined {
    const f = this.fn("C_GetAttributeValue");
    // One CK_ATTRIBUTE, pValue NULL (zeroed) for the length query.
    const template = Buffer.alloc(koffi.sizeof(CK_ATTRIBUTE));
    writeUlong(template, BigInt(type), 0);
    const call = () => {
      const rv = koffi.call(f, GET_ATTRIBUTE, handleValue(session), handleValue(object), template, 1) as number;
      if (rv !== 0) throw new Pkcs11CallError("C_GetAttributeValue", rv);
      return readUlong(template, LEN_AT);
    };
    const claimed = call();
    if (claimed === UNAVAILABLE) return undefined;
    if (claimed > BigInt(MAX_ATTRIBUTE_BYTES))
      throw new OutputLengthFault("C_GetAttributeValue", claimed, MAX_ATTRIBUTE_BYTES, {
        attribute: name,
        limit: "the 64 MiB p11compat takes for one attribute",
      });
    const size = Number(claimed);
    if (size === 0) return Buffer.alloc(0);
    const value = Buffer.alloc(size);
    writePtr(template, koffi.address(value), VALUE_AT);
    writeUlong(template, claimed, LEN_AT);
    const got = call();
    if (got === UNAVAILABLE) return undefined;
    if (got > claimed) throw new OutputLengthFault("C_GetAttributeValue", got, size, { attribute: name });
    return value.subarray(0, Number(got));
  }

  /** C_Sign, C_Encrypt(Update), C_Decrypt(Update), C_Digest: `data` in, at most `capacity` bytes out. */
  dataOut(name: DataOut, session: Buffer, data: Buffer, capacity: number): Buffer {
    const out = Buffer.alloc(capacity);
    const len = Buffer.alloc(8);
    writeUlong(len, BigInt(capacity));
    // A zero-length input still gets a valid pointer, as a C client would pass.
    const input = data.length ? data : Buffer.alloc(1);
    const rv = koffi.call(this.fn(name), DATA_OUT, handleValue(session), input, data.length, out, len) as number;
    return this.checked(name, rv, out, len);
  }

  /** C_SignFinal, C_EncryptFinal, C_DecryptFinal, C_DigestFinal. */
  finalOut(name: FinalOut, session: Buffer, capacity: number): Buffer {
    const out = Buffer.alloc(capacity);
    const len = Buffer.alloc(8);
    writeUlong(len, BigInt(capacity));
    const rv = koffi.call(this.fn(name), FINAL_OUT, handleValue(session), out, len) as number;
    return this.checked(name, rv, out, len);
  }

  /** At most `max` handles, as pkcs11js's Buffers. */
  findObjects(session: Buffer, max: number): Buffer[] {
    const handles = Buffer.alloc(Math.max(1, max) * ULONG);
    const count = Buffer.alloc(8);
    const rv = koffi.call(this.fn("C_FindObjects"), FIND_OBJECTS, handleValue(session), handles, max, count) as number;
    if (rv !== 0) throw new Pkcs11CallError("C_FindObjects", rv);
    const n = readUlong(count);
    if (n > BigInt(max))
      throw new OutputLengthFault("C_FindObjects", n, max, { unit: "object handles", limit: `the ${max} asked for` });
    return Array.from({ length: Number(n) }, (_, i) => Buffer.from(handles.subarray(i * ULONG, (i + 1) * ULONG)));
  }

  /**
   * C_WrapKey, for a mechanism without a parameter, with bytes or with OAEP parameters; `undefined`
   * for other parameter structures (the caller uses pkcs11js for those).
   */
  wrapKey(
    session: Buffer,
    mech: GuardedMechanism,
    wrapping: Buffer,
    key: Buffer,
    capacity: number,
  ): Buffer | undefined {
    const encoded = encodeMechanism(mech);
    if (!encoded) return undefined;
    const out = Buffer.alloc(capacity);
    const len = Buffer.alloc(8);
    writeUlong(len, BigInt(capacity));
    const rv = koffi.call(
      this.fn("C_WrapKey"),
      WRAP_KEY,
      handleValue(session),
      encoded.struct,
      handleValue(wrapping),
      handleValue(key),
      out,
      len,
    ) as number;
    void encoded.keep;
    return this.checked("C_WrapKey", rv, out, len);
  }

  /** C_GetSlotList, count then list: a list longer than the count it gave is the module's fault. */
  slotList(tokenPresent: boolean): Buffer[] {
    const f = this.fn("C_GetSlotList");
    return this.counted("C_GetSlotList", "slot ids", (list, count) =>
      koffi.call(f, LIST_SLOTS, tokenPresent ? 1 : 0, list, count),
    );
  }

  /** C_GetMechanismList, count then list, as numbers. */
  mechanismList(slot: Buffer): number[] {
    const f = this.fn("C_GetMechanismList");
    return this.counted("C_GetMechanismList", "mechanisms", (list, count) =>
      koffi.call(f, LIST_MECHANISMS, handleValue(slot), list, count),
    ).map((m) => Number(readUlong(m)));
  }

  /** The two-call convention for a list of CK_ULONGs, each returned in a Buffer of its own. */
  private counted(
    name: (typeof FUNCTIONS)[number],
    unit: string,
    call: (list: Buffer | null, count: Buffer) => unknown,
  ): Buffer[] {
    const count = Buffer.alloc(8);
    let rv = call(null, count) as number;
    if (rv !== 0) throw new Pkcs11CallError(name, rv);
    const room = readUlong(count);
    if (room > 1_000_000n)
      throw new OutputLengthFault(name, room, 0, { unit, limit: "the million p11compat takes for one list" });
    if (room === 0n) return [];
    const list = Buffer.alloc(Number(room) * ULONG);
    rv = call(list, count) as number;
    if (rv !== 0) throw new Pkcs11CallError(name, rv);
    const n = readUlong(count);
    if (n > room) throw new OutputLengthFault(name, n, Number(room), { unit, limit: `the ${room} it said there were` });
    return Array.from({ length: Number(n) }, (_, i) => Buffer.from(list.subarray(i * ULONG, (i + 1) * ULONG)));
  }

  private checked(name: (typeof FUNCTIONS)[number], rv: number, out: Buffer, len: Buffer): Buffer {
    if (rv !== 0) throw new Pkcs11CallError(name, rv);
    const claimed = readUlong(len);
    if (claimed > BigInt(out.length)) throw new OutputLengthFault(name, claimed, out.length);
    return out.subarray(0, Number(claimed));
  }
}
