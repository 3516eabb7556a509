// What the steps of one case share: the token session, the key store, named keys and objects,
// and small helpers to resolve what a step names.
import { randomBytes } from "node:crypto";
import { code } from "../../pkcs11/constants.js";
import { type Attr } from "../../pkcs11/attributes.js";
import { encodeTemplate, mergeTemplates } from "../../template/encode.js";
import { resolveMechanism, type ResolvedMechanism } from "../../catalogue/params.js";
import type { Handle, Pkcs11Token } from "../../pkcs11/token.js";
import { KEY_TYPES, keySizeUnits, type KeySpec } from "../../catalogue/keys.js";
import type { PlannedCase, Step } from "../../suite/model.js";
import type { TemplateSpec } from "../../template/encode.js";
import type { KeyStore, TokenKey } from "../keys.js";
import type { MechanismInPlay } from "../classify.js";
import type { MechanismUse } from "../../contract/report.js";
import type { TokenSession } from "../session.js";

export interface CaseState {
  keys: Map<string, TokenKey>;
  objects: Map<string, Handle>;
  /** Objects this case created (destroyed when it ends). */
  mine: Handle[];
  mechanism?: MechanismInPlay;
  verified: string[];
  /** The step under way, and the mechanisms given to the token so far. */
  op: string;
  uses: MechanismUse[];
}

/** A step's handler, typed by its op. */
export type StepHandler<K extends Step["op"]> = (ctx: StepContext, step: Extract<Step, { op: K }>) => Promise<void>;
export type StepHandlers = { [K in Step["op"]]: StepHandler<K> };

export interface StepContext {
  session: TokenSession;
  store: KeyStore;
  planned: PlannedCase;
  state: CaseState;
  tok: Pkcs11Token;
}

export function mechanism(
  session: TokenSession,
  state: CaseState,
  spec: { name: string; params?: object },
  ctx = {},
): ResolvedMechanism {
  const m = resolveMechanism(spec, ctx);
  const explicit = Object.entries(spec.params ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
  state.mechanism = { ...inPlay(session, m.name), explicitParams: explicit || undefined };
  state.uses.push({ mechanism: m.name, op: state.op });
  return m;
}

/** Key generation about to happen: the mechanism in play, and the key size in that mechanism's units. */
export function generating(session: TokenSession, state: CaseState, spec: KeySpec): void {
  const name = KEY_TYPES[spec.type].keyGen;
  state.mechanism = inPlay(session, name);
  state.uses.push({ mechanism: name, op: "generate", keySize: keySizeUnits(spec) });
}

function inPlay(session: TokenSession, name: string): MechanismInPlay {
  return { name, advertised: session.mechanisms.has(code(name)) };
}

export function specOf(planned: PlannedCase, name: string): KeySpec {
  const spec = planned.keys[name];
  if (!spec) throw new Error(`unknown key spec ${name}`);
  return spec;
}

export function keyOf(state: CaseState, name = "key"): TokenKey {
  const key = state.keys.get(name);
  if (!key) throw new Error(`no key named ${name} in this case (add an op: key step first)`);
  return key;
}

export function objectOf(state: CaseState, name: string): Handle {
  const handle = state.objects.get(name);
  if (!handle) throw new Error(`no object named ${name} in this case`);
  return handle;
}

export const curveOf = (spec: KeySpec) => (spec.type === "EC" ? spec.curve : undefined);

export const signingHandle = (key: TokenKey) => key.secretHandle ?? key.privateHandle!;

export const verifyingHandle = (key: TokenKey) => key.secretHandle ?? key.publicHandle!;

export function encode(spec: TemplateSpec): Attr[] {
  return encodeTemplate(spec);
}

export function objectTemplate(session: TokenSession, spec: TemplateSpec, name: string): Attr[] {
  const defaults: Attr[] = [{ type: code("CKA_TOKEN"), value: session.device.tokenObjects }, runLabel(session, name)];
  return mergeTemplates(defaults, spec);
}

/** CKA_LABEL that marks an object as this run's (its prefix holds a random run tag). */
export function runLabel(session: TokenSession, name: string): Attr {
  return { type: code("CKA_LABEL"), value: Buffer.from(`${session.device.labelPrefix}${name}`) };
}

/** Whether a template makes a token object: its last CKA_TOKEN, else `fallback`. */
export function tokenFlag(template: Attr[], fallback: boolean): boolean {
  const t = template.filter((a) => a.type === code("CKA_TOKEN")).at(-1);
  return t ? t.value === true : fallback;
}

export function dataOf(data: number | string | undefined): Buffer {
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

export function lastFn(tok: { trace: { last?: string } }): string {
  return tok.trace.last ?? "?";
}
