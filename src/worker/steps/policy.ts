// The security policy step: tries one attack of the Tookan paper or one key management rule
// (src/catalogue/policy.ts) on the token. A token that lets it through fails the case with
// "weakness: ..." and the evidence; a refusal passes, naming the code. The keys with dangerous
// attribute combinations are session objects (CKA_TOKEN=false), destroyed when the case ends.
import { randomBytes } from "node:crypto";
import { code } from "../../pkcs11/constants.js";
import type { Attr } from "../../pkcs11/attributes.js";
import { Pkcs11CallError, formatCkr, type Ckr } from "../../pkcs11/errors.js";
import type { Handle } from "../../pkcs11/token.js";
import { AES_WRAP_MECHANISMS, POLICY_RULES, type PolicyCheck } from "../../catalogue/policy.js";
import type { ResolvedMechanism } from "../../catalogue/params.js";
import * as oracle from "../../crypto/oracle.js";
import type { PolicyStep } from "../../suite/model.js";
import type { TokenKey } from "../keys.js";
import { CannotCheck, DependencyFailure, Nonconformant } from "../outcomes.js";
import { curveOf, keyOf, mechanism, runLabel, signingHandle, verifyingHandle, type StepContext } from "./context.js";

const OK: Ckr = { name: "CKR_OK", code: 0 };
type Flags = Record<string, boolean>;

/** The answer of one call: its value, or the code it failed with. */
function attempt<T>(call: () => T): { value?: T; ckr: Ckr } {
  try {
    return { value: call(), ckr: OK };
  } catch (err) {
    if (err instanceof Pkcs11CallError) return { ckr: err.ckr };
    throw err;
  }
}

function weakness(check: PolicyCheck, fn: string, evidence: string, ckr: Ckr = OK): Nonconformant {
  const r = POLICY_RULES[check];
  return new Nonconformant(fn, `weakness: ${r.attack} (${r.source}): ${evidence}`, ckr);
}

/** The token refused a step of the attack: the case passes and says where and with what code. */
function refused(ctx: StepContext, fn: string, ckr: Ckr, what: string): void {
  ctx.state.verified.push(`refused: ${fn} ${what} returned ${formatCkr(ckr)}`);
}

/** Every mechanism was refused; when each for CKR_MECHANISM_INVALID, the attack failed for want of a mechanism, not by policy. */
function refusedAll(ctx: StepContext, answers: string[]): void {
  const only = answers.every((a) => a.endsWith("CKR_MECHANISM_INVALID"));
  ctx.state.verified.push(
    `refused: ${answers.join("; ")}${only ? " (only for want of a mechanism that does both: not a policy of the token)" : ""}`,
  );
}

/** Makes an AES-128 session key with these flags; refused templates are an answer, not an error. */
function aesKey(ctx: StepContext, name: string, flags: Flags, value?: Buffer): { handle?: Handle; ckr: Ckr } {
  const { session, state, tok } = ctx;
  const attrs: Attr[] = [
    { type: code("CKA_CLASS"), value: code("CKO_SECRET_KEY") },
    { type: code("CKA_KEY_TYPE"), value: code("CKK_AES") },
    { type: code("CKA_TOKEN"), value: false },
    runLabel(session, `policy-${name}`),
    ...(value ? [{ type: code("CKA_VALUE"), value }] : [{ type: code("CKA_VALUE_LEN"), value: 16 }]),
    ...Object.entries(flags).map(([k, v]) => ({ type: code(`CKA_${k}`), value: v })),
  ];
  if (!value) mechanism(session, state, { name: "AES_KEY_GEN" });
  const r = attempt(() =>
    value
      ? tok.createObject(session.objects, attrs)
      : tok.generateKey(session.objects, { mechanism: code("CKM_AES_KEY_GEN") }, attrs),
  );
  if (r.value) keep(ctx, r.value);
  return { handle: r.value, ckr: r.ckr };
}

function keep(ctx: StepContext, h: Handle): void {
  ctx.session.track(h, false);
  ctx.state.mine.push(h);
}

const unsupported = (ckr: Ckr) => ckr.name === "CKR_MECHANISM_INVALID" || ckr.name === "CKR_FUNCTION_NOT_SUPPORTED";

/**
 * A key with two roles was refused: a refusal of the combination only if the same key with the first
 * role alone is made (else the token cannot make such keys at all, and the row cannot be checked).
 */
function refusedRoles(ctx: StepContext, fn: string, ckr: Ckr, what: string, control: () => { ckr: Ckr }): void {
  if (unsupported(ckr)) throw new DependencyFailure("unsupported", `${fn} returned ${formatCkr(ckr)}`, fn, ckr);
  const c = control();
  if (c.ckr.name !== "CKR_OK")
    throw new CannotCheck(
      `${fn} ${what} returned ${formatCkr(ckr)}, and without the second role ${formatCkr(c.ckr)}: the token makes no such key here`,
      fn,
    );
  refused(ctx, fn, ckr, `${what} (the same key with one role is made)`);
}

/** The target key must exist for the row to mean anything: a token that cannot make it cannot be checked. */
function need(made: { handle?: Handle; ckr: Ckr }, what: string, fn = "C_GenerateKey"): Handle {
  if (made.handle) return made.handle;
  if (unsupported(made.ckr))
    throw new DependencyFailure("unsupported", `the token makes no AES keys (${what})`, fn, made.ckr);
  throw new CannotCheck(`the row needs ${what}, and ${fn} returned ${formatCkr(made.ckr)}`, fn);
}

/** The AES wrapping mechanisms the token lists, with their parameters resolved. */
function wrapMechanisms(ctx: StepContext): ResolvedMechanism[] {
  const offered = AES_WRAP_MECHANISMS.filter((m) => ctx.session.mechanisms.has(code(`CKM_${m}`)));
  if (!offered.length)
    throw new DependencyFailure("unsupported", `the token lists none of ${AES_WRAP_MECHANISMS.join(", ")}`);
  return offered.map((name) => mechanism(ctx.session, ctx.state, { name }));
}

/** Whether `value` is the AES key behind `handle`: the token's AES-ECB (or CBC-PAD) of a block against node:crypto's. */
function sameAesKey(ctx: StepContext, handle: Handle, value: Buffer): string {
  const { session, state, tok } = ctx;
  const name = session.mechanisms.has(code("CKM_AES_ECB")) ? "AES_ECB" : "AES_CBC_PAD";
  const m = mechanism(session, state, { name });
  const block = randomBytes(16);
  const r = attempt(() => tok.encrypt(session.ops, m.pk, handle, [block]));
  if (!r.value) return `(not confirmed: C_Encrypt with it returned ${formatCkr(r.ckr)})`;
  return r.value.equals(oracle.encrypt(name, m.params, value, block))
    ? `node:crypto confirms it is the key (${name} of a block agrees with the token's)`
    : "(the bytes are not the key: node:crypto's encryption with them differs)";
}

function wrapDecrypt(ctx: StepContext): void {
  const { session, tok } = ctx;
  const target = need(
    aesKey(ctx, "target", { SENSITIVE: true, EXTRACTABLE: true, ENCRYPT: true }),
    "a sensitive AES key",
  );
  const kek = aesKey(ctx, "wrap-decrypt", { WRAP: true, DECRYPT: true, SENSITIVE: true });
  if (!kek.handle)
    return refusedRoles(ctx, "C_GenerateKey", kek.ckr, "of an AES key with CKA_WRAP and CKA_DECRYPT", () =>
      aesKey(ctx, "wrap-only", { WRAP: true, SENSITIVE: true }),
    );
  const answers: string[] = [];
  for (const m of wrapMechanisms(ctx)) {
    const w = attempt(() => tok.wrapKey(session.ops, m.pk, kek.handle!, target));
    if (!w.value) {
      answers.push(`C_WrapKey(${m.name}) ${w.ckr.name}`);
      continue;
    }
    const d = attempt(() => tok.decrypt(session.ops, m.pk, kek.handle!, [w.value!]));
    if (!d.value) {
      answers.push(`C_Decrypt(${m.name}) of the wrapped key ${d.ckr.name}`);
      continue;
    }
    throw weakness(
      "wrap-decrypt",
      "C_Decrypt",
      `C_WrapKey(${m.name}) of a CKA_SENSITIVE key under a key with CKA_WRAP and CKA_DECRYPT, then C_Decrypt(${m.name}) of the result with the same key returned ${d.value.length} bytes; ${sameAesKey(ctx, target, d.value)}`,
    );
  }
  refusedAll(ctx, answers);
}

/** A wrapping key whose value the caller knows (imported with C_CreateObject). */
function knownKek(ctx: StepContext): { handle: Handle; value: Buffer } {
  const value = randomBytes(16);
  return {
    handle: need(aesKey(ctx, "known-kek", { WRAP: true }, value), "an imported AES wrapping key", "C_CreateObject"),
    value,
  };
}

/** Wraps `target` under a known key with each mechanism; the first success is returned with node:crypto's unwrap. */
function wrapUnderKnown(
  ctx: StepContext,
  target: Handle,
): { m?: ResolvedMechanism; value?: Buffer; answers: string[]; codes: string[] } {
  const kek = knownKek(ctx);
  const answers: string[] = [];
  const codes: string[] = [];
  for (const m of wrapMechanisms(ctx)) {
    const w = attempt(() => ctx.tok.wrapKey(ctx.session.ops, m.pk, kek.handle, target));
    if (w.value) return { m, value: oracle.unwrapKey(m.name, kek.value, w.value, m.params), answers, codes };
    answers.push(`C_WrapKey(${m.name}) ${w.ckr.name}`);
    codes.push(w.ckr.name);
  }
  return { answers, codes };
}

function wrapKnownKey(ctx: StepContext, check: PolicyCheck): void {
  const flags: Flags =
    check === "wrap-known-key"
      ? { SENSITIVE: true, EXTRACTABLE: true, ENCRYPT: true }
      : check === "wrap-unextractable"
        ? { SENSITIVE: true, EXTRACTABLE: false, ENCRYPT: true }
        : { SENSITIVE: true, EXTRACTABLE: true, WRAP_WITH_TRUSTED: true, ENCRYPT: true };
  const made = aesKey(ctx, check, flags);
  if (!made.handle && check === "wrap-with-trusted" && made.ckr.name === "CKR_ATTRIBUTE_TYPE_INVALID")
    throw new DependencyFailure(
      "unsupported",
      "the token does not know CKA_WRAP_WITH_TRUSTED",
      "C_GenerateKey",
      made.ckr,
    );
  const target = need(made, `an AES key with ${Object.keys(flags).join(", ")}`);
  const got = wrapUnderKnown(ctx, target);
  if (!got.value || !got.m) {
    const wanted = check === "wrap-unextractable" ? "CKR_KEY_UNEXTRACTABLE" : "CKR_KEY_NOT_WRAPPABLE";
    if (check !== "wrap-known-key" && !got.codes.includes(wanted))
      ctx.state.verified.push(`the spec names ${wanted}; refused all the same`);
    return void ctx.state.verified.push(`refused: ${got.answers.join("; ")}`);
  }
  const what = Object.entries(flags)
    .map(([k, v]) => `CKA_${k}=${v}`)
    .join(", ");
  // What the token says the key is: a token that ignored the template is told apart from one that ignored the rule.
  const now = (["EXTRACTABLE", "WRAP_WITH_TRUSTED"] as const)
    .filter((a) => a in flags)
    .map((a) => {
      const r = attempt(() => ctx.tok.getAttribute(ctx.session.objects, target, code(`CKA_${a}`)));
      return `CKA_${a} ${r.value ? `reads back ${r.value.length > 0 && r.value[0] !== 0}` : `unreadable (${r.ckr.name})`}`;
    })
    .join(", ");
  throw weakness(
    check,
    "C_WrapKey",
    `C_WrapKey(${got.m.name}) of a key made with ${what} (${now}) under an AES key the caller imported (C_CreateObject with CKA_VALUE, not CKA_TRUSTED) returned CKR_OK; node:crypto unwrapped ${got.value.length} bytes and ${sameAesKey(ctx, target, got.value)}`,
  );
}

function sticky(ctx: StepContext, check: PolicyCheck): void {
  const { session, tok } = ctx;
  const sensitive = check.startsWith("sticky-sensitive");
  const attr = sensitive ? "SENSITIVE" : "EXTRACTABLE";
  const from = sensitive;
  const key = need(
    aesKey(ctx, check, { SENSITIVE: sensitive, EXTRACTABLE: !sensitive ? false : true, ENCRYPT: true }),
    `an AES key with CKA_${attr}=${from}`,
  );
  const change: Attr[] = [{ type: code(`CKA_${attr}`), value: !from }];
  const viaCopy = check.endsWith("-copy");
  const fn = viaCopy ? "C_CopyObject" : "C_SetAttributeValue";
  const r = attempt(() => {
    if (!viaCopy) {
      tok.setAttributes(session.objects, key, change);
      return key;
    }
    const copy = tok.copyObject(session.objects, key, [{ type: code("CKA_TOKEN"), value: false }, ...change]);
    keep(ctx, copy);
    return copy;
  });
  if (!r.value) return refused(ctx, fn, r.ckr, `with CKA_${attr}=${!from}`);
  const now = tok.getAttribute(session.objects, r.value, code(`CKA_${attr}`));
  const changed = now.length > 0 && (now[0] !== 0) === !from;
  const evidence = `${fn} with CKA_${attr}=${!from} on a key with CKA_${attr}=${from} returned CKR_OK and CKA_${attr} reads back ${changed ? !from : from}`;
  if (!changed)
    throw new Nonconformant(
      fn,
      `nonconformant: ${POLICY_RULES[check].rule}: ${evidence} (the spec requires the call to fail, CKR_ATTRIBUTE_READ_ONLY)`,
      OK,
    );
  if (sensitive) {
    const v = attempt(() => tok.getAttribute(session.objects, r.value!, code("CKA_VALUE")));
    throw weakness(
      check,
      fn,
      `${evidence}; C_GetAttributeValue(CKA_VALUE) then returned ${v.value ? `the ${v.value.length}-byte value` : formatCkr(v.ckr)}`,
    );
  }
  const got = wrapUnderKnown(ctx, r.value);
  throw weakness(
    check,
    fn,
    `${evidence}; ${got.value ? `C_WrapKey(${got.m!.name}) under a known key then exported it` : `wrapping it then failed (${got.answers.join("; ")})`}`,
  );
}

function separationSignDecrypt(ctx: StepContext): void {
  const { session, state, tok } = ctx;
  mechanism(session, state, { name: "RSA_PKCS_KEY_PAIR_GEN" });
  const bool = (k: string, v: boolean): Attr => ({ type: code(`CKA_${k}`), value: v });
  const common = [bool("TOKEN", false), runLabel(session, "policy-sign-decrypt")];
  const pub = [
    ...common,
    { type: code("CKA_MODULUS_BITS"), value: 2048 },
    { type: code("CKA_PUBLIC_EXPONENT"), value: Buffer.from([1, 0, 1]) },
    bool("VERIFY", true),
    bool("ENCRYPT", true),
  ];
  const priv = [...common, bool("PRIVATE", true), bool("SENSITIVE", true), bool("SIGN", true), bool("DECRYPT", true)];
  // A token that keeps every key in a slot picked by CKA_ID (ykcs11) makes no session keys: a key pair
  // with both roles would overwrite a slot and stay there.
  if (session.device.keys?.ids)
    throw new CannotCheck(
      "the token keeps every key in a slot chosen by CKA_ID; this row makes its key pair only as a session object",
    );
  const generate = (p: Attr[]) => {
    const made = attempt(() =>
      tok.generateKeyPair(session.objects, { mechanism: code("CKM_RSA_PKCS_KEY_PAIR_GEN") }, pub, p),
    );
    if (made.value) [made.value.publicKey, made.value.privateKey].forEach((h) => keep(ctx, h));
    return made;
  };
  const r = generate(priv);
  if (!r.value)
    return refusedRoles(ctx, "C_GenerateKeyPair", r.ckr, "of an RSA private key with CKA_SIGN and CKA_DECRYPT", () =>
      generate(priv.filter((a) => a.type !== code("CKA_DECRYPT"))),
    );
  const key = r.value.privateKey;
  const sign = mechanism(session, state, { name: "SHA256_RSA_PKCS" });
  const s = attempt(() => tok.sign(session.ops, sign.pk, key, [randomBytes(32)]));
  if (!s.value) return refused(ctx, "C_Sign", s.ckr, "with a key that also has CKA_DECRYPT");
  const dec = mechanism(session, state, { name: "RSA_PKCS" });
  const d = attempt(() =>
    tok.call("C_DecryptInit", undefined, () => tok.lib.C_DecryptInit(session.ops, dec.pk as never, key)),
  );
  session.resetOps();
  if (d.ckr.name !== "CKR_OK") return refused(ctx, "C_DecryptInit", d.ckr, "with a key that has signed");
  throw weakness(
    "separation-sign-decrypt",
    "C_DecryptInit",
    "C_GenerateKeyPair made an RSA private key with CKA_SIGN and CKA_DECRYPT both true; it signed (C_Sign CKM_SHA256_RSA_PKCS CKR_OK) and C_DecryptInit(CKM_RSA_PKCS) with it returned CKR_OK",
  );
}

function separationEncryptUnwrap(ctx: StepContext): void {
  const { session, tok } = ctx;
  const key = aesKey(ctx, "encrypt-unwrap", { ENCRYPT: true, UNWRAP: true, SENSITIVE: true });
  if (!key.handle)
    return refusedRoles(ctx, "C_GenerateKey", key.ckr, "of an AES key with CKA_ENCRYPT and CKA_UNWRAP", () =>
      aesKey(ctx, "encrypt-only", { ENCRYPT: true, SENSITIVE: true }),
    );
  const chosen = randomBytes(16);
  const answers: string[] = [];
  for (const m of wrapMechanisms(ctx)) {
    const e = attempt(() => tok.encrypt(session.ops, m.pk, key.handle!, [chosen]));
    if (!e.value) {
      answers.push(`C_Encrypt(${m.name}) ${e.ckr.name}`);
      continue;
    }
    const template: Attr[] = [
      { type: code("CKA_CLASS"), value: code("CKO_SECRET_KEY") },
      { type: code("CKA_KEY_TYPE"), value: code("CKK_AES") },
      { type: code("CKA_TOKEN"), value: false },
      { type: code("CKA_ENCRYPT"), value: true },
      runLabel(session, "policy-planted"),
    ];
    const u = attempt(() => tok.unwrapKey(session.objects, m.pk, key.handle!, e.value!, template));
    if (!u.value) {
      answers.push(`C_UnwrapKey(${m.name}) of the encryption ${u.ckr.name}`);
      continue;
    }
    keep(ctx, u.value);
    throw weakness(
      "separation-encrypt-unwrap",
      "C_UnwrapKey",
      `C_Encrypt(${m.name}) of 16 bytes the caller chose with a key with CKA_ENCRYPT and CKA_UNWRAP, then C_UnwrapKey(${m.name}) of the result with the same key made a key of that value; ${sameAesKey(ctx, u.value, chosen)}`,
    );
  }
  refusedAll(ctx, answers);
}

/** Changed copies of a signature: names and bytes. ECDSA's r||s halves are changed each; RSA's bytes anywhere. */
function mutations(sig: Buffer, ecdsa: boolean): [string, Buffer][] {
  const flip = (i: number, bit = 1) => {
    const b = Buffer.from(sig);
    b[i]! ^= bit;
    return b;
  };
  const half = sig.length / 2;
  const zero = (from: number, to: number) => {
    const b = Buffer.from(sig);
    b.fill(0, from, to);
    return b;
  };
  const common: [string, Buffer][] = [
    ["one byte cut off", sig.subarray(0, sig.length - 1)],
    ["all zeros", Buffer.alloc(sig.length)],
  ];
  return ecdsa
    ? [
        ["a bit of r flipped", flip(half - 1)],
        ["a bit of s flipped", flip(sig.length - 1)],
        ["r zero", zero(0, half)],
        ["s zero", zero(half, sig.length)],
        ...common,
      ]
    : [
        ["the last bit flipped", flip(sig.length - 1)],
        ["the first byte changed", flip(0, 0x40)],
        ["a middle bit flipped", flip(half, 0x10)],
        ...common,
      ];
}

function tokenSignature(ctx: StepContext, key: TokenKey, m: ResolvedMechanism, message: Buffer, input: Buffer): Buffer {
  const sig = ctx.tok.sign(ctx.session.ops, m.pk, signingHandle(key), [input]);
  const v = oracle.verifySignature(m.name, m.params, key.publicKey!, message, sig);
  if (!v.ok)
    throw new CannotCheck(
      `node:crypto rejects the token's own signature (${v.reason}): nothing valid to change`,
      "C_Sign",
    );
  return sig;
}

function mutatedSignature(ctx: StepContext, step: PolicyStep): void {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const m = mechanism(session, state, step.mechanism ?? { name: "ECDSA_SHA256" });
  const message = randomBytes(64);
  // What the token is given: the message, or for a raw mechanism (ECDSA, RSA_PKCS) its hash or DigestInfo.
  const input = oracle.signatureInput(m.name, m.params, message, curveOf(key.spec));
  // node:crypto signs with an imported key; a generated key's signature is the token's, checked by node:crypto.
  const by = key.privateKey ? "node:crypto's signature" : "the token's own signature (which node:crypto accepts)";
  const sig = key.privateKey
    ? oracle.sign(m.name, m.params, key.privateKey, message)
    : tokenSignature(ctx, key, m, message, input);
  const verify = (s: Buffer) => attempt(() => tok.verify(session.ops, m.pk, verifyingHandle(key), [input], s));
  const good = verify(sig);
  if (good.value !== true)
    throw new CannotCheck(
      `C_Verify rejects node:crypto's unchanged signature (${good.value === false ? "CKR_SIGNATURE_INVALID" : formatCkr(good.ckr)}): the token disagrees on valid ones`,
      "C_Verify",
    );
  const accepted: string[] = [];
  const answers: string[] = [];
  for (const [what, bad] of mutations(sig, m.name.includes("ECDSA"))) {
    const r = verify(bad);
    session.resetOps();
    if (r.value === true) accepted.push(what);
    else answers.push(`${what}: ${r.value === false ? "CKR_SIGNATURE_INVALID" : r.ckr.name}`);
  }
  if (accepted.length)
    throw weakness(
      "mutated-signature",
      "C_Verify",
      `C_Verify(${m.name}) returned CKR_OK for ${by} with ${accepted.join(", ")}`,
    );
  state.verified.push(`C_Verify(${m.name}) accepted ${by} and rejected every change: ${answers.join("; ")}`);
}

function mutatedTag(ctx: StepContext, step: PolicyStep): void {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  if (!key.secret || !key.secretHandle)
    throw new CannotCheck("node:crypto needs the AES key's value: import it (source: import)");
  const m = mechanism(session, state, step.mechanism ?? { name: "AES_GCM" });
  const plaintext = randomBytes(48);
  const sealed = oracle.encrypt(m.name, m.params, key.secret, plaintext);
  const open = (c: Buffer) => attempt(() => tok.decrypt(session.ops, m.pk, key.secretHandle!, [c]));
  const good = open(sealed);
  if (!good.value?.equals(plaintext))
    throw new CannotCheck(
      `C_Decrypt of node:crypto's unchanged ${m.name} ciphertext did not give the plaintext (${formatCkr(good.ckr)})`,
      "C_Decrypt",
    );
  const flip = (i: number) => {
    const b = Buffer.from(sealed);
    b[i]! ^= 1;
    return b;
  };
  const changes: [string, Buffer][] = [
    ["a bit of the tag flipped", flip(sealed.length - 1)],
    ["a bit of the ciphertext flipped", flip(0)],
    ["the tag cut to 15 bytes", sealed.subarray(0, sealed.length - 1)],
    ["the tag zeroed", Buffer.concat([sealed.subarray(0, sealed.length - 16), Buffer.alloc(16)])],
  ];
  const accepted: string[] = [];
  const answers: string[] = [];
  for (const [what, bad] of changes) {
    const r = open(bad);
    session.resetOps();
    if (r.value) accepted.push(what);
    else answers.push(`${what}: ${r.ckr.name}`);
  }
  if (accepted.length)
    throw weakness(
      "mutated-tag",
      "C_Decrypt",
      `C_Decrypt(${m.name}) returned CKR_OK for node:crypto's ciphertext with ${accepted.join(", ")}`,
    );
  state.verified.push(
    `C_Decrypt(${m.name}) opened node:crypto's ciphertext and rejected every change: ${answers.join("; ")}`,
  );
}

async function policyStep(ctx: StepContext, step: PolicyStep): Promise<void> {
  if (!ctx.session.isLoggedIn() && ctx.session.device.pins.user !== undefined) ctx.session.login();
  try {
    switch (step.check) {
      case "wrap-decrypt":
        return wrapDecrypt(ctx);
      case "wrap-known-key":
      case "wrap-unextractable":
      case "wrap-with-trusted":
        return wrapKnownKey(ctx, step.check);
      case "sticky-sensitive-set":
      case "sticky-extractable-set":
      case "sticky-sensitive-copy":
      case "sticky-extractable-copy":
        return sticky(ctx, step.check);
      case "separation-sign-decrypt":
        return separationSignDecrypt(ctx);
      case "separation-encrypt-unwrap":
        return separationEncryptUnwrap(ctx);
      case "mutated-signature":
        return mutatedSignature(ctx, step);
      case "mutated-tag":
        return mutatedTag(ctx, step);
    }
  } finally {
    ctx.session.resetOps();
  }
}

export const policySteps = { policy: policyStep };
