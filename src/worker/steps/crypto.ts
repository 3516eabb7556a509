// Steps that use keys: make them, and sign, verify, encrypt, decrypt, digest, derive, wrap and
// unwrap with them. Every token output is checked by node:crypto before the step counts.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { code } from "../../pkcs11/constants.js";
import { type Attr } from "../../pkcs11/attributes.js";
import { mergeTemplates } from "../../template/encode.js";
import type { Step } from "../../suite/model.js";
import * as oracle from "../../crypto/oracle.js";
import { OracleUnsupported } from "../../crypto/oracle.js";
import { CURVES } from "../../catalogue/curves.js";
import { ecPointOf } from "../../crypto/keys.js";
import { secretTemplate, type TokenKey } from "../keys.js";
import type { ResolvedMechanism } from "../../catalogue/params.js";
import { CannotCheck, VerificationFailure } from "../outcomes.js";
import { keyStepsOf } from "../../plan/identity.js";
import {
  curveOf,
  dataOf,
  generating,
  keyOf,
  lastFn,
  mechanism,
  runLabel,
  signingHandle,
  specOf,
  split,
  tokenFlag,
  verifyingHandle,
  type StepContext,
} from "./context.js";

async function keyStep(ctx: StepContext, step: Extract<Step, { op: "key" }>): Promise<void> {
  const { session, store, planned, state } = ctx;
  const spec = specOf(planned, step.spec);
  if (step.source === "generate") generating(session, state, spec);
  const key = await store.obtain(step.spec, spec, step);
  state.keys.set(step.as ?? "key", key);
  state.verified.push(key.checked);
}

/** The token signs; node:crypto must accept the signature (or the MAC) over the same message. */
function signChecked(
  ctx: StepContext,
  key: TokenKey,
  mech: ResolvedMechanism,
  message: Buffer,
  parts?: number,
): Buffer {
  const { session, tok } = ctx;
  const input = oracle.signatureInput(mech.name, mech.params, message, curveOf(key.spec));
  const signature = tok.sign(session.ops, mech.pk, signingHandle(key), split(input, parts));
  const checker = key.secret ?? key.publicKey;
  if (!checker)
    throw new CannotCheck(
      `the ${key.name} secret cannot be read from the token, so node:crypto cannot check the MAC`,
      lastFn(tok),
    );
  const v = oracle.verifySignature(mech.name, mech.params, checker, message, signature);
  if (!v.ok)
    throw new VerificationFailure(lastFn(tok), `node:crypto rejects the token's ${mech.name} signature: ${v.reason}`);
  return signature;
}

async function signStep(ctx: StepContext, step: Extract<Step, { op: "sign" }>): Promise<void> {
  const key = keyOf(ctx.state, step.key);
  const mech = mechanism(ctx.session, ctx.state, step.mechanism);
  signChecked(ctx, key, mech, dataOf(step.data), step.parts);
  ctx.state.verified.push(`${mech.name} signature verified by node:crypto`);
}

/**
 * The token verifies a signature made by node:crypto, or, when the private key exists only on the
 * token, its own signature once node:crypto has accepted it; the same signature with one bit
 * flipped must be rejected.
 */
async function verifyStep(ctx: StepContext, step: Extract<Step, { op: "verify" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const mech = mechanism(session, state, step.mechanism);
  const message = dataOf(step.data);
  const input = oracle.signatureInput(mech.name, mech.params, message, curveOf(key.spec));
  const signer = key.secret ?? key.privateKey;
  const signature = signer
    ? oracle.sign(mech.name, mech.params, signer, message)
    : signChecked(ctx, key, mech, message);
  const origin = signer ? "node:crypto" : "the token (checked by node:crypto)";
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
}

async function encryptStep(ctx: StepContext, step: Extract<Step, { op: "encrypt" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const mech = mechanism(session, state, step.mechanism);
  const plaintext = dataOf(step.data);
  const ciphertext = tok.encrypt(
    session.ops,
    mech.pk,
    key.secretHandle ?? key.publicHandle!,
    split(plaintext, step.parts),
  );
  const decryptor = key.secret ?? key.privateKey;
  if (!decryptor && step.roundTrip) return tokenRoundTrip(ctx, mech, key, plaintext, ciphertext);
  if (!decryptor)
    throw new CannotCheck(
      `node:crypto cannot decrypt: the ${key.name} key exists only on the token (use source: import)`,
      lastFn(tok),
    );
  let back: Buffer;
  try {
    back = oracle.decrypt(mech.name, mech.params, decryptor, ciphertext);
  } catch (err) {
    if (err instanceof OracleUnsupported) throw err;
    throw new VerificationFailure(
      lastFn(tok),
      `node:crypto cannot decrypt the token's ${mech.name} ciphertext: ${(err as Error).message}`,
    );
  }
  if (!back.equals(plaintext))
    throw new VerificationFailure(
      lastFn(tok),
      `node:crypto decrypts the token's ${mech.name} ciphertext to different bytes`,
    );
  state.verified.push(`${mech.name} ciphertext decrypted by node:crypto`);
}

/**
 * A key node:crypto never sees (a client's own, never extractable): the token decrypts its own
 * ciphertext. Weaker than an independent check, and the evidence says so.
 */
function tokenRoundTrip(
  { session, state, tok }: StepContext,
  mech: ResolvedMechanism,
  key: TokenKey,
  plaintext: Buffer,
  ciphertext: Buffer,
): void {
  const back = tok.decrypt(session.ops, mech.pk, key.secretHandle ?? key.privateHandle!, [ciphertext]);
  if (!back.equals(plaintext))
    throw new VerificationFailure(lastFn(tok), `the token decrypts its own ${mech.name} ciphertext to different bytes`);
  state.verified.push(
    `${mech.name} round trip on the token only (node:crypto cannot check it: the ${key.name} key never leaves the token)`,
  );
}

async function decryptStep(ctx: StepContext, step: Extract<Step, { op: "decrypt" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const mech = mechanism(session, state, step.mechanism);
  const plaintext = dataOf(step.data);
  const encryptor = key.secret ?? key.publicKey;
  if (!encryptor && step.roundTrip) {
    const handle = key.secretHandle ?? key.publicHandle!;
    return tokenRoundTrip(ctx, mech, key, plaintext, tok.encrypt(session.ops, mech.pk, handle, [plaintext]));
  }
  if (!encryptor) throw new CannotCheck(`node:crypto cannot encrypt: the ${key.name} secret cannot be read`);
  const ciphertext = oracle.encrypt(mech.name, mech.params, encryptor, plaintext);
  const back = tok.decrypt(session.ops, mech.pk, key.secretHandle ?? key.privateHandle!, split(ciphertext, step.parts));
  if (!back.equals(plaintext))
    throw new VerificationFailure(
      lastFn(tok),
      `the token decrypts a node:crypto ${mech.name} ciphertext to different bytes`,
    );
  state.verified.push(`node:crypto ${mech.name} ciphertext decrypted by the token`);
}

async function digestStep(ctx: StepContext, step: Extract<Step, { op: "digest" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const mech = mechanism(session, state, step.mechanism);
  const data = dataOf(step.data);
  const got = tok.digest(session.ops, mech.pk, split(data, step.parts));
  const want = oracle.digest(mech.name, data);
  if (!got.equals(want)) throw new VerificationFailure(lastFn(tok), `${mech.name} digest differs from node:crypto's`);
  state.verified.push(`${mech.name} digest matches node:crypto`);
}

async function deriveStep(ctx: StepContext, step: Extract<Step, { op: "derive" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  if (key.spec.type !== "EC") throw new Error(`derive needs an EC key, ${key.name} is ${key.spec.type}`);
  const curve = CURVES[key.spec.curve];
  const peer = generateKeyPairSync("ec", { namedCurve: curve.nodeName });
  const point = ecPointOf(peer.publicKey);
  const mech = mechanism(session, state, step.mechanism, { publicData: point });
  const size = curve.size;
  const defaults: Attr[] = [
    { type: code("CKA_CLASS"), value: code("CKO_SECRET_KEY") },
    { type: code("CKA_KEY_TYPE"), value: code("CKK_GENERIC_SECRET") },
    { type: code("CKA_VALUE_LEN"), value: size },
    { type: code("CKA_TOKEN"), value: false },
    { type: code("CKA_SENSITIVE"), value: false },
    { type: code("CKA_EXTRACTABLE"), value: true },
    runLabel(session, "derived"),
  ];
  const template = mergeTemplates(defaults, step.template ?? {});
  const derived = tok.deriveKey(session.objects, mech.pk, key.privateHandle!, template);
  session.track(derived, tokenFlag(template, false));
  state.mine.push(derived);
  const value = tok.getAttribute(session.objects, derived, code("CKA_VALUE"));
  const want = oracle.ecdh(key.spec.curve, peer.privateKey, ecPointOf(key.publicKey!));
  if (!Buffer.from(value).equals(want))
    throw new VerificationFailure(
      "C_DeriveKey",
      "the derived secret differs from node:crypto's ECDH result",
      "CKA_VALUE",
    );
  state.verified.push("ECDH secret recomputed by node:crypto");
}

async function wrapStep(ctx: StepContext, step: Extract<Step, { op: "wrap" }>): Promise<void> {
  const { session, store, planned, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const targetSpec = specOf(planned, step.target);
  generating(session, state, targetSpec);
  const target = await store.obtain(step.target, targetSpec, keyStepsOf(step)[0]!);
  const mech = mechanism(session, state, step.mechanism);
  if (!target.secret) throw new CannotCheck(`the ${step.target} key value cannot be read to compare`);
  const wrapped = tok.wrapKey(session.ops, mech.pk, key.secretHandle ?? key.publicHandle!, target.secretHandle!);
  const unwrapper = key.secret ?? key.privateKey;
  if (!unwrapper)
    throw new CannotCheck(
      `node:crypto cannot unwrap: the ${key.name} key exists only on the token (use source: import)`,
      "C_WrapKey",
    );
  let value: Buffer;
  try {
    value = oracle.unwrapKey(mech.name, unwrapper, wrapped, mech.params);
  } catch (err) {
    if (err instanceof OracleUnsupported) throw err;
    throw new VerificationFailure(
      "C_WrapKey",
      `node:crypto cannot unwrap the token's ${mech.name} output: ${(err as Error).message}`,
    );
  }
  if (!value.equals(target.secret))
    throw new VerificationFailure(
      "C_WrapKey",
      `node:crypto unwraps the token's ${mech.name} output to a different key`,
    );
  state.verified.push(`${mech.name} wrapped key unwrapped by node:crypto`);
}

async function unwrapStep(ctx: StepContext, step: Extract<Step, { op: "unwrap" }>): Promise<void> {
  const { session, planned, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const mech = mechanism(session, state, step.mechanism);
  const targetSpec = specOf(planned, step.target);
  const value = randomBytes((targetSpec as { bits: number }).bits / 8);
  const wrapper = key.secret ?? key.publicKey;
  if (!wrapper) throw new CannotCheck(`node:crypto cannot wrap: the ${key.name} secret cannot be read`);
  const wrapped = oracle.wrapKey(mech.name, wrapper, value, mech.params);
  const defaults = secretTemplate(targetSpec).attrs.filter((a) => a.type !== code("CKA_VALUE_LEN"));
  defaults.push({ type: code("CKA_TOKEN"), value: false }, runLabel(session, "unwrapped"));
  const template = mergeTemplates(defaults, step.template ?? {});
  const handle = tok.unwrapKey(session.objects, mech.pk, key.secretHandle ?? key.privateHandle!, wrapped, template);
  session.track(handle, tokenFlag(template, false));
  state.mine.push(handle);
  const got = tok.getAttribute(session.objects, handle, code("CKA_VALUE"));
  if (!Buffer.from(got).equals(value))
    throw new VerificationFailure(
      "C_UnwrapKey",
      "the unwrapped key differs from the one node:crypto wrapped",
      "CKA_VALUE",
    );
  state.verified.push(`node:crypto ${mech.name} wrapping unwrapped by the token`);
}

async function randomStep(ctx: StepContext, step: Extract<Step, { op: "random" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const a = tok.random(session.ops, step.length);
  const b = tok.random(session.ops, step.length);
  if (a.length !== step.length)
    throw new VerificationFailure("C_GenerateRandom", `asked for ${step.length} bytes, got ${a.length}`);
  if (step.length >= 16 && (a.equals(b) || a.every((x) => x === 0)))
    throw new VerificationFailure("C_GenerateRandom", "two calls returned the same (or all-zero) bytes");
  state.verified.push(
    step.length >= 16
      ? `${step.length} random bytes, two calls differ`
      : `${step.length} random bytes (too few to compare)`,
  );
}

export const cryptoSteps = {
  key: keyStep,
  sign: signStep,
  verify: verifyStep,
  encrypt: encryptStep,
  decrypt: decryptStep,
  digest: digestStep,
  derive: deriveStep,
  wrap: wrapStep,
  unwrap: unwrapStep,
  random: randomStep,
};
