// The only place that talks to a PKCS#11 module. Every call goes through `call()`, which times
// it, records it in the trace (PINs never, secret values redacted) and turns a CK_RV into a
// Pkcs11CallError naming the function.
import pkcs11js from "pkcs11js";
import { performance } from "node:perf_hooks";
import { code, nameOf } from "./constants.js";
import { Pkcs11CallError, toCallError, type TemplateCall } from "./errors.js";
import { CallTrace, type ArgsThunk } from "./trace.js";
import type { Attr } from "./attributes.js";
import { describeTemplate } from "./describe.js";
import { GuardedCalls, OutputLengthFault } from "./guarded.js";

export type Handle = Buffer;

export interface MechanismInfo {
  code: number;
  name: string;
  minKeySize: number;
  maxKeySize: number;
  flags: number;
  /** Fields whose value changed between two queries: not findings, just unstable. */
  unstable?: string[];
}

export interface TokenIdentity {
  library: { path: string; manufacturer: string; description: string; version: string; cryptokiVersion: string };
  slot: { id: string; description: string };
  token: {
    label: string;
    manufacturer: string;
    model: string;
    serial: string;
    firmware: string;
    hardware: string;
    flags: number;
    unstable?: string[];
  };
}

/** A token as C_GetTokenInfo shows it, with the objects anyone can see (see `inventory`). */
export interface TokenListing {
  slot: string;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  firmware: { major: number; minor: number };
  flags: number;
  objects: { class: number; id: string; label: string }[];
}

/** Calls that make objects from templates: what a token that picks key slots by CKA_ID must watch. */
const WRITES = new Set([
  "C_GenerateKey",
  "C_GenerateKeyPair",
  "C_CreateObject",
  "C_CopyObject",
  "C_DeriveKey",
  "C_UnwrapKey",
]);

export interface Mechanism {
  mechanism: number;
  parameter?: Buffer | number | { type: number; [k: string]: unknown };
}

const OUT_SLACK = 1024;
const DIGEST_OUT = 128;
const WRAP_OUT = 4096;

type OutputFunction = "C_Sign" | "C_Encrypt" | "C_Decrypt" | "C_Digest" | "C_WrapKey";
/** pkcs11js's native methods, below the wrapper `new PKCS11()` installs on each instance. */
const NATIVE = Object.getPrototypeOf(pkcs11js.PKCS11.prototype) as Record<OutputFunction, unknown>;
// pkcs11js passes a NULL pointer for an empty Buffer, which modules reject (CKR_ARGUMENTS_BAD) although a
// C client passes a valid pointer with length 0; an empty view into a real buffer keeps the pointer valid.
const EMPTY = Buffer.alloc(1).subarray(0, 0);
const nonNull = (b: Buffer) => (b.length === 0 ? EMPTY : b);

/** A slot handle (hex of pkcs11js's CK_SLOT_ID buffer, little-endian) as the number tools print. */
export function slotNumber(hex: string): string {
  const b = Buffer.from(hex, "hex");
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n.toString();
}

const trim = (s: string) => s.replace(/\0/g, "").trim();
const ver = (v: { major: number; minor: number }) => `${v.major}.${v.minor}`;

export class Pkcs11Token {
  readonly lib = new pkcs11js.PKCS11();
  readonly trace = new CallTrace();
  /** The calls whose output length the module reports, checked before a byte is read (see guarded.ts). */
  private guarded?: GuardedCalls;
  /** Told of every call before it is made and after it returns: what a crash or a hang is attributed to. */
  observer?: { calling(fn: string): void; returned(rv: string, ms: number): void };
  slot?: Handle;
  /** Called right after a successful C_SignInit / C_DecryptInit (a context-specific login goes here). */
  afterInit?: (session: Handle, key: Handle) => void;
  /** Successful C_GenerateKey/C_GenerateKeyPair calls since C_Initialize (diagnosis replays too). */
  keysGeneratedSinceInit = 0;
  /**
   * Called before every call that makes an object from templates (C_GenerateKey(Pair), C_CreateObject,
   * C_CopyObject, C_DeriveKey, C_UnwrapKey), diagnosis replays included; it may throw to refuse the
   * call (the module is then not called). `after` follows a successful one.
   */
  writeGuard?: { before(fn: string, templates: Attr[][]): void; after(fn: string, templates: Attr[][]): void };
  /** Attribute types diagnosis must not vary in a failed call's templates (see TemplateCall.fixed). */
  fixedAttributes?: number[];

  constructor(readonly modulePath: string) {}

  call<T>(fn: string, args: ArgsThunk | undefined, thunk: () => T): T {
    this.observer?.calling(fn);
    const t0 = performance.now();
    try {
      const out = thunk();
      const ms = performance.now() - t0;
      this.observer?.returned("CKR_OK", ms);
      this.trace.record(fn, args, "CKR_OK", ms);
      if (fn === "C_GenerateKeyPair" || fn === "C_GenerateKey") this.keysGeneratedSinceInit++;
      return out;
    } catch (err) {
      const e = toCallError(fn, err);
      const rv =
        e instanceof Pkcs11CallError
          ? e.ckr.name
          : e instanceof OutputLengthFault
            ? `CKR_OK, claiming ${e.claimed} bytes (buffer ${e.capacity})`
            : `threw ${String(err)}`;
      const ms = performance.now() - t0;
      this.observer?.returned(rv, ms);
      this.trace.record(fn, args, rv, ms);
      throw e;
    }
  }

  load(libraryParameters?: string): void {
    this.lib.load(this.modulePath);
    this.guarded = new GuardedCalls(this.modulePath);
    this.initialize(libraryParameters);
  }

  /** C_Initialize; also after C_Finalize, to start the module afresh in the same process. */
  initialize(libraryParameters?: string): void {
    this.keysGeneratedSinceInit = 0;
    // Without CKF_OS_LOCKING_OK SoftHSM runs lock-free; libraryParameters loses its last char in pkcs11js.
    const options: Record<string, unknown> = { flags: code("CKF_OS_LOCKING_OK") };
    if (libraryParameters) options.libraryParameters = `${libraryParameters} `;
    this.call(
      "C_Initialize",
      () => ({ flags: "CKF_OS_LOCKING_OK", libraryParameters }),
      () => this.lib.C_Initialize(options as pkcs11js.InitializationOptions),
    );
  }

  finalize(): void {
    try {
      this.call("C_Finalize", undefined, () => this.lib.C_Finalize());
    } catch {
      /* finalizing a broken module must not hide the original error */
    }
  }

  /** Choose the slot whose token has this label (or the first slot with a token). */
  selectSlot(select: { label?: string; serial?: string; index?: number; slot?: string }): Handle {
    const slots = this.call(
      "C_GetSlotList",
      () => ({ tokenPresent: true }),
      () => this.guard.slotList(true),
    );
    const labels: string[] = [];
    for (const [i, slot] of slots.entries()) {
      const info = this.call(
        "C_GetTokenInfo",
        () => ({ slot: slot.toString("hex") }),
        () => this.lib.C_GetTokenInfo(slot),
      );
      labels.push(trim(info.label));
      const ok =
        (select.label === undefined || trim(info.label) === select.label) &&
        (select.serial === undefined || trim(info.serialNumber) === select.serial) &&
        (select.index === undefined || select.index === i) &&
        (select.slot === undefined || slotNumber(slot.toString("hex")) === select.slot);
      if (ok) return (this.slot = slot);
    }
    const want = JSON.stringify(select);
    throw new Error(
      slots.length === 0
        ? `no slot with a token present (wanted ${want})`
        : `no token matches ${want}; tokens present: ${labels.map((l) => JSON.stringify(l)).join(", ")}`,
    );
  }

  identity(): TokenIdentity {
    const slot = this.requireSlot();
    const info = this.call("C_GetInfo", undefined, () => this.lib.C_GetInfo());
    const slotInfo = this.call("C_GetSlotInfo", undefined, () => this.lib.C_GetSlotInfo(slot));
    const t = this.tokenInfo();
    return {
      library: {
        path: this.modulePath,
        manufacturer: trim(info.manufacturerID),
        description: trim(info.libraryDescription),
        version: ver(info.libraryVersion),
        cryptokiVersion: ver(info.cryptokiVersion),
      },
      slot: { id: slot.toString("hex"), description: trim(slotInfo.slotDescription) },
      token: {
        label: trim(t.label),
        manufacturer: trim(t.manufacturerID),
        model: trim(t.model),
        serial: trim(t.serialNumber),
        firmware: ver(t.firmwareVersion),
        hardware: ver(t.hardwareVersion),
        flags: t.flags,
      },
    };
  }

  tokenInfo(): pkcs11js.TokenInfo {
    const slot = this.requireSlot();
    return this.call("C_GetTokenInfo", undefined, () => this.lib.C_GetTokenInfo(slot));
  }

  /** C_GetSlotList: every slot, or (`tokenPresent`) those with a token. */
  slotIds(tokenPresent: boolean): Handle[] {
    return this.call(
      "C_GetSlotList",
      () => ({ tokenPresent }),
      () => this.guard.slotList(tokenPresent),
    );
  }

  /** C_GetMechanismList of the selected slot. */
  mechanismCodes(): number[] {
    const slot = this.requireSlot();
    return this.call("C_GetMechanismList", undefined, () => this.guard.mechanismList(slot));
  }

  mechanisms(): MechanismInfo[] {
    const slot = this.requireSlot();
    const codes = this.mechanismCodes();
    return codes.map((code) => {
      const info = this.call(
        "C_GetMechanismInfo",
        () => ({ mechanism: nameOf("CKM", code) }),
        () => this.lib.C_GetMechanismInfo(slot, code),
      );
      return {
        code,
        name: nameOf("CKM", code),
        minKeySize: info.minKeySize,
        maxKeySize: info.maxKeySize,
        flags: info.flags,
      };
    });
  }

  openSession(): Handle {
    const slot = this.requireSlot();
    const flags = code("CKF_SERIAL_SESSION") | code("CKF_RW_SESSION");
    return this.call(
      "C_OpenSession",
      () => ({ flags: "CKF_SERIAL_SESSION|CKF_RW_SESSION" }),
      () => this.lib.C_OpenSession(slot, flags),
    );
  }

  closeSession(session: Handle): void {
    this.call("C_CloseSession", undefined, () => this.lib.C_CloseSession(session));
  }

  sessionState(session: Handle): number {
    return this.call("C_GetSessionInfo", undefined, () => this.lib.C_GetSessionInfo(session)).state;
  }

  /** The PIN never enters the trace. */
  login(session: Handle, userType: number, pin: string): void {
    this.call(
      "C_Login",
      () => ({ userType: nameOf("CKU", userType), pin: "<redacted>" }),
      () => this.lib.C_Login(session, userType, pin),
    );
  }

  logout(session: Handle): void {
    this.call("C_Logout", undefined, () => this.lib.C_Logout(session));
  }

  /**
   * A call that takes templates. On failure the error carries a replay of the same call with other
   * templates, which diagnosis uses to find out which attributes the token objects to.
   */
  private templated<T>(
    session: Handle,
    fn: string,
    templates: TemplateCall["templates"],
    args: (ts: Attr[][]) => Record<string, unknown>,
    invoke: (ts: Attr[][]) => T,
    created: (result: T) => Handle[],
  ): T {
    const writes = WRITES.has(fn);
    const run = (ts: Attr[][]) => {
      if (writes) this.writeGuard?.before(fn, ts);
      const out = this.call(
        fn,
        () => args(ts),
        () => invoke(ts),
      );
      if (writes) this.writeGuard?.after(fn, ts);
      return out;
    };
    try {
      return run(templates.map((t) => t.attrs));
    } catch (err) {
      if (err instanceof Pkcs11CallError) {
        err.templateCall = {
          fn,
          templates,
          replay: (ts) => created(run(ts)),
          destroy: (h) => this.destroyObject(session, h),
          fixed: this.fixedAttributes,
        };
      }
      throw err;
    }
  }

  /**
   * Every token present and, with `objects`, what each shows without a login: class, CKA_ID and label
   * of every object. Read-only: a session of its own (read-only), no login, nothing created.
   */
  inventory(objects: boolean): TokenListing[] {
    const slots = this.call(
      "C_GetSlotList",
      () => ({ tokenPresent: true }),
      () => this.guard.slotList(true),
    );
    return slots.map((slot) => {
      const t = this.call("C_GetTokenInfo", undefined, () => this.lib.C_GetTokenInfo(slot));
      const listing: TokenListing = {
        slot: slot.toString("hex"),
        label: trim(t.label),
        manufacturer: trim(t.manufacturerID),
        model: trim(t.model),
        serial: trim(t.serialNumber),
        firmware: { major: t.firmwareVersion.major, minor: t.firmwareVersion.minor },
        flags: t.flags,
        objects: [],
      };
      if (!objects) return listing;
      const session = this.call(
        "C_OpenSession",
        () => ({ flags: "CKF_SERIAL_SESSION" }),
        () => this.lib.C_OpenSession(slot, code("CKF_SERIAL_SESSION")),
      );
      try {
        for (const h of this.find(session, [])) {
          const read = (type: number) => {
            try {
              return this.getAttribute(session, h, type);
            } catch {
              return undefined;
            }
          };
          const cls = read(code("CKA_CLASS"));
          listing.objects.push({
            class: cls && cls.length >= 4 ? cls.readUInt32LE(0) : -1,
            id: read(code("CKA_ID"))?.toString("hex") ?? "",
            label: read(code("CKA_LABEL"))?.toString("utf8") ?? "",
          });
        }
      } finally {
        this.call("C_CloseSession", undefined, () => this.lib.C_CloseSession(session));
      }
      return listing;
    });
  }

  generateKey(session: Handle, mech: Mechanism, template: Attr[]): Handle {
    return this.templated(
      session,
      "C_GenerateKey",
      [{ name: "template", attrs: template }],
      ([t]) => ({ mechanism: describeMechanism(mech), template: describeTemplate(t!) }),
      ([t]) => this.lib.C_GenerateKey(session, mech as pkcs11js.Mechanism, t!),
      (h) => [h],
    );
  }

  generateKeyPair(
    session: Handle,
    mech: Mechanism,
    pub: Attr[],
    priv: Attr[],
  ): { publicKey: Handle; privateKey: Handle } {
    return this.templated(
      session,
      "C_GenerateKeyPair",
      [
        { name: "public", attrs: pub },
        { name: "private", attrs: priv },
      ],
      ([p, q]) => ({
        mechanism: describeMechanism(mech),
        publicTemplate: describeTemplate(p!),
        privateTemplate: describeTemplate(q!),
      }),
      ([p, q]) => this.lib.C_GenerateKeyPair(session, mech as pkcs11js.Mechanism, p!, q!),
      (pair) => [pair.publicKey, pair.privateKey],
    );
  }

  createObject(session: Handle, template: Attr[]): Handle {
    return this.templated(
      session,
      "C_CreateObject",
      [{ name: "template", attrs: template }],
      ([t]) => ({ template: describeTemplate(t!) }),
      ([t]) => this.lib.C_CreateObject(session, t!),
      (h) => [h],
    );
  }

  copyObject(session: Handle, object: Handle, template: Attr[]): Handle {
    return this.templated(
      session,
      "C_CopyObject",
      [{ name: "template", attrs: template }],
      ([t]) => ({ object: hex(object), template: describeTemplate(t!) }),
      ([t]) => this.lib.C_CopyObject(session, object, t!),
      (h) => [h],
    );
  }

  destroyObject(session: Handle, object: Handle): void {
    this.call(
      "C_DestroyObject",
      () => ({ object: hex(object) }),
      () => this.lib.C_DestroyObject(session, object),
    );
  }

  /** One attribute per call: C_GetAttributeValue fails whole on the first sensitive or invalid one. */
  getAttribute(session: Handle, object: Handle, type: number): Buffer {
    const name = describeTemplate([{ type, value: Buffer.alloc(0) }])[0]?.name ?? String(type);
    const value = this.call(
      "C_GetAttributeValue",
      () => ({ object: hex(object), attribute: name }),
      () => this.guard.getAttribute(session, object, type, name),
    );
    return value ?? Buffer.alloc(0);
  }

  setAttributes(session: Handle, object: Handle, template: Attr[]): void {
    this.templated(
      session,
      "C_SetAttributeValue",
      [{ name: "template", attrs: template }],
      ([t]) => ({ object: hex(object), template: describeTemplate(t!) }),
      ([t]) => this.lib.C_SetAttributeValue(session, object, t!),
      () => [],
    );
  }

  find(session: Handle, template: Attr[], max = 1000): Handle[] {
    this.templated(
      session,
      "C_FindObjectsInit",
      [{ name: "template", attrs: template }],
      ([t]) => ({ template: describeTemplate(t!) }),
      ([t]) => {
        this.lib.C_FindObjectsInit(session, t!);
        return undefined;
      },
      () => (this.lib.C_FindObjectsFinal(session), []),
    );
    try {
      return this.call(
        "C_FindObjects",
        () => ({ max }),
        () => this.guard.findObjects(session, max),
      );
    } finally {
      this.call("C_FindObjectsFinal", undefined, () => this.lib.C_FindObjectsFinal(session));
    }
  }

  sign(session: Handle, mech: Mechanism, key: Handle, parts: Buffer[]): Buffer {
    this.call(
      "C_SignInit",
      () => ({ mechanism: describeMechanism(mech), key: hex(key) }),
      () => this.lib.C_SignInit(session, mech as pkcs11js.Mechanism, key),
    );
    this.afterInit?.(session, key);
    if (parts.length === 1) {
      return this.call(
        "C_Sign",
        () => ({ dataLen: parts[0]!.length }),
        () => this.guard.dataOut("C_Sign", session, parts[0]!, OUT_SLACK),
      );
    }
    for (const part of parts)
      this.call(
        "C_SignUpdate",
        () => ({ partLen: part.length }),
        () => this.lib.C_SignUpdate(session, nonNull(part)),
      );
    return this.call("C_SignFinal", undefined, () => this.guard.finalOut("C_SignFinal", session, OUT_SLACK));
  }

  /** True if valid; false on CKR_SIGNATURE_INVALID (pkcs11js throws it); other codes throw. */
  verify(session: Handle, mech: Mechanism, key: Handle, parts: Buffer[], signature: Buffer): boolean {
    this.call(
      "C_VerifyInit",
      () => ({ mechanism: describeMechanism(mech), key: hex(key) }),
      () => this.lib.C_VerifyInit(session, mech as pkcs11js.Mechanism, key),
    );
    try {
      if (parts.length === 1) {
        return this.call(
          "C_Verify",
          () => ({ dataLen: parts[0]!.length, signatureLen: signature.length }),
          () => this.lib.C_Verify(session, nonNull(parts[0]!), signature),
        );
      }
      for (const part of parts)
        this.call(
          "C_VerifyUpdate",
          () => ({ partLen: part.length }),
          () => this.lib.C_VerifyUpdate(session, nonNull(part)),
        );
      return this.call(
        "C_VerifyFinal",
        () => ({ signatureLen: signature.length }),
        () => this.lib.C_VerifyFinal(session, signature),
      );
    } catch (err) {
      if (err instanceof Pkcs11CallError && err.is("CKR_SIGNATURE_INVALID")) return false;
      throw err;
    }
  }

  encrypt(session: Handle, mech: Mechanism, key: Handle, parts: Buffer[]): Buffer {
    this.call(
      "C_EncryptInit",
      () => ({ mechanism: describeMechanism(mech), key: hex(key) }),
      () => this.lib.C_EncryptInit(session, mech as pkcs11js.Mechanism, key),
    );
    return this.cipher("C_Encrypt", session, parts);
  }

  decrypt(session: Handle, mech: Mechanism, key: Handle, parts: Buffer[]): Buffer {
    this.call(
      "C_DecryptInit",
      () => ({ mechanism: describeMechanism(mech), key: hex(key) }),
      () => this.lib.C_DecryptInit(session, mech as pkcs11js.Mechanism, key),
    );
    this.afterInit?.(session, key);
    return this.cipher("C_Decrypt", session, parts);
  }

  private cipher(fn: "C_Encrypt" | "C_Decrypt", session: Handle, parts: Buffer[]): Buffer {
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (parts.length === 1) {
      return this.call(
        fn,
        () => ({ dataLen: total }),
        () => this.guard.dataOut(fn, session, parts[0]!, total + OUT_SLACK),
      );
    }
    const chunks = parts.map((part) =>
      this.call(
        `${fn}Update`,
        () => ({ partLen: part.length }),
        () => this.guard.dataOut(`${fn}Update`, session, part, part.length + OUT_SLACK),
      ),
    );
    chunks.push(this.call(`${fn}Final`, undefined, () => this.guard.finalOut(`${fn}Final`, session, OUT_SLACK)));
    return Buffer.concat(chunks);
  }

  digest(session: Handle, mech: Mechanism, parts: Buffer[]): Buffer {
    this.call(
      "C_DigestInit",
      () => ({ mechanism: describeMechanism(mech) }),
      () => this.lib.C_DigestInit(session, mech as pkcs11js.Mechanism),
    );
    if (parts.length === 1)
      return this.call(
        "C_Digest",
        () => ({ dataLen: parts[0]!.length }),
        () => this.guard.dataOut("C_Digest", session, parts[0]!, DIGEST_OUT),
      );
    for (const part of parts)
      this.call(
        "C_DigestUpdate",
        () => ({ partLen: part.length }),
        () => this.lib.C_DigestUpdate(session, nonNull(part)),
      );
    return this.call("C_DigestFinal", undefined, () => this.guard.finalOut("C_DigestFinal", session, DIGEST_OUT));
  }

  deriveKey(session: Handle, mech: Mechanism, base: Handle, template: Attr[]): Handle {
    return this.templated(
      session,
      "C_DeriveKey",
      [{ name: "template", attrs: template }],
      ([t]) => ({ mechanism: describeMechanism(mech), baseKey: hex(base), template: describeTemplate(t!) }),
      ([t]) => this.lib.C_DeriveKey(session, mech as pkcs11js.Mechanism, base, t!),
      (h) => [h],
    );
  }

  wrapKey(session: Handle, mech: Mechanism, wrapping: Handle, key: Handle): Buffer {
    return this.call(
      "C_WrapKey",
      () => ({ mechanism: describeMechanism(mech), wrappingKey: hex(wrapping), key: hex(key) }),
      () =>
        this.guard.wrapKey(session, mech, wrapping, key, WRAP_OUT) ?? this.wrapByPkcs11js(session, mech, wrapping, key),
    );
  }

  /**
   * Parameter structures guarded.ts does not encode go through pkcs11js, which cuts the claimed length
   * to its buffer: output that fills the whole buffer is then a claim beyond it, not a wrapped key.
   */
  private wrapByPkcs11js(session: Handle, mech: Mechanism, wrapping: Handle, key: Handle): Buffer {
    const out = this.lib.C_WrapKey(session, mech, wrapping, key, Buffer.alloc(WRAP_OUT + 1));
    if (out.length > WRAP_OUT)
      throw new OutputLengthFault("C_WrapKey", BigInt(out.length), WRAP_OUT + 1, {
        limit: `${WRAP_OUT} bytes (it filled the whole buffer pkcs11js gave it, which cuts a longer claim short)`,
      });
    return out;
  }

  unwrapKey(session: Handle, mech: Mechanism, unwrapping: Handle, wrapped: Buffer, template: Attr[]): Handle {
    return this.templated(
      session,
      "C_UnwrapKey",
      [{ name: "template", attrs: template }],
      ([t]) => ({
        mechanism: describeMechanism(mech),
        unwrappingKey: hex(unwrapping),
        wrappedLen: wrapped.length,
        template: describeTemplate(t!),
      }),
      ([t]) => this.lib.C_UnwrapKey(session, mech as pkcs11js.Mechanism, unwrapping, wrapped, t!),
      (h) => [h],
    );
  }

  /**
   * One call of a function with variable-length output (PKCS #11 5.2) as a C client makes it: an empty
   * `out` is a NULL pointer, else its length is *pulLen. Returns *pulLen as the module set it. It calls
   * pkcs11js's native method: its JavaScript wrapper cuts the result to `out` and would hide the length
   * a NULL call returns. The length set with CKR_BUFFER_TOO_SMALL is lost either way (the binding throws).
   */
  output(fn: OutputFunction, args: unknown[], out: Buffer, describe: ArgsThunk): number {
    const native = NATIVE[fn] as (...a: unknown[]) => number;
    return this.call(
      fn,
      () => ({ ...describe(), out: out.length ? out.length : "NULL" }),
      () => native.apply(this.lib, [...args, out]),
    );
  }

  random(session: Handle, length: number): Buffer {
    return this.call(
      "C_GenerateRandom",
      () => ({ length }),
      () => this.lib.C_GenerateRandom(session, Buffer.alloc(length)),
    );
  }

  private get guard(): GuardedCalls {
    return (this.guarded ??= new GuardedCalls(this.modulePath));
  }

  private requireSlot(): Handle {
    if (!this.slot) throw new Error("no slot selected");
    return this.slot;
  }
}

const hex = (h: Handle) =>
  `0x${Buffer.from(h)
    .reverse()
    .toString("hex")
    .replace(/^0+(?=.)/, "")}`;

/** Mechanism parameters may hold key material only as public data; IVs and labels are fine to show. */
function describeMechanism(mech: Mechanism): Record<string, unknown> {
  const out: Record<string, unknown> = { name: nameOf("CKM", mech.mechanism) };
  const p = mech.parameter;
  if (Buffer.isBuffer(p)) out.parameter = p.toString("hex");
  else if (typeof p === "number") out.parameter = p;
  else if (p) {
    const shown: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) {
      if (k === "type") continue;
      if (k === "hashAlg") shown[k] = nameOf("CKM", v as number);
      else if (k === "mgf") shown[k] = nameOf("CKG", v as number);
      else if (k === "kdf") shown[k] = nameOf("CKD", v as number);
      else shown[k] = Buffer.isBuffer(v) ? v.toString("hex") : v;
    }
    out.parameter = shown;
  }
  return out;
}
