// `p11compat speed` inside the worker: the keys (made through the run's KeyStore, so a YubiKey's slot
// rules hold), then for each operation two loops on the same key and session, interleaved in short
// rounds so that drift hits both alike: the harness's traced token layer with every result checked by
// node:crypto (outside the timing), and a bare pkcs11js loop making the same calls. The worker sends
// back each operation's latencies; the runner (src/runner/speed.ts) turns them into figures.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import type { SpeedResult } from "../contract/speed.js";
import type { KeySpec } from "../catalogue/keys.js";
import { KEY_TYPES } from "../catalogue/keys.js";
import { CURVES } from "../catalogue/curves.js";
import { resolveMechanism, type ResolvedMechanism } from "../catalogue/params.js";
import { code } from "../pkcs11/constants.js";
import type { Attr } from "../pkcs11/attributes.js";
import type { Handle } from "../pkcs11/token.js";
import * as oracle from "../crypto/oracle.js";
import { keyBits } from "../crypto/keys.js";
import { keyPairTemplates, secretTemplate, type KeyStore, type TokenKey } from "./keys.js";
import { DependencyFailure } from "./outcomes.js";
import { curveOf, runLabel, signingHandle, verifyingHandle } from "./steps/context.js";
import type { TokenSession } from "./session.js";

/** What the runner asks for. */
export interface SpeedJob {
  /** Only these mechanisms (CKM_ names); all by default. */
  mechanisms?: string[];
  /** At most this many key generations per key type and loop (keys.ids tokens: a YubiKey's flash). */
  keyGenerations?: number;
}

/** An operation as planned in the worker: whether it can be measured, and how its results are checked. */
export type SpeedPlanned = Pick<
  SpeedResult,
  "id" | "op" | "mechanism" | "key" | "dataBytes" | "status" | "message" | "checked"
> & {
  /** No raw loop, and why (a raw key generation would write outside the slot guard). */
  noRaw?: string;
};

/** One loop's latencies (microseconds, each operation whose result was right) and its failures. */
export interface LoopSamples {
  us: Float64Array;
  errors: number;
  firstError?: string;
}

export interface SpeedSamples {
  harness: LoopSamples;
  raw?: LoopSamples;
}

interface Timed {
  us: number;
  check: () => string | undefined;
  after?: () => void;
}

/**
 * One operation's two loops. The raw loop is what a bare pkcs11js client writes (as in src/bench): the
 * init and the call, an output buffer allocated per call, no trace, no check.
 * `harness` times only the token call and returns the check to run after it.
 */
interface Bench {
  planned: SpeedPlanned;
  harness(): Timed | Promise<Timed>;
  raw?: () => number;
  /** A bound on operations per loop (key generations on a YubiKey). */
  maxOps?: number;
}

const KIB = 1024;
const MIB = 1024 * 1024;
const bool = (name: string, value: boolean): Attr => ({ type: code(name), value });
const us = (t0: number) => (performance.now() - t0) * 1000;
const bitsOf = (spec: KeySpec) => ("bits" in spec ? spec.bits : CURVES[spec.curve].bits);
const name = (spec: KeySpec) =>
  spec.type === "EC" || spec.type === "EC_EDWARDS" ? spec.curve : `${spec.type}-${(spec as { bits: number }).bits}`;

/**
 * A full garbage collection, run outside the timing before each operation on large data: a 1 MiB
 * operation allocates its output inside the call (pkcs11js needs the buffer), and a collection that
 * the checks' garbage triggers there would land on whichever loop allocates next (seen: medians 30x
 * apart on a busy machine). The worker is forked without --expose-gc; V8 can turn it on at run time.
 */
let collect: (() => void) | undefined;
function collector(): () => void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  return collect;
}
const LARGE = 64 * KIB;

// For the tests: every other result is damaged before its check, which must count it as an error.
let tampered = 0;
const tamper = process.env.P11COMPAT_TEST_SPEED_CORRUPT === "1";
function damaged<T extends Buffer | boolean>(r: T): T {
  if (!tamper || tampered++ % 2) return r;
  if (typeof r === "boolean") return !r as T;
  const copy = Buffer.from(r);
  copy[0] = copy[0]! ^ 1;
  return copy as T;
}

interface KeyNeed {
  spec: KeySpec;
  source: "generate" | "import";
}
const KEYS = {
  rsa: { spec: { type: "RSA", bits: 2048 }, source: "generate" },
  rsaImported: { spec: { type: "RSA", bits: 2048 }, source: "import" },
  ec: { spec: { type: "EC", curve: "P-256" }, source: "generate" },
  aes: { spec: { type: "AES", bits: 256 }, source: "generate" },
  aesTarget: { spec: { type: "AES", bits: 128 }, source: "generate" },
} satisfies Record<string, KeyNeed>;
type KeyName = keyof typeof KEYS;

/** The operations measured by default: mechanism, key and data size. */
const SIGN: { mechanism: string; key: KeyName; params?: object }[] = [
  { mechanism: "CKM_SHA256_RSA_PKCS", key: "rsa" },
  { mechanism: "CKM_SHA256_RSA_PKCS_PSS", key: "rsa" },
  { mechanism: "CKM_ECDSA", key: "ec" },
  { mechanism: "CKM_ECDSA_SHA256", key: "ec" },
];
// Encrypting with a public key needs node:crypto to hold the private one (an imported key); decrypting
// needs only the public key, so the generated key does (a YubiKey may refuse imports that it generates).
const CIPHER: { mechanism: string; encryptKey: KeyName; decryptKey: KeyName; sizes: number[] }[] = [
  { mechanism: "CKM_AES_GCM", encryptKey: "aes", decryptKey: "aes", sizes: [KIB, MIB] },
  { mechanism: "CKM_AES_CBC_PAD", encryptKey: "aes", decryptKey: "aes", sizes: [KIB, MIB] },
  { mechanism: "CKM_RSA_PKCS_OAEP", encryptKey: "rsaImported", decryptKey: "rsa", sizes: [32] },
];
const DIGEST = ["CKM_SHA256", "CKM_SHA512"];
const GENERATE: KeyNeed[] = [KEYS.aes, KEYS.ec, KEYS.rsa];
const WRAP = ["CKM_AES_KEY_WRAP", "CKM_AES_KEY_WRAP_PAD"];

export class SpeedBench {
  private benches = new Map<string, Bench>();
  private keys = new Map<KeyName, TokenKey | Error>();

  constructor(
    private readonly session: TokenSession,
    private readonly store: KeyStore,
  ) {}

  /** Makes the keys the wanted operations need and lists every operation with whether it can be measured. */
  async plan(job: SpeedJob): Promise<SpeedPlanned[]> {
    const wanted = (mech: string) => !job.mechanisms?.length || job.mechanisms.includes(mech);
    const out: SpeedPlanned[] = [];
    const add = async (
      p: Omit<SpeedPlanned, "status">,
      keys: KeyName[],
      make: (k: TokenKey[]) => Omit<Bench, "planned">,
    ) => {
      if (!wanted(p.mechanism)) return;
      const planned: SpeedPlanned = { ...p, status: "measured" };
      out.push(planned);
      if (!this.listed(p.mechanism)) {
        Object.assign(planned, {
          status: "unsupported",
          message: `${p.mechanism} is not in the token's mechanism list`,
        });
        return;
      }
      try {
        const ks = [];
        for (const k of keys) ks.push(await this.key(k));
        this.benches.set(p.id, { planned, ...make(ks) });
      } catch (err) {
        const unsupported = err instanceof DependencyFailure && err.outcome === "unsupported";
        Object.assign(planned, { status: unsupported ? "unsupported" : "error", message: (err as Error).message });
      }
    };
    for (const s of SIGN) {
      const spec = KEYS[s.key].spec;
      const base = { mechanism: s.mechanism, key: name(spec), dataBytes: KIB };
      await add(
        {
          ...base,
          id: `sign/${s.mechanism}/${name(spec)}/${KIB}`,
          op: "sign",
          checked: "signature verified by node:crypto",
        },
        [s.key],
        ([k]) => this.sign(k!, s.mechanism),
      );
      await add(
        {
          ...base,
          id: `verify/${s.mechanism}/${name(spec)}/${KIB}`,
          op: "verify",
          checked: "the token accepts node:crypto's signature",
        },
        [s.key],
        ([k]) => this.verify(k!, s.mechanism),
      );
    }
    for (const c of CIPHER) {
      const spec = KEYS[c.encryptKey].spec;
      for (const size of c.sizes) {
        const base = { mechanism: c.mechanism, key: name(spec), dataBytes: size };
        await add(
          {
            ...base,
            id: `encrypt/${c.mechanism}/${name(spec)}/${size}`,
            op: "encrypt",
            checked: "ciphertext decrypted by node:crypto",
          },
          [c.encryptKey],
          ([k]) => this.encrypt(k!, c.mechanism, size),
        );
        await add(
          {
            ...base,
            id: `decrypt/${c.mechanism}/${name(spec)}/${size}`,
            op: "decrypt",
            checked: "node:crypto's ciphertext decrypted to the same plaintext",
          },
          [c.decryptKey],
          ([k]) => this.decrypt(k!, c.mechanism, size),
        );
      }
    }
    for (const mech of DIGEST)
      for (const size of [KIB, MIB])
        await add(
          {
            id: `digest/${mech}/${size}`,
            op: "digest",
            mechanism: mech,
            dataBytes: size,
            checked: "recomputed by node:crypto",
          },
          [],
          () => this.digest(mech, size),
        );
    for (const need of GENERATE) {
      const mech = KEY_TYPES[need.spec.type].keyGen;
      const checked = KEY_TYPES[need.spec.type].pair
        ? "public key parsed by node:crypto, size compared"
        : "key value read back, length compared";
      const slots = !!this.session.device.keys?.ids;
      await add(
        {
          id: `generate/${mech}/${name(need.spec)}`,
          op: "generate",
          mechanism: mech,
          key: name(need.spec),
          checked,
          ...(slots ? { noRaw: "a bare key generation would write outside the harness's slot guard" } : {}),
        },
        [],
        () => this.generate(need.spec, slots ? job.keyGenerations : undefined, slots),
      );
    }
    for (const mech of WRAP)
      await add(
        {
          id: `wrap/${mech}/AES-256/AES-128`,
          op: "wrap",
          mechanism: mech,
          key: "AES-256",
          checked: "wrapped key unwrapped by node:crypto, value compared",
        },
        ["aes", "aesTarget"],
        ([k, t]) => this.wrap(k!, t!, mech),
      );
    return out;
  }

  /** Runs operation `id` for `seconds`: harness and raw loop in alternating rounds. */
  async measure(id: string, seconds: number): Promise<SpeedSamples> {
    const bench = this.benches.get(id);
    if (!bench) throw new Error(`no measurable operation ${id}`);
    const harness: number[] = [];
    const raw: number[] = [];
    const h: LoopSamples = { us: new Float64Array(), errors: 0 };
    const r: LoopSamples = { us: new Float64Array(), errors: 0 };
    const fail = (loop: LoopSamples, message: string) => {
      loop.errors++;
      loop.firstError ??= message;
    };
    const gc = (bench.planned.dataBytes ?? 0) >= LARGE ? collector() : undefined;
    const oneHarness = async () => {
      gc?.();
      try {
        const { us: t, check, after } = await bench.harness();
        try {
          const problem = check();
          if (problem) fail(h, problem);
          else harness.push(t);
        } finally {
          after?.();
        }
      } catch (err) {
        fail(h, (err as Error).message);
        this.session.resetOps();
      }
    };
    const oneRaw = () => {
      gc?.();
      try {
        raw.push(bench.raw!());
      } catch (err) {
        fail(r, (err as Error).message);
        this.session.resetOps();
      }
    };
    const tok = this.session.token;
    // Warm-up (not counted): the first calls pay for caches and lazy set-up in the module. Not for key
    // generation: nothing to warm, and an RSA key takes a second.
    if (bench.planned.op !== "generate") {
      for (let i = 0; i < 2; i++) {
        await oneHarness();
        if (bench.raw) oneRaw();
      }
      harness.length = raw.length = 0;
      h.errors = r.errors = 0;
      delete h.firstError;
      delete r.firstError;
    }
    // One of each in turn, so that drift (other processes, caches, clock) hits both loops alike, and
    // in alternating order: a garbage collection the checks' garbage causes lands on either loop.
    const end = performance.now() + seconds * 1000;
    const limit = bench.maxOps ?? Infinity;
    for (let n = 1; harness.length + h.errors < limit; n++) {
      if (bench.raw && n % 2) oneRaw();
      await oneHarness();
      if (bench.raw && !(n % 2)) oneRaw();
      if (n % 1000 === 0) tok.trace.reset();
      if (performance.now() >= end) break;
    }
    tok.trace.reset();
    h.us = Float64Array.from(harness);
    r.us = Float64Array.from(raw);
    return bench.raw ? { harness: h, raw: r } : { harness: h };
  }

  private listed(mech: string): boolean {
    const s = this.session;
    return !s.mechanisms.size || s.mechanisms.has(code(mech));
  }

  private async key(k: KeyName): Promise<TokenKey> {
    let got = this.keys.get(k);
    if (!got) {
      const { spec, source } = KEYS[k];
      got = await this.store.obtain(k, spec, { op: "key", spec: k, source }).catch((err: Error) => err);
      this.keys.set(k, got);
    }
    if (got instanceof Error) throw got;
    return got;
  }

  private get ops(): Handle {
    return this.session.ops;
  }

  private sign(key: TokenKey, mechName: string): Omit<Bench, "planned"> {
    const tok = this.session.token;
    const lib = tok.lib;
    const message = randomBytes(KIB);
    const checker = key.publicKey!;
    const input = (m: ResolvedMechanism) => oracle.signatureInput(m.name, m.params, message, curveOf(key.spec));
    return {
      harness: () => {
        const m = resolveMechanism({ name: mechName });
        const data = input(m);
        const t0 = performance.now();
        const sig = tok.sign(this.ops, m.pk, signingHandle(key), [data]);
        const t = us(t0);
        return {
          us: t,
          check: () => {
            const v = oracle.verifySignature(m.name, m.params, checker, message, damaged(sig));
            return v.ok ? undefined : `node:crypto rejects the token's ${m.name} signature: ${v.reason}`;
          },
        };
      },
      raw: () => {
        const m = resolveMechanism({ name: mechName });
        const data = input(m);
        const t0 = performance.now();
        lib.C_SignInit(this.ops, m.pk, signingHandle(key));
        lib.C_Sign(this.ops, data, Buffer.alloc(1024));
        return us(t0);
      },
    };
  }

  private verify(key: TokenKey, mechName: string): Omit<Bench, "planned"> {
    const tok = this.session.token;
    const lib = tok.lib;
    const message = randomBytes(KIB);
    // node:crypto signs with the key's private half where it has it; else the token's own signature, checked once.
    const m0 = resolveMechanism({ name: mechName });
    const data = oracle.signatureInput(m0.name, m0.params, message, curveOf(key.spec));
    const sig = key.privateKey
      ? oracle.sign(m0.name, m0.params, key.privateKey, message)
      : tok.sign(this.ops, m0.pk, signingHandle(key), [data]);
    const v = oracle.verifySignature(m0.name, m0.params, key.publicKey!, message, sig);
    if (!v.ok) throw new Error(`node:crypto rejects the token's ${m0.name} signature: ${v.reason}`);
    return {
      harness: () => {
        const m = resolveMechanism({ name: mechName });
        const t0 = performance.now();
        const ok = tok.verify(this.ops, m.pk, verifyingHandle(key), [data], sig);
        const t = us(t0);
        return { us: t, check: () => (damaged(ok) ? undefined : `the token rejects a signature node:crypto accepts`) };
      },
      raw: () => {
        const m = resolveMechanism({ name: mechName });
        const t0 = performance.now();
        lib.C_VerifyInit(this.ops, m.pk, verifyingHandle(key));
        lib.C_Verify(this.ops, data, sig);
        return us(t0);
      },
    };
  }

  private encrypt(key: TokenKey, mechName: string, size: number): Omit<Bench, "planned"> {
    const tok = this.session.token;
    const lib = tok.lib;
    const plaintext = randomBytes(size);
    const handle = key.secretHandle ?? key.publicHandle!;
    const opener = key.secret ?? key.privateKey;
    if (!opener) throw new Error(`node:crypto cannot decrypt: the ${key.name} key exists only on the token`);
    return {
      harness: () => {
        const m = resolveMechanism({ name: mechName });
        const t0 = performance.now();
        const ct = tok.encrypt(this.ops, m.pk, handle, [plaintext]);
        const t = us(t0);
        return {
          us: t,
          check: () => {
            try {
              const back = oracle.decrypt(m.name, m.params, opener, damaged(ct));
              return back.equals(plaintext) ? undefined : `node:crypto decrypts the ciphertext to other data`;
            } catch (err) {
              return `node:crypto cannot decrypt the token's ${m.name} ciphertext: ${(err as Error).message}`;
            }
          },
        };
      },
      raw: () => {
        const m = resolveMechanism({ name: mechName });
        const t0 = performance.now();
        lib.C_EncryptInit(this.ops, m.pk, handle);
        lib.C_Encrypt(this.ops, plaintext, Buffer.alloc(size + 1024));
        return us(t0);
      },
    };
  }

  private decrypt(key: TokenKey, mechName: string, size: number): Omit<Bench, "planned"> {
    const tok = this.session.token;
    const lib = tok.lib;
    const plaintext = randomBytes(size);
    const handle = key.secretHandle ?? key.privateHandle!;
    const sealer = key.secret ?? key.publicKey!;
    // A fresh IV (and its ciphertext) per operation, as the harness would use one: made outside the timing.
    const input = () => {
      const m = resolveMechanism({ name: mechName });
      return { m, ct: oracle.encrypt(m.name, m.params, sealer, plaintext) };
    };
    return {
      harness: () => {
        const { m, ct } = input();
        const t0 = performance.now();
        const back = tok.decrypt(this.ops, m.pk, handle, [ct]);
        const t = us(t0);
        return {
          us: t,
          check: () =>
            damaged(back).equals(plaintext) ? undefined : `the token decrypts to other data than node:crypto encrypted`,
        };
      },
      raw: () => {
        const { m, ct } = input();
        const t0 = performance.now();
        lib.C_DecryptInit(this.ops, m.pk, handle);
        lib.C_Decrypt(this.ops, ct, Buffer.alloc(size + 1024));
        return us(t0);
      },
    };
  }

  private digest(mechName: string, size: number): Omit<Bench, "planned"> {
    const tok = this.session.token;
    const lib = tok.lib;
    const data = randomBytes(size);
    const expected = oracle.digest(mechName, data);
    const mech = { mechanism: code(mechName) };
    return {
      harness: () => {
        const t0 = performance.now();
        const d = tok.digest(this.ops, mech, [data]);
        const t = us(t0);
        return {
          us: t,
          check: () => (damaged(d).equals(expected) ? undefined : `the token's ${mechName} digest differs`),
        };
      },
      raw: () => {
        const t0 = performance.now();
        lib.C_DigestInit(this.ops, mech);
        lib.C_Digest(this.ops, data, Buffer.alloc(128));
        return us(t0);
      },
    };
  }

  /**
   * Through the KeyStore (a fresh key each time: its slot rules, its node:crypto view of the key), timed
   * by the key generation call's own entry in the trace; the raw loop makes the same kind of key with
   * the same usage attributes, as a session object, and destroys it.
   */
  private generate(spec: KeySpec, maxOps: number | undefined, slots: boolean): Omit<Bench, "planned"> {
    const s = this.session;
    const tok = s.token;
    const lib = tok.lib;
    const pair = KEY_TYPES[spec.type].pair;
    const fn = pair ? "C_GenerateKeyPair" : "C_GenerateKey";
    let n = 0;
    const common = () => [bool("CKA_TOKEN", s.device.tokenObjects), runLabel(s, "speed")];
    const rightSize = (k: TokenKey) =>
      pair ? !!k.publicKey && keyBits(k.publicKey) === bitsOf(spec) : k.secret?.length === bitsOf(spec) / 8;
    return {
      maxOps,
      harness: async () => {
        tok.trace.reset();
        const k = await this.store.obtain(`speed${n++}`, spec, {
          op: "key",
          spec: "k",
          source: "generate",
          fresh: true,
        });
        const entry = tok.trace.render().find((e) => e.fn === fn);
        return {
          us: (entry?.ms ?? NaN) * 1000,
          check: () => (damaged(rightSize(k)) ? undefined : `the generated ${name(spec)} key has another size`),
          after: () => {
            for (const h of [k.privateHandle, k.publicHandle, k.secretHandle]) if (h) s.dispose(h);
          },
        };
      },
      ...(slots
        ? {}
        : {
            raw: () => {
              const mech = { mechanism: code(KEY_TYPES[spec.type].keyGen) };
              if (pair) {
                const { pub, priv } = keyPairTemplates(spec);
                const privT = [...common(), bool("CKA_PRIVATE", true), bool("CKA_SENSITIVE", true), ...priv];
                const pubT = [...common(), ...pub];
                const t0 = performance.now();
                const made = lib.C_GenerateKeyPair(s.objects, mech, pubT, privT);
                const t = us(t0);
                lib.C_DestroyObject(s.objects, made.privateKey);
                lib.C_DestroyObject(s.objects, made.publicKey);
                return t;
              }
              const template = [...common(), ...secretTemplate(spec).attrs];
              const t0 = performance.now();
              const h = lib.C_GenerateKey(s.objects, mech, template);
              const t = us(t0);
              lib.C_DestroyObject(s.objects, h);
              return t;
            },
          }),
    };
  }

  private wrap(key: TokenKey, target: TokenKey, mechName: string): Omit<Bench, "planned"> {
    const tok = this.session.token;
    const lib = tok.lib;
    if (!key.secret || !target.secret) throw new Error("node:crypto cannot unwrap: a key value cannot be read");
    const mech = { mechanism: code(mechName) };
    return {
      harness: () => {
        const t0 = performance.now();
        const wrapped = tok.wrapKey(this.ops, mech, key.secretHandle!, target.secretHandle!);
        const t = us(t0);
        return {
          us: t,
          check: () => {
            try {
              const value = oracle.unwrapKey(mechName, key.secret!, damaged(wrapped));
              return value.equals(target.secret!) ? undefined : `node:crypto unwraps the token's output to another key`;
            } catch (err) {
              return `node:crypto cannot unwrap the token's ${mechName} output: ${(err as Error).message}`;
            }
          },
        };
      },
      raw: () => {
        const t0 = performance.now();
        lib.C_WrapKey(this.ops, mech, key.secretHandle!, target.secretHandle!, Buffer.alloc(4096));
        return us(t0);
      },
    };
  }
}
