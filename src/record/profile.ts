// A recorded conversation becomes a client profile (the suites/clients/ format): each key the client
// made is a case with the calls that used it, in order; what the step vocabulary cannot replay is
// listed in the profile's header, never dropped silently.
import { Document, type YAMLMap, type YAMLSeq } from "yaml";
import { mechanism as catalogueRow } from "../catalogue/mechanisms.js";
import type { RecordedAttr, RecordedCall } from "./spy.js";

export interface RecordMeta {
  /** The command as the user typed it ({module} and {pin} left as placeholders). */
  command: string;
  /** Suite id of the profile. */
  id: string;
  device: string;
  token: string;
  date: string;
  /** Attributes (call index.template.attribute) whose values differed between two recordings. */
  varying?: Set<string>;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type Step = Record<string, Json>;

interface CaseDraft {
  id: string;
  title: string;
  steps: Step[];
  /** Every call it replays succeeded on the recording token. */
  ok: boolean;
  calls: string[];
}

export interface Converted {
  yaml: string;
  cases: number;
  replayed: number;
  notReplayed: Record<string, number>;
}

/** Calls that only read or manage the module, sessions and slots: the harness makes these itself. */
const HOUSEKEEPING = new Set([
  "C_GetInterface",
  "C_GetInterfaceList",
  "C_GetFunctionList",
  "C_Initialize",
  "C_Finalize",
  "C_GetInfo",
  "C_GetSlotList",
  "C_GetSlotInfo",
  "C_GetTokenInfo",
  "C_GetMechanismList",
  "C_GetMechanismInfo",
  "C_OpenSession",
  "C_CloseSession",
  "C_CloseAllSessions",
  "C_GetSessionInfo",
  "C_FindObjectsFinal",
]);

const ok = (c: RecordedCall) => c.rv?.code === 0;

/** A recorded template as template values; secrets and run-varying values become random bytes of their length. */
function template(attrs: RecordedAttr[] | undefined, where: string, varying?: Set<string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const a of attrs ?? []) {
    const name = a.type.replace(/^CKA_/, "");
    if (a.redacted || (varying?.has(`${where}.${a.type}`) && a.length)) out[name] = `random:${a.length ?? 0}`;
    else if (a.value !== undefined) out[name] = a.value;
    else if (a.length === 0) out[name] = "hex:";
  }
  return out;
}

interface RecordedKey {
  [k: string]: string | number;
  type: string;
}

function keySpecOf(
  fn: string,
  mech: string,
  pub: Record<string, Json>,
  secret: Record<string, Json>,
): RecordedKey | undefined {
  if (fn === "C_GenerateKeyPair") {
    if (mech === "CKM_RSA_PKCS_KEY_PAIR_GEN" && typeof pub.MODULUS_BITS === "number")
      return { type: "RSA", bits: pub.MODULUS_BITS };
    if (mech === "CKM_EC_KEY_PAIR_GEN" && typeof pub.EC_PARAMS === "string")
      return { type: "EC", curve: pub.EC_PARAMS };
    if (mech === "CKM_EC_EDWARDS_KEY_PAIR_GEN" && typeof pub.EC_PARAMS === "string")
      return { type: "EC_EDWARDS", curve: pub.EC_PARAMS };
    return undefined;
  }
  const bytes = typeof secret.VALUE_LEN === "number" ? secret.VALUE_LEN : undefined;
  if (mech === "CKM_AES_KEY_GEN" && bytes) return { type: "AES", bits: bytes * 8 };
  if (mech === "CKM_GENERIC_SECRET_KEY_GEN" && bytes) return { type: "GENERIC_SECRET", bits: bytes * 8 };
  return undefined;
}

/** The mechanism as a step names it, with the parameters a replay needs (fresh IVs of the recorded length). */
function mechanismOf(call: RecordedCall): Json {
  const m = call.mechanism;
  if (!m) return null;
  const name = m.type.replace(/^CKM_/, "");
  const params: Record<string, Json> = {};
  const p = m.params ?? {};
  if (p.hashAlg) params.hash = p.hashAlg.replace(/^CKM_/, "");
  if (p.mgf) params.mgf = p.mgf.replace(/^CKG_/, "");
  if (p.sLen !== undefined) params.salt = Number(p.sLen);
  const row = catalogueRow(m.type);
  if (m.parameter && row && /^AES_(CBC|CBC_PAD|CTR|GCM)$/.test(row.family)) params.ivBytes = m.parameter.length / 2;
  return Object.keys(params).length > 0 ? { name, params } : name;
}

const CRYPTO: Record<string, { init: string; op: string }> = {
  C_Sign: { init: "C_SignInit", op: "sign" },
  C_Verify: { init: "C_VerifyInit", op: "verify" },
  C_Encrypt: { init: "C_EncryptInit", op: "encrypt" },
  C_Decrypt: { init: "C_DecryptInit", op: "decrypt" },
};
const FINAL: Record<string, string> = {
  C_SignFinal: "C_Sign",
  C_VerifyFinal: "C_Verify",
  C_EncryptFinal: "C_Encrypt",
  C_DecryptFinal: "C_Decrypt",
};
const DATA_ARG: Record<string, string> = {
  sign: "pData",
  verify: "pData",
  encrypt: "pData",
  decrypt: "pEncryptedData",
};

/** Converts the recorded calls of a client run into a client profile. */
export function toProfile(calls: RecordedCall[], meta: RecordMeta): Converted {
  const keys: Record<string, Json> = {};
  const cases: CaseDraft[] = [];
  const notReplayed: Record<string, number> = {};
  const notReplayedCall = (fn: string, why: string) => {
    const k = `${fn}: ${why}`;
    notReplayed[k] = (notReplayed[k] ?? 0) + 1;
  };
  // Per client process: handle -> [case, key or object name]; finds waiting for the key made next.
  let owner = new Map<string, { draft: CaseDraft; name: string; kind: "key" | "object" }>();
  let process = 0;
  let pendingFinds: Step[] = [];
  let init: RecordedCall | undefined;
  let find: { template: Record<string, Json>; found: string[]; ok: boolean } | undefined;
  let loginDraft: CaseDraft | undefined;
  let session: CaseDraft | undefined;
  let replayed = 0;
  let keyCount = 0;
  let objectCount = 0;

  const draft = (id: string, title: string): CaseDraft => {
    const d = { id, title, steps: [], ok: true, calls: [] };
    cases.push(d);
    return d;
  };
  const sessionCase = () => (session ??= draft("session", "Calls that use no key the client made"));
  const add = (d: CaseDraft, call: RecordedCall, step: Step) => {
    if (!ok(call)) {
      step.expectError = call.rv?.name ?? "CKR_GENERAL_ERROR";
      d.ok = false;
    }
    d.steps.push(step);
    d.calls.push(call.fn);
    replayed++;
  };
  /** Finds that found nothing belong to the case of the object made next (a lookup before creating). */
  const adoptFinds = (d: CaseDraft) => {
    for (const f of pendingFinds) {
      d.steps.push(f);
      d.calls.push("C_FindObjects");
    }
    pendingFinds = [];
  };
  const flushFind = () => {
    if (!find) return;
    const step: Step = { op: "find", template: find.template };
    if (find.ok) step.expectCount = find.found.length;
    const owners = find.found.map((h) => owner.get(h));
    const target = owners.at(-1);
    // Objects of several cases: a replayed case holds only its own, so the count cannot be kept.
    if (owners.some((o) => o?.draft !== target?.draft)) delete step.expectCount;
    if (find.found.length === 0 || !target) pendingFinds.push(step);
    else {
      target.draft.steps.push(step);
      target.draft.calls.push("C_FindObjects");
      replayed++;
    }
    find = undefined;
  };

  for (const call of calls) {
    if (call.process !== process) {
      flushFind();
      process = call.process;
      owner = new Map();
    }
    if (call.fn === "C_FindObjects") {
      if (find) find.found.push(...call.found);
      continue;
    }
    if (call.fn !== "C_FindObjectsFinal") flushFind();
    if (HOUSEKEEPING.has(call.fn)) continue;
    const varyingAt = `${call.process}.${call.index}`;
    switch (call.fn) {
      case "C_Login": {
        const user = /CKU_SO/.test(call.args.userType ?? "")
          ? "SO"
          : /CKU_USER/.test(call.args.userType ?? "")
            ? "USER"
            : undefined;
        if (!user) {
          notReplayedCall(call.fn, `userType ${call.args.userType ?? "?"} (a login step logs in CKU_USER or CKU_SO)`);
          break;
        }
        loginDraft ??= draft("login", `C_Login(CKU_${user}) as the client logs in`);
        if (loginDraft.steps.length === 0) add(loginDraft, call, { op: "login", user });
        break;
      }
      case "C_Logout":
        break;
      case "C_FindObjectsInit":
        find = {
          template: template(call.templates.pTemplate, `${varyingAt}.pTemplate`, meta.varying),
          found: [],
          ok: ok(call),
        };
        break;
      case "C_GenerateKeyPair":
      case "C_GenerateKey": {
        const mech = call.mechanism?.type ?? "?";
        const pair = call.fn === "C_GenerateKeyPair";
        const pub = template(call.templates.pPublicKeyTemplate, `${varyingAt}.pPublicKeyTemplate`, meta.varying);
        const priv = template(call.templates.pPrivateKeyTemplate, `${varyingAt}.pPrivateKeyTemplate`, meta.varying);
        const secret = template(call.templates.pTemplate, `${varyingAt}.pTemplate`, meta.varying);
        const spec = keySpecOf(call.fn, mech, pub, secret);
        if (!spec) {
          notReplayedCall(call.fn, `${mech} with this template (no key type p11compat makes)`);
          break;
        }
        const name = `key${++keyCount}`;
        keys[name] = spec;
        const what = spec.curve !== undefined ? String(spec.curve) : `${spec.type}-${spec.bits}`;
        const d = draft(
          `${name}-${String(what).toLowerCase()}`,
          `${call.fn}(${mech}) ${what} with the client's templates, then what the client did with it`,
        );
        adoptFinds(d);
        const step: Step = {
          op: "key",
          spec: name,
          source: "generate",
          as: name,
          fresh: true,
          exact: true,
          template: pair ? { public: pub, private: priv } : { secret },
        };
        add(d, call, step);
        if (pair) {
          if (call.args.hPublicKey) owner.set(call.args.hPublicKey, { draft: d, name, kind: "key" });
          if (call.args.hPrivateKey) owner.set(call.args.hPrivateKey, { draft: d, name, kind: "key" });
        } else if (call.args.hKey) owner.set(call.args.hKey, { draft: d, name, kind: "key" });
        break;
      }
      case "C_SignInit":
      case "C_VerifyInit":
      case "C_EncryptInit":
      case "C_DecryptInit":
        init = call;
        if (!ok(call)) {
          const op = call.fn.replace(/^C_|Init$/g, "").toLowerCase();
          const target = owner.get(call.args.hKey ?? "");
          if (target?.kind === "key") add(target.draft, call, { op, key: target.name, mechanism: mechanismOf(call) });
          else notReplayedCall(call.fn, "a key the client did not make in this run");
          init = undefined;
        }
        break;
      case "C_Sign":
      case "C_Verify":
      case "C_Encrypt":
      case "C_Decrypt":
      case "C_SignFinal":
      case "C_VerifyFinal":
      case "C_EncryptFinal":
      case "C_DecryptFinal": {
        const single = FINAL[call.fn] ?? call.fn;
        const { init: initFn, op } = CRYPTO[single]!;
        if (!init || init.fn !== initFn) {
          notReplayedCall(call.fn, "no matching Init call recorded");
          break;
        }
        const target = owner.get(init.args.hKey ?? "");
        if (target?.kind !== "key") {
          notReplayedCall(call.fn, "a key the client did not make in this run");
        } else {
          const step: Step = { op, key: target.name, mechanism: mechanismOf(init) };
          const len = call.lengths[DATA_ARG[op]!];
          if (len !== undefined && op !== "decrypt" && op !== "verify") step.data = len;
          if (call.fn !== single) step.parts = 2;
          // A client's keys are usually never extractable: then only the token can check its ciphertexts.
          if (op === "encrypt" || op === "decrypt") step.roundTrip = true;
          add(target.draft, call, step);
        }
        init = undefined;
        break;
      }
      case "C_SignUpdate":
      case "C_VerifyUpdate":
      case "C_EncryptUpdate":
      case "C_DecryptUpdate":
        break;
      case "C_Digest": {
        const m = init?.fn === "C_DigestInit" ? init : undefined;
        add(sessionCase(), call, {
          op: "digest",
          mechanism: m ? mechanismOf(m) : null,
          data: call.lengths.pData ?? 64,
        });
        init = undefined;
        break;
      }
      case "C_DigestInit":
        init = call;
        break;
      case "C_GenerateRandom":
        add(sessionCase(), call, {
          op: "random",
          length: call.lengths.pRandomData ?? call.lengths.RandomData ?? Number(call.args.ulRandomLen ?? 32),
        });
        break;
      case "C_CreateObject": {
        const name = `object${++objectCount}`;
        const d = draft(name, "C_CreateObject with the client's template");
        adoptFinds(d);
        add(d, call, {
          op: "create",
          as: name,
          template: template(call.templates.pTemplate, `${varyingAt}.pTemplate`, meta.varying),
        });
        if (call.args.phObject) owner.set(call.args.phObject, { draft: d, name, kind: "object" });
        break;
      }
      case "C_DestroyObject": {
        const target = owner.get(call.args.hObject ?? "");
        if (target?.kind === "object") add(target.draft, call, { op: "destroy", object: target.name });
        else
          notReplayedCall(
            call.fn,
            target
              ? "a key made by a key step (the harness destroys those itself)"
              : "an object the client did not make in this run",
          );
        break;
      }
      case "C_GetAttributeValue":
        notReplayedCall(call.fn, "reads (the key steps read the public key back themselves)");
        break;
      default:
        notReplayedCall(call.fn, "not in the step vocabulary yet");
    }
  }
  flushFind();
  if (pendingFinds.length) adoptFinds(sessionCase());

  const used = cases.filter((c) => c.steps.length > 0);
  const doc = new Document({
    suite: meta.id,
    title: `Client profile (recorded): ${meta.command}`,
    description: `Recorded by p11compat record on ${meta.device} (${meta.token}), ${meta.date}. Not part of the default run: p11compat run --suite THIS-FILE`,
    order: 990,
    client: {
      name: clientName(meta.command),
      source: `recorded: ${meta.command}`,
      login: loginDraft ? (loginDraft.steps[0]!.user as string) : "NONE",
      needs: used.filter((c) => c.ok).map((c) => ({ name: c.title, cases: [c.id] })),
      probes: [],
    },
    keys,
    cases: used.map((c) => ({ id: c.id, title: c.title, steps: c.steps })),
  });
  // One line per step, as the hand-written profiles are; a key step's templates stay in block style.
  for (const c of (doc.get("cases") as YAMLSeq<YAMLMap>).items) {
    for (const s of (c.get("steps") as YAMLSeq<YAMLMap>).items) if (s.get("op") !== "key") s.flow = true;
  }
  for (const k of (doc.get("keys") as YAMLMap<unknown, YAMLMap>).items) k.value!.flow = true;
  doc.commentBefore = [
    ` yaml-language-server: $schema=../../schema/suite.schema.json`,
    ``,
    ` Recorded with p11compat record (OpenSC pkcs11-spy, PINs and secret values never kept):`,
    `   ${meta.command}`,
    ` on ${meta.device} (${meta.token}), ${meta.date}: ${calls.length} calls, ${replayed} replayed as steps.`,
    ` needs: the cases whose every call succeeded on the recording token (edit freely).`,
    ...(meta.varying?.size
      ? [` Values that differed between two recordings are replayed as fresh random bytes (random:N).`]
      : []),
    ...(Object.keys(notReplayed).length
      ? [` Not replayed:`, ...Object.entries(notReplayed).map(([k, n]) => `   ${k} (x${n})`)]
      : []),
  ].join("\n");
  return {
    yaml: doc.toString({ lineWidth: 0, flowCollectionPadding: true }),
    cases: used.length,
    replayed,
    notReplayed,
  };
}

const INTERPRETERS = new Set(["node", "python", "python3", "sh", "bash", "java", "perl", "ruby", "go"]);

/** The program's name: the script's for an interpreter (node client.mjs -> client.mjs). */
function clientName(command: string): string {
  const words = command.split(/\s+/);
  const base = (w: string) => w.split("/").at(-1)!;
  if (!INTERPRETERS.has(base(words[0]!))) return base(words[0]!);
  const script = words.slice(1).find((w) => !w.startsWith("-"));
  return script ? base(script) : base(words[0]!);
}

/** Attribute values that differ between two recordings of the same client, by position in the conversation. */
export function varyingValues(a: RecordedCall[], b: RecordedCall[]): Set<string> {
  const out = new Set<string>();
  const key = (c: RecordedCall) => `${c.process}.${c.index}`;
  const byKey = new Map(b.map((c) => [key(c), c]));
  for (const ca of a) {
    const cb = byKey.get(key(ca));
    if (!cb || cb.fn !== ca.fn) continue;
    for (const [t, attrs] of Object.entries(ca.templates)) {
      const other = cb.templates[t] ?? [];
      for (const attr of attrs) {
        const o = other.find((x) => x.type === attr.type);
        if (o && JSON.stringify(o.value) !== JSON.stringify(attr.value)) out.add(`${key(ca)}.${t}.${attr.type}`);
      }
    }
  }
  return out;
}
