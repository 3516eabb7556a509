// The conformance step: drives a token down an error path or through an operation state and compares
// each answer with the code the PKCS #11 specification requires (src/catalogue/conformance.ts). Every
// deviation of a check is collected; the case fails naming each, with the code required and the one answered.
import { randomBytes } from "node:crypto";
import { code } from "../../pkcs11/constants.js";
import { Pkcs11CallError, formatCkr, type Ckr } from "../../pkcs11/errors.js";
import type { Handle } from "../../pkcs11/token.js";
import { REQUIREMENTS, cite, type OutputName } from "../../catalogue/conformance.js";
import * as oracle from "../../crypto/oracle.js";
import type { ConformStep } from "../../suite/model.js";
import type { ResolvedMechanism } from "../../catalogue/params.js";
import { CannotCheck, Nonconformant } from "../outcomes.js";
import { ecParamsFor } from "../../crypto/keys.js";
import { curveOf, keyOf, mechanism, objectTemplate, signingHandle, tokenFlag, type StepContext } from "./context.js";

const OK: Ckr = { name: "CKR_OK", code: 0 };
/** pkcs11js passes an empty Buffer as a NULL pointer (see Pkcs11Token.output). */
const NULL = Buffer.alloc(0);

/** What one check saw: the answers that were as required (or also allowed) and those that were not. */
class Findings {
  readonly wrong: { fn: string; text: string; ckr: Ckr }[] = [];
  constructor(private readonly ctx: StepContext) {}

  /** Runs `call` and compares its answer with requirement `id`; returns the call's value when it succeeded. */
  expect<T>(id: string, call: () => T): T | undefined {
    const req = REQUIREMENTS[id];
    if (!req) throw new Error(`no conformance requirement ${id}`);
    let rv = OK;
    let value: T | undefined;
    try {
      value = call();
    } catch (err) {
      if (!(err instanceof Pkcs11CallError)) throw err;
      // A mechanism the token does not list cannot show the required code: that is `unsupported`.
      const m = this.ctx.state.mechanism;
      if (m && !m.advertised && err.is("CKR_MECHANISM_INVALID")) throw err;
      rv = err.ckr;
    }
    const where = cite(req.section);
    if (rv.name === req.required) this.ctx.state.verified.push(`${req.fn}: ${req.required} as ${where} requires`);
    else if (req.also?.[rv.name])
      this.ctx.state.verified.push(
        `${req.fn}: ${rv.name}, where ${where} names ${req.required}; also allowed (${req.also[rv.name]})`,
      );
    else
      this.nonconformant(
        req.fn,
        `${req.rule}: the spec requires ${req.required} (${where}), the token answered ${formatCkr(rv)}`,
        rv,
      );
    return value;
  }

  nonconformant(fn: string, text: string, ckr: Ckr = OK): void {
    this.wrong.push({ fn, text, ckr });
  }

  /** The case's verdict: a fail naming every deviation, or nothing. */
  settle(): void {
    const first = this.wrong[0];
    if (!first) return;
    throw new Nonconformant(first.fn, `nonconformant: ${this.wrong.map((w) => w.text).join("; ")}`, first.ckr);
  }
}

/** C_<Op>Init and the single-part call of an output function, on the ops session. */
interface Operation {
  init(): void;
  /** One call with this output buffer; returns *pulLen. */
  run(out: Buffer): number;
  /** Whether the output (its first `n` bytes of `out`) is right, checked by node:crypto; a reason if not. */
  check(out: Buffer): string | undefined;
}

function operation(ctx: StepContext, step: ConformStep, which: OutputName): Operation {
  const { session, state, tok } = ctx;
  if (!step.mechanism) throw new Error(`conform ${step.check} of ${which} needs a mechanism`);
  const mech: ResolvedMechanism = mechanism(session, state, step.mechanism);
  const ops = () => session.ops;
  const describe = () => ({ mechanism: mech.name });
  const init = (fn: string, thunk: () => void) => tok.call(fn, describe, thunk);
  switch (which) {
    case "digest": {
      const data = randomBytes(100);
      return {
        init: () => init("C_DigestInit", () => tok.lib.C_DigestInit(ops(), mech.pk)),
        run: (out) => tok.output("C_Digest", [ops(), data], out, describe),
        check: (out) => (out.equals(oracle.digest(mech.name, data)) ? undefined : "differs from node:crypto's digest"),
      };
    }
    case "sign": {
      const key = keyOf(state, step.key);
      const message = randomBytes(100);
      const input = oracle.signatureInput(mech.name, mech.params, message, curveOf(key.spec));
      const handle = signingHandle(key);
      return {
        init: () => {
          init("C_SignInit", () => tok.lib.C_SignInit(ops(), mech.pk, handle));
          tok.afterInit?.(ops(), handle);
        },
        run: (out) => tok.output("C_Sign", [ops(), input], out, describe),
        check: (out) => {
          const checker = key.secret ?? key.publicKey;
          if (!checker) return undefined;
          const v = oracle.verifySignature(mech.name, mech.params, checker, message, out);
          return v.ok ? undefined : `node:crypto rejects the signature: ${v.reason}`;
        },
      };
    }
    case "encrypt": {
      const key = keyOf(state, step.key);
      const plaintext = randomBytes(40);
      const handle = key.secretHandle ?? key.publicHandle!;
      return {
        init: () => init("C_EncryptInit", () => tok.lib.C_EncryptInit(ops(), mech.pk, handle)),
        run: (out) => tok.output("C_Encrypt", [ops(), plaintext], out, describe),
        check: (out) => {
          const decryptor = key.secret ?? key.privateKey;
          if (!decryptor) return undefined;
          const back = oracle.decrypt(mech.name, mech.params, decryptor, out);
          return back.equals(plaintext) ? undefined : "node:crypto decrypts it to other bytes";
        },
      };
    }
    case "decrypt": {
      const key = keyOf(state, step.key);
      const plaintext = randomBytes(40);
      const encryptor = key.secret ?? key.publicKey;
      if (!encryptor) throw new CannotCheck(`node:crypto cannot encrypt: the ${key.name} secret cannot be read`);
      const ciphertext = oracle.encrypt(mech.name, mech.params, encryptor, plaintext);
      const handle = key.secretHandle ?? key.privateHandle!;
      return {
        init: () => {
          init("C_DecryptInit", () => tok.lib.C_DecryptInit(ops(), mech.pk, handle));
          tok.afterInit?.(ops(), handle);
        },
        run: (out) => tok.output("C_Decrypt", [ops(), ciphertext], out, describe),
        check: (out) => (out.equals(plaintext) ? undefined : "differs from the plaintext node:crypto encrypted"),
      };
    }
    case "wrap": {
      const key = keyOf(state, step.key);
      const target = keyOf(state, step.target ?? "target");
      const wrapping = key.secretHandle ?? key.publicHandle!;
      return {
        init: () => undefined,
        run: (out) => tok.output("C_WrapKey", [ops(), mech.pk, wrapping, target.secretHandle!], out, describe),
        check: (out) => {
          const unwrapper = key.secret ?? key.privateKey;
          if (!unwrapper || !target.secret) return undefined;
          const value = oracle.unwrapKey(mech.name, unwrapper, out, mech.params);
          return value.equals(target.secret) ? undefined : "node:crypto unwraps it to another key";
        },
      };
    }
  }
}

/** The two-call convention (5.2) for one output function, and that it leaves the operation as the spec says. */
function lengthCheck(ctx: StepContext, step: ConformStep, f: Findings): void {
  const which = step.output;
  if (which === "attribute") return attributeLength(ctx, step, f);
  if (!which || which === "find")
    throw new Error("conform length needs output: sign, encrypt, decrypt, digest or wrap");
  const op = operation(ctx, step, which);
  const fn = REQUIREMENTS[`${which}.fits`]!.fn;
  op.init();
  const n = f.expect(`${which}.null-length`, () => op.run(NULL));
  if (n === 0) f.nonconformant(fn, `${fn} with a NULL buffer returned CKR_OK and a length of 0`);
  const needed = n || 4096;
  f.expect(`${which}.too-small`, () => op.run(Buffer.alloc(1)));
  const out = Buffer.alloc(needed);
  const got = f.expect(`${which}.fits`, () => op.run(out));
  if (got !== undefined) {
    if (n !== undefined && got > n)
      f.nonconformant(fn, `${fn} wrote ${got} bytes, more than the ${n} its length query returned`);
    const wrong = op.check(out.subarray(0, got));
    if (wrong) f.nonconformant(fn, `the output of ${fn} after the length query ${wrong}`);
    else
      ctx.state.verified.push(
        `${fn}: NULL query gave ${n} bytes, the output took ${got} and was checked by node:crypto`,
      );
  }
  if (REQUIREMENTS[`${which}.ended`]) f.expect(`${which}.ended`, () => op.run(Buffer.alloc(needed)));
}

/**
 * C_GetAttributeValue through pkcs11js: it makes the length query itself (pValue NULL) and then the
 * call with a buffer of that length, so only the answer to a too-small buffer is seen directly. Read
 * on an EC public key's CKA_EC_PARAMS, whose value is known (the curve's OID).
 */
function attributeLength(ctx: StepContext, step: ConformStep, f: Findings): void {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  if (key.spec.type !== "EC" || !key.publicHandle) throw new Error("conform length of attribute needs an EC key pair");
  const type = code("CKA_EC_PARAMS");
  const read = (value?: Buffer) =>
    tok.call(
      "C_GetAttributeValue",
      () => ({ attribute: "CKA_EC_PARAMS", ulValueLen: value ? value.length : "NULL" }),
      () => tok.lib.C_GetAttributeValue(session.objects, key.publicHandle!, [{ type, value }]),
    );
  f.expect("attribute.too-small", () => read(Buffer.alloc(1)));
  const back = f.expect("attribute.null-length", () => read())?.[0]?.value;
  const want = ecParamsFor(key.spec.curve);
  if (back && !Buffer.from(back).equals(want))
    f.nonconformant(
      "C_GetAttributeValue",
      `CKA_EC_PARAMS read back as ${Buffer.from(back).toString("hex")}, not the ${key.spec.curve} OID ${want.toString("hex")}`,
    );
}

function notInitialized(ctx: StepContext, step: ConformStep, f: Findings): void {
  const { session, tok } = ctx;
  const ops = session.ops;
  switch (step.output) {
    case "sign":
      return void f.expect("sign.not-initialized", () =>
        tok.call("C_Sign", undefined, () => tok.lib.C_Sign(ops, Buffer.alloc(32), Buffer.alloc(512))),
      );
    case "encrypt":
      return void f.expect("encrypt.not-initialized", () =>
        tok.call("C_Encrypt", undefined, () => tok.lib.C_Encrypt(ops, Buffer.alloc(16), Buffer.alloc(512))),
      );
    case "digest":
      return void f.expect("digest.not-initialized", () =>
        tok.call("C_Digest", undefined, () => tok.lib.C_Digest(ops, Buffer.alloc(16), Buffer.alloc(128))),
      );
    case "find":
      return void f.expect("find.not-initialized", () =>
        tok.call("C_FindObjects", undefined, () => tok.lib.C_FindObjects(ops, 1)),
      );
    default:
      throw new Error("conform not-initialized needs output: sign, encrypt, digest or find");
  }
}

function active(ctx: StepContext, step: ConformStep, f: Findings): void {
  const { session, state, tok } = ctx;
  const ops = session.ops;
  if (step.output === "find") {
    const init = () => tok.call("C_FindObjectsInit", undefined, () => tok.lib.C_FindObjectsInit(ops, []));
    init();
    f.expect("find.active", init);
    tok.call("C_FindObjectsFinal", undefined, () => tok.lib.C_FindObjectsFinal(ops));
    return;
  }
  if (!step.mechanism) throw new Error("conform active needs a mechanism");
  const mech = mechanism(session, state, step.mechanism);
  if (step.output === "digest") {
    const init = () => tok.call("C_DigestInit", undefined, () => tok.lib.C_DigestInit(ops, mech.pk as never));
    init();
    return void f.expect("digest.active", init);
  }
  if (step.output === "sign") {
    const handle = signingHandle(keyOf(state, step.key));
    const init = () => tok.call("C_SignInit", undefined, () => tok.lib.C_SignInit(ops, mech.pk as never, handle));
    init();
    return void f.expect("sign.active", init);
  }
  throw new Error("conform active needs output: sign, digest or find");
}

/** A call that fails for its input ends the operation (only CKR_BUFFER_TOO_SMALL and length queries do not). */
function endsAfterError(ctx: StepContext, step: ConformStep, f: Findings): void {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const mech = mechanism(session, state, step.mechanism ?? { name: "AES_CBC" });
  const ops = session.ops;
  const handle = key.secretHandle!;
  if (step.output === "encrypt") {
    tok.call("C_EncryptInit", undefined, () => tok.lib.C_EncryptInit(ops, mech.pk as never, handle));
    f.expect("encrypt.data-len-range", () =>
      tok.output("C_Encrypt", [ops, randomBytes(15)], Buffer.alloc(64), () => ({})),
    );
    f.expect("encrypt.ended-by-error", () =>
      tok.output("C_Encrypt", [ops, randomBytes(16)], Buffer.alloc(64), () => ({})),
    );
    return;
  }
  if (step.output === "decrypt") {
    tok.call("C_DecryptInit", undefined, () => tok.lib.C_DecryptInit(ops, mech.pk as never, handle));
    f.expect("decrypt.encrypted-data-len-range", () =>
      tok.output("C_Decrypt", [ops, randomBytes(15)], Buffer.alloc(64), () => ({})),
    );
    f.expect("decrypt.ended-by-error", () =>
      tok.output("C_Decrypt", [ops, randomBytes(16)], Buffer.alloc(64), () => ({})),
    );
    return;
  }
  throw new Error("conform ends-after-error needs output: encrypt or decrypt");
}

function openSession(ctx: StepContext, readWrite = true): Handle {
  const { tok } = ctx;
  const flags = code("CKF_SERIAL_SESSION") | (readWrite ? code("CKF_RW_SESSION") : 0);
  return tok.call(
    "C_OpenSession",
    () => ({ flags: readWrite ? "CKF_SERIAL_SESSION|CKF_RW_SESSION" : "CKF_SERIAL_SESSION" }),
    () => tok.lib.C_OpenSession(tok.slot!, flags),
  );
}

const sessionInfo = (ctx: StepContext, h: Handle) =>
  ctx.tok.call("C_GetSessionInfo", undefined, () => ctx.tok.lib.C_GetSessionInfo(h));

function staleSession(ctx: StepContext, f: Findings): void {
  const h = openSession(ctx);
  ctx.tok.closeSession(h);
  f.expect("session.stale", () => sessionInfo(ctx, h));
}

/** A data object the check can spoil; a token that makes none cannot show the codes about it. */
function dataObject(ctx: StepContext, name: string, session: Handle, token?: boolean): Handle {
  const spec = { CLASS: "DATA", ...(token === undefined ? {} : { TOKEN: token }) };
  const template = objectTemplate(ctx.session, spec, name);
  let h: Handle;
  try {
    h = ctx.tok.createObject(session, template);
  } catch (err) {
    if (err instanceof Pkcs11CallError)
      throw new CannotCheck(`the check needs a data object, and C_CreateObject returned ${formatCkr(err.ckr)}`, err.fn);
    throw err;
  }
  ctx.session.track(h, tokenFlag(template, ctx.session.device.tokenObjects));
  return h;
}

function staleObject(ctx: StepContext, f: Findings): void {
  const { session, tok } = ctx;
  const h = dataObject(ctx, "conformance-stale", session.objects);
  session.destroy(h);
  f.expect("object.stale", () => tok.getAttribute(session.objects, h, code("CKA_LABEL")));
}

function staleKey(ctx: StepContext, step: ConformStep, f: Findings): void {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const mech = mechanism(session, state, step.mechanism ?? { name: "ECDSA" });
  const handle = signingHandle(key);
  session.destroy(handle);
  f.expect("key.stale", () =>
    tok.call("C_SignInit", undefined, () => tok.lib.C_SignInit(session.ops, mech.pk as never, handle)),
  );
}

function initRejected(ctx: StepContext, step: ConformStep, f: Findings, id: string): void {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  if (!step.mechanism) throw new Error(`conform ${step.check} needs a mechanism`);
  const mech = mechanism(session, state, step.mechanism);
  const fn = REQUIREMENTS[id]!.fn;
  const ops = session.ops;
  f.expect(id, () =>
    fn === "C_SignInit"
      ? tok.call(fn, undefined, () => tok.lib.C_SignInit(ops, mech.pk as never, signingHandle(key)))
      : tok.call(fn, undefined, () =>
          tok.lib.C_EncryptInit(ops, mech.pk as never, key.secretHandle ?? key.publicHandle!),
        ),
  );
}

/**
 * A token object in a read-only session. A token may check the template before the session, so an
 * answer other than CKR_SESSION_READ_ONLY counts only if the same template works in a read-write session.
 */
function readOnlySession(ctx: StepContext, f: Findings): void {
  const { session, tok } = ctx;
  const ro = openSession(ctx, false);
  const template = objectTemplate(session, { CLASS: "DATA", TOKEN: true }, "conformance-read-only");
  let answer: Ckr = OK;
  try {
    const made = tok.createObject(ro, template);
    session.track(made, true);
    session.destroy(made);
  } catch (err) {
    if (!(err instanceof Pkcs11CallError)) throw err;
    answer = err.ckr;
  } finally {
    tok.closeSession(ro);
  }
  if (answer.name !== "CKR_SESSION_READ_ONLY" && answer.name !== "CKR_OK") {
    // The same object in a read-write session: made (then the read-only answer was wrong), or refused too.
    session.destroy(dataObject(ctx, "conformance-read-write", session.objects, true));
  }
  f.expect("session.read-only", () => {
    if (answer.name !== "CKR_OK") throw new Pkcs11CallError("C_CreateObject", answer.code);
  });
}

function needUserPin(ctx: StepContext): string {
  const pin = ctx.session.device.pins.user;
  if (pin === undefined) throw new CannotCheck("the device profile gives no user PIN");
  if (!ctx.session.isLoggedIn()) ctx.session.login();
  return pin;
}

type LoginCheck = "login-already" | "logout-not-logged-in" | "login-another" | "login-wrong-pin";

function loginChecks(ctx: StepContext, which: LoginCheck, f: Findings): void {
  const { session, tok } = ctx;
  const CKU_USER = code("CKU_USER");
  switch (which) {
    case "login-already": {
      const pin = needUserPin(ctx);
      session.checkPinSafety();
      return void f.expect("login.already", () => tok.login(session.objects, CKU_USER, pin));
    }
    case "logout-not-logged-in":
      if (session.isLoggedIn()) session.logout();
      return void f.expect("login.not-logged-in", () => session.logout());
    case "login-another": {
      needUserPin(ctx);
      const so = session.device.pins.so;
      if (so === undefined) throw new CannotCheck("the device profile gives no SO PIN");
      session.checkPinSafety("so");
      const done = f.expect("login.another", () => tok.login(session.objects, code("CKU_SO"), so));
      // A token that let the SO in beside the user: back to the user alone.
      if (done !== undefined || session.isLoggedIn()) session.logout();
      return;
    }
    case "login-wrong-pin": {
      // Spends a PIN try: only on a token p11compat made for the run.
      if (!session.device.throwaway)
        throw new CannotCheck("a wrong PIN spends a PIN try; checked only on a token made for the run (throwaway)");
      const pin = needUserPin(ctx);
      session.logout();
      session.checkPinSafety();
      const wrong = pin.slice(0, -1) + (pin.endsWith("0") ? "1" : "0");
      const done = f.expect("login.wrong-pin", () => tok.login(session.objects, CKU_USER, wrong));
      if (done !== undefined || session.isLoggedIn()) session.logout();
      return;
    }
  }
}

function slotList(ctx: StepContext, f: Findings): void {
  const { tok } = ctx;
  const hex = (h: Handle) => h.toString("hex");
  const all = f.expect("slots.superset", () =>
    tok.call(
      "C_GetSlotList",
      () => ({ tokenPresent: false }),
      () => tok.lib.C_GetSlotList(false),
    ),
  );
  const present = f.expect("slots.superset", () =>
    tok.call(
      "C_GetSlotList",
      () => ({ tokenPresent: true }),
      () => tok.lib.C_GetSlotList(true),
    ),
  );
  if (!all || !present) return;
  const rule = REQUIREMENTS["slots.superset"]!;
  const allIds = new Set(all.map(hex));
  const missing = present.filter((s) => !allIds.has(hex(s)));
  if (missing.length)
    f.nonconformant(
      "C_GetSlotList",
      `${rule.rule}: slot(s) ${missing.map(hex).join(", ")} are listed with tokenPresent=true only (${cite(rule.section)})`,
    );
  const presentIds = new Set(present.map(hex));
  for (const slot of all) {
    const flags = tok.call("C_GetSlotInfo", undefined, () => tok.lib.C_GetSlotInfo(slot)).flags;
    const flagged = (flags & code("CKF_TOKEN_PRESENT")) !== 0;
    if (flagged !== presentIds.has(hex(slot)))
      f.nonconformant(
        "C_GetSlotList",
        `slot ${hex(slot)} is ${presentIds.has(hex(slot)) ? "" : "not "}listed with tokenPresent=true but its CKF_TOKEN_PRESENT is ${flagged ? "set" : "clear"} (${cite(rule.section)})`,
      );
  }
  if (tok.slot && !presentIds.has(hex(tok.slot)))
    f.nonconformant("C_GetSlotList", `the slot in use (${hex(tok.slot)}) is missing from C_GetSlotList(true)`);
  ctx.state.verified.push(`C_GetSlotList: ${all.length} slot(s), ${present.length} with a token`);
}

/** C_CloseAllSessions and C_Finalize end the run's sessions: what the run made is destroyed first, and the keys forgotten. */
function restartChecks(ctx: StepContext, step: ConformStep, f: Findings): void {
  const { session, store, tok } = ctx;
  const old = [session.objects, session.ops];
  session.disposeAll();
  store.forgetKeys();
  try {
    if (step.check === "close-all-sessions") {
      tok.call("C_CloseAllSessions", undefined, () => tok.lib.C_CloseAllSessions(tok.slot!));
      for (const h of old) f.expect("close-all.stale", () => sessionInfo(ctx, h));
      const fresh = openSession(ctx);
      const state = f.expect("close-all.public", () => sessionInfo(ctx, fresh))?.state;
      if (state !== undefined && state !== code("CKS_RW_PUBLIC_SESSION"))
        f.nonconformant(
          "C_GetSessionInfo",
          `${REQUIREMENTS["close-all.public"]!.rule}: the new session's state is ${state} (${cite(REQUIREMENTS["close-all.public"]!.section)})`,
        );
      tok.closeSession(fresh);
    } else {
      f.expect("finalize.open-sessions", () => tok.call("C_Finalize", undefined, () => tok.lib.C_Finalize()));
      f.expect("finalize.not-initialized", () =>
        tok.call("C_GetSlotList", undefined, () => tok.lib.C_GetSlotList(true)),
      );
      tok.initialize(session.device.libraryParameters);
      for (const h of old) f.expect("finalize.stale", () => sessionInfo(ctx, h));
    }
  } finally {
    session.resume();
  }
}

async function conformStep(ctx: StepContext, step: ConformStep): Promise<void> {
  const f = new Findings(ctx);
  const { tok, session } = ctx;
  try {
    check(ctx, step, f, tok, session);
  } finally {
    // Checks leave operations active on purpose (a second Init, an Init the token should have refused).
    session.resetOps();
  }
  f.settle();
}

function check(
  ctx: StepContext,
  step: ConformStep,
  f: Findings,
  tok: StepContext["tok"],
  session: StepContext["session"],
): void {
  switch (step.check) {
    case "length":
      lengthCheck(ctx, step, f);
      break;
    case "not-initialized":
      notInitialized(ctx, step, f);
      break;
    case "active":
      active(ctx, step, f);
      break;
    case "ends-after-error":
      endsAfterError(ctx, step, f);
      break;
    case "stale-session":
      staleSession(ctx, f);
      break;
    case "stale-object":
      staleObject(ctx, f);
      break;
    case "stale-key":
      staleKey(ctx, step, f);
      break;
    case "key-type":
      initRejected(ctx, step, f, "key.type-inconsistent");
      break;
    case "key-function":
      initRejected(ctx, step, f, "key.function-not-permitted");
      break;
    case "cbc-iv-length":
      initRejected(ctx, step, f, "params.cbc-iv-length");
      break;
    case "gcm-tag-length":
      initRejected(ctx, step, f, "params.gcm-tag-length");
      break;
    case "gcm-iv-length":
      initRejected(ctx, step, f, "params.gcm-iv-length");
      break;
    case "read-only-session":
      readOnlySession(ctx, f);
      break;
    case "login-already":
    case "logout-not-logged-in":
    case "login-another":
    case "login-wrong-pin":
      loginChecks(ctx, step.check, f);
      break;
    case "initialize-twice":
      f.expect("initialize.twice", () => tok.initialize(session.device.libraryParameters));
      break;
    case "slot-list":
      slotList(ctx, f);
      break;
    case "close-all-sessions":
    case "finalize-open-sessions":
      restartChecks(ctx, step, f);
      break;
  }
}

export const conformanceSteps = { conform: conformStep };
