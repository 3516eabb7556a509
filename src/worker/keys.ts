// Keys the cases work with: generated on the token or imported from node:crypto, made once per
// (spec, source, template) and reused. Each key also carries node:crypto's view of it, so every
// later check is independent of the token: the public key parsed from the token's attributes, or
// for imports the original key pair; secret values where the token lets them be read.
import type { KeyObject } from "node:crypto";
import { code } from "../pkcs11/constants.js";
import type { Attr } from "../pkcs11/attributes.js";
import { mergeTemplates } from "../template/encode.js";
import { Pkcs11CallError } from "../pkcs11/errors.js";
import type { Handle } from "../pkcs11/token.js";
import { KEY_TYPES, type KeySpec } from "../catalogue/keys.js";
import type { KeyStep } from "../suite/model.js";
import { keyCacheKey } from "../plan/identity.js";
import { ecParamsFor, generateNodeKey, importTemplates, publicKeyFromToken, type NodeKey } from "../crypto/keys.js";
import { DependencyFailure, VerificationFailure } from "./outcomes.js";
import { classifyTokenError } from "./classify.js";
import type { TokenSession } from "./session.js";

export interface TokenKey {
  name: string;
  spec: KeySpec;
  source: "generate" | "import";
  publicHandle?: Handle;
  privateHandle?: Handle;
  secretHandle?: Handle;
  /** node:crypto's copy: public key always for asymmetric keys; private key and secret when known. */
  publicKey?: KeyObject;
  privateKey?: KeyObject;
  secret?: Buffer;
  /** What was checked independently when the key was made. */
  checked: string;
  /** Its CKA_ID (hex) on a token that picks the key slot by CKA_ID (keys.ids). */
  id?: string;
}

type Failure = { failure: DependencyFailure };

const bool = (name: string, value: boolean): Attr => ({ type: code(name), value });

function isAsymmetric(spec: KeySpec): boolean {
  return spec.type === "RSA" || spec.type === "EC" || spec.type === "EC_EDWARDS";
}

/** node:crypto keys made for imports, by name and spec; a worker fills it from its first message on (prefetch). */
export type NodeKeyCache = Map<string, Promise<NodeKey>>;

/** The cached node:crypto key, started now if it was not yet. */
export function nodeKeyIn(cache: NodeKeyCache, name: string, spec: KeySpec): Promise<NodeKey> {
  const id = JSON.stringify([name, spec]);
  let key = cache.get(id);
  if (!key) cache.set(id, (key = generateNodeKey(spec)));
  return key;
}

export class KeyStore {
  private cache = new Map<string, TokenKey | Failure>();
  private epoch: number;
  /** keys.ids: the CKA_IDs of this run's keys that are still on the token (a cached or a fresh key). */
  private live = new Set<string>();
  /** The id diagnosis experiments write under (diagnosisId). */
  private experiment?: string;

  /** `nodeKeys`: reused across sources and runs of the same spec (and begun before this store, by prefetch). */
  constructor(
    private readonly session: TokenSession,
    private readonly nodeKeys: NodeKeyCache = new Map(),
  ) {
    this.epoch = session.loginEpoch;
  }

  /** After a logout the token may have destroyed private keys: drop the cache and what is left of it. */
  private forgetIfLoggedOut(): void {
    if (this.epoch === this.session.loginEpoch) return;
    this.epoch = this.session.loginEpoch;
    for (const entry of this.cache.values()) {
      if ("failure" in entry) continue;
      for (const h of [entry.publicHandle, entry.privateHandle, entry.secretHandle]) if (h) this.session.dispose(h);
      if (entry.id) this.live.delete(entry.id);
    }
    this.cache.clear();
  }

  /** After the module was initialised again: its keys are gone; what could not be made still cannot. */
  forgetKeys(): void {
    for (const [k, entry] of this.cache) {
      if ("failure" in entry) continue;
      this.cache.delete(k);
      if (entry.id) this.live.delete(entry.id);
    }
  }

  async obtain(name: string, spec: KeySpec, step: KeyStep): Promise<TokenKey> {
    this.forgetIfLoggedOut();
    const cacheKey = keyCacheKey(step, spec);
    const hit = step.fresh ? undefined : this.cache.get(cacheKey);
    if (hit && "failure" in hit) {
      const f = hit.failure;
      // The first case that needed the key carried its real outcome; later ones say why they could not run.
      const outcome = f.outcome === "unsupported" ? "unsupported" : "skipped";
      throw new DependencyFailure(
        outcome,
        `needs key ${name} (${step.source}), which could not be made: ${f.message}`,
        f.fn,
        f.ckr,
      );
    }
    if (hit) return hit;
    try {
      const key =
        step.source === "generate" ? await this.generate(name, spec, step) : await this.import(name, spec, step);
      if (!step.fresh) this.cache.set(cacheKey, key);
      return key;
    } catch (err) {
      if (!step.fresh) this.cache.set(cacheKey, { failure: asDependency(err, step) });
      throw err;
    }
  }

  nodeKey(name: string, spec: KeySpec): Promise<NodeKey> {
    return nodeKeyIn(this.nodeKeys, name, spec);
  }

  /**
   * CKA_ID for a key the run makes: the spec's name, or with keys.ids (a token that picks the key slot
   * by CKA_ID, such as a YubiKey through ykcs11) the first allowed id that is free. This is where the
   * slot safety rules hold, whatever the profile says:
   * - an id that any object on the token has (a key, a certificate) is never taken, nor one the
   *   pre-flight found occupied before the run, unless it is listed in keys.overwrite (which the worker
   *   accepts only on the token whose serial the user confirmed) or this run itself wrote a key there;
   * - a protected id (a YubiKey's 9a, 9c, 9d, 9e and f9) is taken only when listed in keys.overwrite;
   * - an id holding one of this run's keys still in use is never taken for another.
   * The id is then claimed: TokenSession refuses any write with another CKA_ID. No free id: the case
   * is skipped, and nothing is written.
   */
  private keyId(name: string): Buffer {
    const policy = this.session.device.keys;
    const ids = policy?.ids;
    if (!ids) return Buffer.from(`${name}`.slice(0, 16));
    const s = this.session;
    const overwrite = new Set(policy.overwrite ?? []);
    const protect = new Set(policy.protect ?? []);
    const before = new Set(policy.occupied ?? []);
    const own = new Set([...(policy.own ?? []), ...s.written]);
    const why = { inUse: [] as string[], occupied: [] as string[], protected: [] as string[] };
    for (const hex of ids) {
      if (this.live.has(hex)) {
        why.inUse.push(hex);
        continue;
      }
      const allowed = overwrite.has(hex);
      if (protect.has(hex) && !allowed) {
        why.protected.push(hex);
        continue;
      }
      const id = Buffer.from(hex, "hex");
      const present = before.has(hex) || s.token.find(s.objects, [{ type: code("CKA_ID"), value: id }]).length > 0;
      if (present && !allowed && !own.has(hex)) {
        why.occupied.push(hex);
        continue;
      }
      s.claimed.add(hex);
      return id;
    }
    const list = (hexes: string[]) => hexes.map((h) => s.idName(h)).join(", ");
    const parts = [
      why.occupied.length && `${list(why.occupied)} held a key or certificate (occupied slots are never written)`,
      why.protected.length && `${list(why.protected)} protected`,
      why.inUse.length && `${list(why.inUse)} in use by this run's other keys`,
    ].filter(Boolean);
    throw new DependencyFailure(
      "skipped",
      `no free slot for key ${name}: every CKA_ID this run may write is taken (${parts.join("; ")}${policy.occupied?.length ? "; other slots were occupied before the run or are protected" : ""}); nothing was written. ` +
        `Free a slot, or allow one to be overwritten (p11compat run --allow-overwrite SLOT --serial SERIAL)`,
    );
  }

  /**
   * On a token whose CKA_ID picks a key slot: a CKA_ID the run may write in place of a foreign one
   * (a client's own id in a suite template) while diagnosis experiments replay a failed call. It
   * is claimed like any key's id and reused for every diagnosis; none when no slot is free.
   */
  diagnosisId(): Buffer | undefined {
    if (!this.session.device.keys?.ids) return undefined;
    if (this.experiment && !this.live.has(this.experiment)) return Buffer.from(this.experiment, "hex");
    try {
      const id = this.keyId("diagnosis");
      this.experiment = id.toString("hex");
      return id;
    } catch (err) {
      if (err instanceof DependencyFailure) return undefined;
      throw err;
    }
  }

  private common(id: Buffer, label: string): Attr[] {
    const { tokenObjects, labelPrefix } = this.session.device;
    return [
      bool("CKA_TOKEN", tokenObjects),
      { type: code("CKA_LABEL"), value: Buffer.from(`${labelPrefix}${label}`) },
      { type: code("CKA_ID"), value: id },
    ];
  }

  private async generate(name: string, spec: KeySpec, step: KeyStep): Promise<TokenKey> {
    const s = this.session;
    let id: Buffer;
    try {
      id = this.keyId(name);
    } catch (err) {
      // No slot to try it in: a mechanism the token does not list is still reported as unsupported.
      const mechanism = isAsymmetric(spec) ? keyPairTemplates(spec).mechanism : secretTemplate(spec).mechanism;
      if (err instanceof DependencyFailure && s.mechanisms.size && !s.mechanisms.has(code(mechanism))) {
        throw new DependencyFailure(
          "unsupported",
          `${mechanism} is not in the token's mechanism list (not tried: ${err.message.split(":")[0]})`,
        );
      }
      throw err;
    }
    const key: TokenKey = { name, spec, source: "generate", checked: "key generated", id: this.slotted(id) };
    if (s.device.yubikey && spec.type === "RSA") {
      s.notify?.({
        kind: "progress",
        text: `generating an RSA ${spec.bits} key in ${s.idName(id.toString("hex"))} on the YubiKey: this takes several seconds`,
      });
    }
    const made = s.asKeyManager(() => this.generateAs(key, id, spec, step), step.login);
    if (key.id) this.live.add(key.id);
    return made;
  }

  /** The id as a slot (keys.ids), for the live set; undefined on other tokens. */
  private slotted(id: Buffer): string | undefined {
    return this.session.device.keys?.ids ? id.toString("hex") : undefined;
  }

  private generateAs(key: TokenKey, id: Buffer, spec: KeySpec, step: KeyStep): TokenKey {
    const s = this.session;
    const name = key.name;
    // exact: the client's templates as recorded, nothing of the harness's own.
    const base = (attrs: Attr[]) => (step.exact ? [] : attrs);
    if (isAsymmetric(spec)) {
      const { mechanism, pub, priv } = keyPairTemplates(spec);
      const pubT = mergeTemplates(base([...this.common(id, name), ...pub]), step.template?.public ?? {});
      const privT = mergeTemplates(
        base([...this.common(id, name), bool("CKA_PRIVATE", true), bool("CKA_SENSITIVE", true), ...priv]),
        step.template?.private ?? {},
      );
      const pair = s.token.generateKeyPair(s.objects, { mechanism: code(mechanism) }, pubT, privT);
      s.track(pair.publicKey, s.device.tokenObjects);
      s.track(pair.privateKey, s.device.tokenObjects);
      s.keysGenerated++;
      key.publicHandle = pair.publicKey;
      key.privateHandle = pair.privateKey;
      key.publicKey = this.readPublicKey(spec, pair.publicKey, "C_GenerateKeyPair");
      key.checked = "public key attributes parsed by node:crypto";
    } else {
      const { mechanism, attrs } = secretTemplate(spec);
      const t = mergeTemplates(base([...this.common(id, name), ...attrs]), step.template?.secret ?? {});
      key.secretHandle = s.token.generateKey(s.objects, { mechanism: code(mechanism) }, t);
      s.track(key.secretHandle, s.device.tokenObjects);
      s.keysGenerated++;
      key.secret = this.readSecret(spec, key.secretHandle, "C_GenerateKey");
      key.checked = key.secret ? "secret key length checked" : "key generated (its value cannot be read)";
    }
    return key;
  }

  private async import(name: string, spec: KeySpec, step: KeyStep): Promise<TokenKey> {
    const s = this.session;
    const node = await this.nodeKey(name, spec);
    const t = importTemplates(node);
    const id = this.keyId(name);
    const key: TokenKey = {
      name,
      spec,
      source: "import",
      publicKey: node.publicKey,
      privateKey: node.privateKey,
      secret: node.secret,
      checked: "",
      id: this.slotted(id),
    };
    // A half-made import (a private key without its public key) also sits in the slot: it stays live.
    if (key.id) this.live.add(key.id);
    try {
      return s.asKeyManager(() => this.importAs(key, id, spec, step, t), step.login);
    } catch (err) {
      if (key.id && !key.privateHandle && !key.secretHandle) this.live.delete(key.id);
      throw err;
    }
  }

  private importAs(
    key: TokenKey,
    id: Buffer,
    spec: KeySpec,
    step: KeyStep,
    t: ReturnType<typeof importTemplates>,
  ): TokenKey {
    const s = this.session;
    const name = key.name;
    const node = { publicKey: key.publicKey, secret: key.secret };
    if (isAsymmetric(spec)) {
      const usage = keyPairTemplates(spec);
      const privT = mergeTemplates(
        [
          ...this.common(id, name),
          bool("CKA_PRIVATE", true),
          bool("CKA_SENSITIVE", true),
          ...usage.priv.filter(isUsage),
          ...t.private!,
        ],
        step.template?.private ?? {},
      );
      const pubT = mergeTemplates(
        [...this.common(id, name), ...usage.pub.filter(isUsage), ...t.public!],
        step.template?.public ?? {},
      );
      key.privateHandle = s.token.createObject(s.objects, privT);
      s.track(key.privateHandle, s.device.tokenObjects);
      key.publicHandle = s.token.createObject(s.objects, pubT);
      s.track(key.publicHandle, s.device.tokenObjects);
      // The token's encoding of the imported public key must describe the same key.
      const parsed = this.readPublicKey(spec, key.publicHandle, "C_CreateObject");
      const same = parsed
        .export({ format: "der", type: "spki" })
        .equals(node.publicKey!.export({ format: "der", type: "spki" }));
      if (!same)
        throw new VerificationFailure("C_GetAttributeValue", "the public key read back differs from the one imported");
      key.checked = "imported public key read back and compared by node:crypto";
    } else {
      const usage = secretTemplate(spec).attrs.filter(isUsage);
      const t2 = mergeTemplates([...this.common(id, name), ...usage, ...t.secret!], step.template?.secret ?? {});
      key.secretHandle = s.token.createObject(s.objects, t2);
      s.track(key.secretHandle, s.device.tokenObjects);
      const back = this.readSecret(spec, key.secretHandle, "C_CreateObject");
      if (back && !back.equals(node.secret!))
        throw new VerificationFailure(
          "C_GetAttributeValue",
          "the secret key read back differs from the one imported",
          "CKA_VALUE",
        );
      key.checked = back ? "imported secret read back and compared" : "secret imported (its value cannot be read back)";
    }
    return key;
  }

  /** node:crypto's parse of the token's public key attributes; a wrong encoding is a failure. */
  private readPublicKey(spec: KeySpec, handle: Handle, fn: string): KeyObject {
    const s = this.session;
    const get = (attr: string) => s.token.getAttribute(s.objects, handle, code(attr));
    const attrs =
      spec.type === "RSA"
        ? { modulus: get("CKA_MODULUS"), publicExponent: get("CKA_PUBLIC_EXPONENT") }
        : { ecParams: get("CKA_EC_PARAMS"), ecPoint: get("CKA_EC_POINT") };
    let parsed;
    try {
      parsed = publicKeyFromToken(spec.type as "RSA" | "EC" | "EC_EDWARDS", attrs);
    } catch (err) {
      const e = err as Error & { attribute?: string };
      throw new VerificationFailure("C_GetAttributeValue", `public key from ${fn}: ${e.message}`, e.attribute);
    }
    const jwk = parsed.key.export({ format: "jwk" });
    if (spec.type === "RSA") {
      const bits = Buffer.from(jwk.n!, "base64url").length * 8;
      if (bits !== spec.bits)
        throw new VerificationFailure(
          fn,
          `asked for a ${spec.bits}-bit RSA key, the modulus has ${bits} bits`,
          "CKA_MODULUS",
        );
      const e = BigInt(`0x${Buffer.from(jwk.e!, "base64url").toString("hex")}`);
      const want = BigInt(spec.publicExponent ?? 65537);
      if (e !== want)
        throw new VerificationFailure(fn, `asked for public exponent ${want}, the key has ${e}`, "CKA_PUBLIC_EXPONENT");
    }
    return parsed.key;
  }

  private readSecret(spec: KeySpec, handle: Handle, fn: string): Buffer | undefined {
    const s = this.session;
    let value: Buffer;
    try {
      value = s.token.getAttribute(s.objects, handle, code("CKA_VALUE"));
    } catch (err) {
      // A token may insist on sensitive keys; later steps then say they cannot check independently.
      if (err instanceof Pkcs11CallError && err.is("CKR_ATTRIBUTE_SENSITIVE")) return undefined;
      throw err;
    }
    const bits = (spec as { bits: number }).bits;
    if (value.length * 8 !== bits)
      throw new VerificationFailure(
        fn,
        `asked for a ${bits}-bit key, CKA_VALUE has ${value.length * 8} bits`,
        "CKA_VALUE",
      );
    return Buffer.from(value);
  }
}

const USAGE = new Set(
  [
    "CKA_SIGN",
    "CKA_VERIFY",
    "CKA_ENCRYPT",
    "CKA_DECRYPT",
    "CKA_WRAP",
    "CKA_UNWRAP",
    "CKA_DERIVE",
    "CKA_EXTRACTABLE",
    "CKA_SENSITIVE",
  ].map(code),
);
const isUsage = (a: Attr) => USAGE.has(a.type);

export function keyPairTemplates(spec: KeySpec): { mechanism: string; pub: Attr[]; priv: Attr[] } {
  switch (spec.type) {
    case "RSA": {
      const e = BigInt(spec.publicExponent ?? 65537).toString(16);
      return {
        mechanism: KEY_TYPES.RSA.keyGen,
        pub: [
          { type: code("CKA_MODULUS_BITS"), value: spec.bits },
          { type: code("CKA_PUBLIC_EXPONENT"), value: Buffer.from(e.length % 2 ? `0${e}` : e, "hex") },
          bool("CKA_VERIFY", true),
          bool("CKA_ENCRYPT", true),
          bool("CKA_WRAP", true),
        ],
        priv: [bool("CKA_SIGN", true), bool("CKA_DECRYPT", true), bool("CKA_UNWRAP", true)],
      };
    }
    case "EC":
      return {
        mechanism: KEY_TYPES.EC.keyGen,
        pub: [{ type: code("CKA_EC_PARAMS"), value: ecParamsFor(spec.curve) }, bool("CKA_VERIFY", true)],
        priv: [bool("CKA_SIGN", true), bool("CKA_DERIVE", true)],
      };
    case "EC_EDWARDS":
      return {
        mechanism: KEY_TYPES.EC_EDWARDS.keyGen,
        pub: [{ type: code("CKA_EC_PARAMS"), value: ecParamsFor(spec.curve) }, bool("CKA_VERIFY", true)],
        priv: [bool("CKA_SIGN", true)],
      };
    default:
      throw new Error(`${spec.type} is not a key pair`);
  }
}

/** Test keys are made readable (not sensitive, extractable) so node:crypto can check what they do. */
export function secretTemplate(spec: KeySpec): { mechanism: string; attrs: Attr[] } {
  const readable = [bool("CKA_SENSITIVE", false), bool("CKA_EXTRACTABLE", true)];
  switch (spec.type) {
    case "AES":
      return {
        mechanism: KEY_TYPES.AES.keyGen,
        attrs: [
          { type: code("CKA_CLASS"), value: code("CKO_SECRET_KEY") },
          { type: code("CKA_KEY_TYPE"), value: code("CKK_AES") },
          { type: code("CKA_VALUE_LEN"), value: spec.bits / 8 },
          bool("CKA_ENCRYPT", true),
          bool("CKA_DECRYPT", true),
          bool("CKA_WRAP", true),
          bool("CKA_UNWRAP", true),
          ...readable,
        ],
      };
    case "GENERIC_SECRET":
      return {
        mechanism: KEY_TYPES.GENERIC_SECRET.keyGen,
        attrs: [
          { type: code("CKA_CLASS"), value: code("CKO_SECRET_KEY") },
          { type: code("CKA_KEY_TYPE"), value: code("CKK_GENERIC_SECRET") },
          { type: code("CKA_VALUE_LEN"), value: spec.bits / 8 },
          bool("CKA_SIGN", true),
          bool("CKA_VERIFY", true),
          ...readable,
        ],
      };
    default:
      throw new Error(`${spec.type} is not a secret key`);
  }
}

function asDependency(err: unknown, step: KeyStep): DependencyFailure {
  if (err instanceof DependencyFailure) return err;
  if (err instanceof Pkcs11CallError) {
    const c = classifyTokenError(err, { mechanism: undefined, step: step.op });
    return new DependencyFailure(c.outcome, c.message, err.fn, err.ckr);
  }
  if (err instanceof VerificationFailure) return new DependencyFailure("fail", err.message, err.fn);
  return new DependencyFailure("error", (err as Error).message);
}
