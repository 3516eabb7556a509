// Runs one planned case: its steps in order, each token output checked by node:crypto.
// The first step that does not succeed decides the outcome; the result names the function,
// the CK_RV and what was being checked.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { codeOf } from "../pkcs11/constants.js";
import {
  attributeBytes,
  attributeName,
  encodeAttribute,
  encodeTemplate,
  isSensitiveAttribute,
  mergeTemplates,
  resolveAttribute,
  type Attr,
} from "../pkcs11/attributes.js";
import { Pkcs11CallError, formatCkr } from "../pkcs11/errors.js";
import { resolveMechanism, type ResolvedMechanism } from "../pkcs11/mechanisms.js";
import type { Handle } from "../pkcs11/token.js";
import type { CaseResult } from "../report/model.js";
import type { KeySpec, PlannedCase, Step, TemplateSpec } from "../suite/model.js";
import * as oracle from "../crypto/oracle.js";
import { CURVES, ecPointOf } from "../crypto/keys.js";
import { OracleUnsupported } from "../crypto/oracle.js";
import { secretTemplate, type KeyStore, type TokenKey } from "./keys.js";
import { classifyTokenError, type MechanismInPlay } from "./classify.js";
import { CannotCheck, DependencyFailure, VerificationFailure } from "./outcomes.js";
import type { TokenSession } from "./session.js";
import type { TraceMode } from "./protocol.js";

const A = (name: string) => codeOf("CKA", name)!;

interface CaseState {
  keys: Map<string, TokenKey>;
  objects: Map<string, Handle>;
  /** Objects this case created (destroyed when it ends). */
  mine: Handle[];
  mechanism?: MechanismInPlay;
  verified: string[];
}

export async function executeCase(
  session: TokenSession,
  store: KeyStore,
  planned: PlannedCase,
  traceMode: TraceMode,
): Promise<CaseResult> {
  const t0 = performance.now();
  const keysBefore = session.keysGenerated;
  session.token.trace.reset();
  const state: CaseState = { keys: new Map(), objects: new Map(), mine: [], verified: [] };
  let result: Pick<CaseResult, "outcome" | "message" | "function" | "ckr" | "attribute">;
  // The trace shows the case's own calls; clean-up after it (closing a poisoned session, logging
  // back in) counts in the timings but would bury the failing call.
  let ownCalls = 0;
  try {
    for (const step of planned.steps) {
      state.mechanism = undefined;
      await runStep(session, store, planned, state, step);
    }
    ownCalls = session.token.trace.size;
    result = { outcome: "pass", message: state.verified.length ? state.verified.join("; ") : "all steps succeeded" };
  } catch (err) {
    ownCalls = session.token.trace.size;
    result = describeFailure(err, state);
    if (err instanceof Pkcs11CallError || err instanceof VerificationFailure) safely(() => session.resetOps());
  } finally {
    for (const handle of state.mine) safely(() => session.owns(handle) && session.destroy(handle));
    safely(() => session.restore());
  }
  const trace = session.token.trace;
  const keep = traceMode === "all" || (traceMode === "failed" && result.outcome !== "pass");
  return {
    id: planned.id,
    suite: planned.suite,
    title: planned.title,
    params: planned.params,
    ...result,
    verified: state.verified.length ? state.verified : undefined,
    durationMs: round(performance.now() - t0),
    pkcs11Ms: round(trace.pkcs11Ms),
    calls: trace.calls,
    keysGenerated: session.keysGenerated - keysBefore,
    trace: keep ? trace.render(ownCalls) : undefined,
  };
}

function describeFailure(err: unknown, state: CaseState): Pick<CaseResult, "outcome" | "message" | "function" | "ckr" | "attribute"> {
  if (err instanceof Pkcs11CallError) {
    const c = classifyTokenError(err, { mechanism: state.mechanism, step: "" });
    return { outcome: c.outcome, message: c.message, function: err.fn, ckr: err.ckr, attribute: err.detail };
  }
  if (err instanceof VerificationFailure) return { outcome: "fail", message: err.message, function: err.fn, ckr: { name: "CKR_OK", code: 0 }, attribute: err.attribute };
  if (err instanceof DependencyFailure) return { outcome: err.outcome, message: err.message, function: err.fn, ckr: err.ckr };
  if (err instanceof CannotCheck) return { outcome: "skipped", message: err.message, function: err.fn };
  if (err instanceof OracleUnsupported) return { outcome: "skipped", message: `cannot check independently: ${err.message}` };
  const e = err as Error;
  const where = e.stack?.split("\n")[1]?.trim();
  return { outcome: "error", message: `harness error: ${e.message}${where ? ` (${where})` : ""}` };
}

async function runStep(session: TokenSession, store: KeyStore, planned: PlannedCase, state: CaseState, step: Step): Promise<void> {
  if (!step.expectError) return perform(session, store, planned, state, step);
  const want = codeOf("CKR", step.expectError);
  try {
    await perform(session, store, planned, state, step);
  } catch (err) {
    if (err instanceof Pkcs11CallError && err.ckr.code === want) {
      state.verified.push(`${err.fn} returned ${err.ckr.name} as expected`);
      safely(() => session.resetOps());
      return;
    }
    if (err instanceof Pkcs11CallError) {
      throw new VerificationFailure(err.fn, `expected ${step.expectError}, got ${formatCkr(err.ckr)}`);
    }
    throw err;
  }
  throw new VerificationFailure(session.token.trace.last ?? step.op, `expected ${step.expectError}, but the call succeeded`);
}

async function perform(session: TokenSession, store: KeyStore, planned: PlannedCase, state: CaseState, step: Step): Promise<void> {
  const tok = session.token;
  switch (step.op) {
    case "key": {
      const spec = specOf(planned, step.spec);
      if (step.source === "generate") state.mechanism = inPlay(session, keygenMechanism(spec));
      const key = await store.obtain(step.spec, spec, step);
      state.keys.set(step.as ?? "key", key);
      state.verified.push(
        step.source === "generate"
          ? key.publicKey
            ? "public key attributes parsed by node:crypto"
            : key.secret
              ? "secret key length checked"
              : "key generated"
          : "imported key read back",
      );
      return;
    }
    case "sign": {
      const key = keyOf(state, step.key);
      const mech = mechanism(session, state, step.mechanism);
      const message = dataOf(step.data);
      const input = oracle.signatureInput(mech.name, mech.params, message, curveOf(key.spec));
      const signature = tok.sign(session.ops, mech.pk, signingHandle(key), split(input, step.parts));
      const checker = key.secret ?? key.publicKey;
      if (!checker) throw new CannotCheck(`the ${key.name} secret cannot be read from the token, so node:crypto cannot check the MAC`, lastFn(tok));
      const v = oracle.verifySignature(mech.name, mech.params, checker, message, signature);
      if (!v.ok) throw new VerificationFailure(lastFn(tok), `node:crypto rejects the token's ${mech.name} signature: ${v.reason}`);
      state.verified.push(`${mech.name} signature verified by node:crypto`);
      return;
    }
    case "verify": {
      const key = keyOf(state, step.key);
      const mech = mechanism(session, state, step.mechanism);
      const message = dataOf(step.data);
      const input = oracle.signatureInput(mech.name, mech.params, message, curveOf(key.spec));
      const signer = key.secret ?? key.privateKey;
      let signature: Buffer;
      let origin: string;
      if (signer) {
        signature = oracle.sign(mech.name, mech.params, signer, message);
        origin = "node:crypto";
      } else {
        // The private key exists only on the token: its signature (already checked by node:crypto in
        // the sign step of the suites) is what the token must accept.
        signature = tok.sign(session.ops, mech.pk, signingHandle(key), [input]);
        if (!oracle.verifySignature(mech.name, mech.params, key.publicKey!, message, signature).ok) {
          throw new VerificationFailure(lastFn(tok), `node:crypto rejects the token's ${mech.name} signature`);
        }
        origin = "the token (checked by node:crypto)";
      }
      const handle = verifyingHandle(key);
      if (!tok.verify(session.ops, mech.pk, handle, split(input, step.parts), signature)) {
        throw new VerificationFailure(lastFn(tok), `the token rejects a valid ${mech.name} signature made by ${origin}`);
      }
      const tampered = Buffer.from(signature);
      tampered[tampered.length >> 1]! ^= 0x01;
      if (tok.verify(session.ops, mech.pk, handle, split(input, step.parts), tampered)) {
        throw new VerificationFailure(lastFn(tok), `the token accepts a ${mech.name} signature with a flipped bit`);
      }
      state.verified.push(`token verified a ${origin} signature and rejected a tampered one`);
      return;
    }
    case "encrypt": {
      const key = keyOf(state, step.key);
      const mech = mechanism(session, state, step.mechanism);
      const plaintext = dataOf(step.data);
      const ciphertext = tok.encrypt(session.ops, mech.pk, key.secretHandle ?? key.publicHandle!, split(plaintext, step.parts));
      const decryptor = key.secret ?? key.privateKey;
      if (!decryptor) throw new CannotCheck(`node:crypto cannot decrypt: the ${key.name} key exists only on the token (use source: import)`, lastFn(tok));
      let back: Buffer;
      try {
        back = oracle.decrypt(mech.name, mech.params, decryptor, ciphertext);
      } catch (err) {
        if (err instanceof OracleUnsupported) throw err;
        throw new VerificationFailure(lastFn(tok), `node:crypto cannot decrypt the token's ${mech.name} ciphertext: ${(err as Error).message}`);
      }
      if (!back.equals(plaintext)) throw new VerificationFailure(lastFn(tok), `node:crypto decrypts the token's ${mech.name} ciphertext to different bytes`);
      state.verified.push(`${mech.name} ciphertext decrypted by node:crypto`);
      return;
    }
    case "decrypt": {
      const key = keyOf(state, step.key);
      const mech = mechanism(session, state, step.mechanism);
      const plaintext = dataOf(step.data);
      const encryptor = key.secret ?? key.publicKey;
      if (!encryptor) throw new CannotCheck(`node:crypto cannot encrypt: the ${key.name} secret cannot be read`);
      const ciphertext = oracle.encrypt(mech.name, mech.params, encryptor, plaintext);
      const back = tok.decrypt(session.ops, mech.pk, key.secretHandle ?? key.privateHandle!, split(ciphertext, step.parts));
      if (!back.equals(plaintext)) throw new VerificationFailure(lastFn(tok), `the token decrypts a node:crypto ${mech.name} ciphertext to different bytes`);
      state.verified.push(`node:crypto ${mech.name} ciphertext decrypted by the token`);
      return;
    }
    case "digest": {
      const mech = mechanism(session, state, step.mechanism);
      const data = dataOf(step.data);
      const got = tok.digest(session.ops, mech.pk, split(data, step.parts));
      const want = oracle.digest(mech.name, data);
      if (!got.equals(want)) throw new VerificationFailure(lastFn(tok), `${mech.name} digest differs from node:crypto's`);
      state.verified.push(`${mech.name} digest matches node:crypto`);
      return;
    }
    case "derive": {
      const key = keyOf(state, step.key);
      if (key.spec.type !== "EC") throw new Error(`derive needs an EC key, ${key.name} is ${key.spec.type}`);
      const curve = CURVES[key.spec.curve];
      const peer = generateKeyPairSync("ec", { namedCurve: curve.nodeName });
      const point = ecPointOf(peer.publicKey);
      const mech = mechanism(session, state, step.mechanism, { publicData: point });
      const size = curve.size;
      const defaults: Attr[] = [
        { type: A("CKA_CLASS"), value: codeOf("CKO", "SECRET_KEY")! },
        { type: A("CKA_KEY_TYPE"), value: codeOf("CKK", "GENERIC_SECRET")! },
        { type: A("CKA_VALUE_LEN"), value: size },
        { type: A("CKA_TOKEN"), value: false },
        { type: A("CKA_SENSITIVE"), value: false },
        { type: A("CKA_EXTRACTABLE"), value: true },
      ];
      const derived = tok.deriveKey(session.objects, mech.pk, key.privateHandle!, mergeTemplates(defaults, step.template ?? {}));
      session.track(derived, false);
      state.mine.push(derived);
      const value = tok.getAttribute(session.objects, derived, A("CKA_VALUE"));
      const want = oracle.ecdh(key.spec.curve, peer.privateKey, ecPointOf(key.publicKey!));
      if (!Buffer.from(value).equals(want)) throw new VerificationFailure("C_DeriveKey", "the derived secret differs from node:crypto's ECDH result", "CKA_VALUE");
      state.verified.push("ECDH secret recomputed by node:crypto");
      return;
    }
    case "wrap": {
      const key = keyOf(state, step.key);
      const mech = mechanism(session, state, step.mechanism);
      const targetSpec = specOf(planned, step.target);
      const target = await store.obtain(step.target, targetSpec, { op: "key", spec: step.target, source: "generate" });
      if (!target.secret) throw new CannotCheck(`the ${step.target} key value cannot be read to compare`);
      const wrapped = tok.wrapKey(session.ops, mech.pk, key.secretHandle ?? key.publicHandle!, target.secretHandle!);
      const unwrapper = key.secret ?? key.privateKey;
      if (!unwrapper) throw new CannotCheck(`node:crypto cannot unwrap: the ${key.name} key exists only on the token (use source: import)`, "C_WrapKey");
      let value: Buffer;
      try {
        value = oracle.unwrapKey(mech.name, unwrapper, wrapped, mech.params);
      } catch (err) {
        if (err instanceof OracleUnsupported) throw err;
        throw new VerificationFailure("C_WrapKey", `node:crypto cannot unwrap the token's ${mech.name} output: ${(err as Error).message}`);
      }
      if (!value.equals(target.secret)) throw new VerificationFailure("C_WrapKey", `node:crypto unwraps the token's ${mech.name} output to a different key`);
      state.verified.push(`${mech.name} wrapped key unwrapped by node:crypto`);
      return;
    }
    case "unwrap": {
      const key = keyOf(state, step.key);
      const mech = mechanism(session, state, step.mechanism);
      const targetSpec = specOf(planned, step.target);
      const value = randomBytes((targetSpec as { bits: number }).bits / 8);
      const wrapper = key.secret ?? key.publicKey;
      if (!wrapper) throw new CannotCheck(`node:crypto cannot wrap: the ${key.name} secret cannot be read`);
      const wrapped = oracle.wrapKey(mech.name, wrapper, value, mech.params);
      const defaults = secretTemplate(targetSpec).attrs.filter((a) => a.type !== A("CKA_VALUE_LEN"));
      defaults.push({ type: A("CKA_TOKEN"), value: false });
      const handle = tok.unwrapKey(session.objects, mech.pk, key.secretHandle ?? key.privateHandle!, wrapped, mergeTemplates(defaults, step.template ?? {}));
      session.track(handle, false);
      state.mine.push(handle);
      const got = tok.getAttribute(session.objects, handle, A("CKA_VALUE"));
      if (!Buffer.from(got).equals(value)) throw new VerificationFailure("C_UnwrapKey", "the unwrapped key differs from the one node:crypto wrapped", "CKA_VALUE");
      state.verified.push(`node:crypto ${mech.name} wrapping unwrapped by the token`);
      return;
    }
    case "random": {
      const a = tok.random(session.ops, step.length);
      const b = tok.random(session.ops, step.length);
      if (a.length !== step.length) throw new VerificationFailure("C_GenerateRandom", `asked for ${step.length} bytes, got ${a.length}`);
      if (step.length >= 16 && (a.equals(b) || a.every((x) => x === 0))) throw new VerificationFailure("C_GenerateRandom", "two calls returned the same (or all-zero) bytes");
      state.verified.push(`${step.length} random bytes, two calls differ`);
      return;
    }
    case "login": {
      if (session.isLoggedIn()) session.logout();
      session.login();
      if (!session.isLoggedIn()) throw new VerificationFailure("C_GetSessionInfo", "C_Login succeeded but the session is not in a user state");
      state.verified.push("session state is user after C_Login");
      return;
    }
    case "logout": {
      session.logout();
      if (session.isLoggedIn()) throw new VerificationFailure("C_GetSessionInfo", "C_Logout succeeded but the session is still in a user state");
      state.verified.push("session state is public after C_Logout");
      return;
    }
    case "create": {
      const template = objectTemplate(session, step.template, step.as);
      const handle = tok.createObject(session.objects, template);
      session.track(handle, session.device.tokenObjects);
      state.mine.push(handle);
      state.objects.set(step.as, handle);
      return;
    }
    case "copy": {
      const source = objectOf(state, step.object);
      const handle = tok.copyObject(session.objects, source, encode(step.template ?? {}));
      session.track(handle, session.device.tokenObjects);
      state.mine.push(handle);
      state.objects.set(step.as, handle);
      return;
    }
    case "find": {
      const found = tok.find(session.objects, encode(step.template)).map((h) => h.toString("hex"));
      for (const name of step.expectFound ?? []) {
        if (!found.includes(objectOf(state, name).toString("hex"))) throw new VerificationFailure("C_FindObjects", `object ${name} matches the template but was not found`);
      }
      for (const name of step.expectNotFound ?? []) {
        if (found.includes(objectOf(state, name).toString("hex"))) throw new VerificationFailure("C_FindObjects", `object ${name} does not match the template but was found`);
      }
      if (step.expectCount !== undefined && found.length !== step.expectCount) {
        throw new VerificationFailure("C_FindObjects", `expected ${step.expectCount} objects, found ${found.length}`);
      }
      state.verified.push(`C_FindObjects found ${found.length} object(s) as expected`);
      return;
    }
    case "get": {
      const handle = objectOf(state, step.object);
      for (const [name, expected] of Object.entries(step.attributes)) {
        const type = resolveAttribute(name);
        const raw = tok.getAttribute(session.objects, handle, type);
        if (expected === null) continue;
        const want = attributeBytes(encodeAttribute(name, expected));
        if (!Buffer.from(raw).equals(want)) {
          const shown = isSensitiveAttribute(type) ? `${raw.length} bytes that differ from the expected ${want.length}` : `${raw.toString("hex")}, expected ${want.toString("hex")}`;
          throw new VerificationFailure("C_GetAttributeValue", `${name} of ${step.object} reads ${shown}`, attributeName(type));
        }
      }
      state.verified.push(`attributes of ${step.object} read back as expected`);
      return;
    }
    case "set": {
      tok.setAttributes(session.objects, objectOf(state, step.object), encode(step.attributes));
      return;
    }
    case "destroy": {
      const handle = objectOf(state, step.object);
      session.destroy(handle);
      state.objects.delete(step.object);
      try {
        tok.getAttribute(session.objects, handle, A("CKA_CLASS"));
      } catch (err) {
        if (err instanceof Pkcs11CallError && err.is("CKR_OBJECT_HANDLE_INVALID")) {
          state.verified.push(`${step.object} is gone after C_DestroyObject`);
          return;
        }
        throw err;
      }
      throw new VerificationFailure("C_DestroyObject", `${step.object} can still be read after C_DestroyObject`);
    }
  }
}

function mechanism(session: TokenSession, state: CaseState, spec: { name: string; params?: object }, ctx = {}): ResolvedMechanism {
  const m = resolveMechanism(spec as never, ctx);
  const explicit = Object.entries(spec.params ?? {}).map(([k, v]) => `${k}=${v}`).join(", ");
  state.mechanism = { ...inPlay(session, m.name), explicitParams: explicit || undefined };
  return m;
}

function inPlay(session: TokenSession, name: string): MechanismInPlay {
  return { name, advertised: session.mechanisms.has(codeOf("CKM", name)!) };
}

function keygenMechanism(spec: KeySpec): string {
  return { RSA: "CKM_RSA_PKCS_KEY_PAIR_GEN", EC: "CKM_EC_KEY_PAIR_GEN", EC_EDWARDS: "CKM_EC_EDWARDS_KEY_PAIR_GEN", AES: "CKM_AES_KEY_GEN", GENERIC_SECRET: "CKM_GENERIC_SECRET_KEY_GEN" }[spec.type];
}

function specOf(planned: PlannedCase, name: string): KeySpec {
  const spec = planned.keys[name];
  if (!spec) throw new Error(`unknown key spec ${name}`);
  return spec;
}

function keyOf(state: CaseState, name = "key"): TokenKey {
  const key = state.keys.get(name);
  if (!key) throw new Error(`no key named ${name} in this case (add an op: key step first)`);
  return key;
}

function objectOf(state: CaseState, name: string): Handle {
  const handle = state.objects.get(name);
  if (!handle) throw new Error(`no object named ${name} in this case`);
  return handle;
}

const curveOf = (spec: KeySpec) => (spec.type === "EC" ? spec.curve : undefined);

const signingHandle = (key: TokenKey) => key.secretHandle ?? key.privateHandle!;
const verifyingHandle = (key: TokenKey) => key.secretHandle ?? key.publicHandle!;

function encode(spec: TemplateSpec): Attr[] {
  return encodeTemplate(spec);
}

function objectTemplate(session: TokenSession, spec: TemplateSpec, name: string): Attr[] {
  const defaults: Attr[] = [
    { type: A("CKA_TOKEN"), value: session.device.tokenObjects },
    { type: A("CKA_LABEL"), value: Buffer.from(`${session.device.labelPrefix}${name}`) },
  ];
  return mergeTemplates(defaults, spec);
}

function dataOf(data: number | string | undefined): Buffer {
  if (data === undefined) return randomBytes(64);
  return typeof data === "number" ? randomBytes(data) : Buffer.from(data, "hex");
}

/** Splits data into n pieces for multi-part calls (1 = a single-part call). */
export function split(data: Buffer, parts = 1): Buffer[] {
  if (parts <= 1) return [data];
  const size = Math.ceil(data.length / parts);
  const out: Buffer[] = [];
  for (let i = 0; i < parts; i++) out.push(data.subarray(i * size, Math.min(data.length, (i + 1) * size)));
  return out;
}

function lastFn(tok: { trace: { last?: string } }): string {
  return tok.trace.last ?? "?";
}

function safely(fn: () => unknown): void {
  try {
    fn();
  } catch {
    /* clean-up after a failure must not replace the failure */
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
