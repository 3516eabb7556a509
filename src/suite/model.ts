// The data model of a suite after loading: what a YAML file describes, and the cases it expands to.
// Everything here is plain JSON (it crosses to the worker process over IPC).
import type { ClientProfile, Value } from "../contract/report.js";
import type { TemplateSpec } from "../template/encode.js";
import type { KeySpec } from "../catalogue/keys.js";
import type { MechanismSpec } from "../catalogue/params.js";
import type { PolicyCheck } from "../catalogue/policy.js";

/** Where something came from, for error messages and reports. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** Every step op, in the order the schema lists them; the Step union below must name exactly these. */
export const STEP_OPS = [
  "key",
  "sign",
  "verify",
  "encrypt",
  "decrypt",
  "digest",
  "derive",
  "wrap",
  "unwrap",
  "random",
  "login",
  "logout",
  "create",
  "find",
  "get",
  "set",
  "copy",
  "destroy",
  "conform",
  "policy",
  "concurrency",
] as const;

interface StepBase {
  /** The step must fail with this CK_RV (name or number) for the case to pass. */
  expectError?: string;
}

/** Obtain a key: generate it on the token or import one made by node:crypto. Cached per spec. */
export interface KeyStep extends StepBase {
  op: "key";
  spec: string; // name in the suite's keys
  source: "generate" | "import";
  as?: string; // name later steps use; default "key"
  template?: { public?: TemplateSpec; private?: TemplateSpec; secret?: TemplateSpec };
  fresh?: boolean; // do not reuse a cached key
  /** The templates are complete (a recorded client's): no harness defaults are merged in. */
  exact?: boolean;
  /** Who is logged in for the call that makes the key: a client's own login; default the device profile's keys.login. */
  login?: "USER" | "SO";
}

interface CryptoStep extends StepBase {
  key?: string; // default "key"
  mechanism: MechanismSpec;
  /** Message size in bytes, or hex data. */
  data?: number | string;
  /** 1 = single-part call; n > 1 = Update calls in n pieces then Final. */
  parts?: number;
}

export interface SignStep extends CryptoStep {
  op: "sign";
}
export interface VerifyStep extends CryptoStep {
  op: "verify";
}
export interface EncryptStep extends CryptoStep {
  op: "encrypt";
  /** No key node:crypto can use: check by the token's own round trip (a recorded client's keys). */
  roundTrip?: boolean;
}
export interface DecryptStep extends CryptoStep {
  op: "decrypt";
  roundTrip?: boolean;
}
export interface DigestStep extends StepBase {
  op: "digest";
  mechanism: MechanismSpec;
  data?: number | string;
  parts?: number;
}
export interface DeriveStep extends StepBase {
  op: "derive";
  key?: string;
  mechanism: MechanismSpec;
  template?: TemplateSpec;
}
export interface WrapStep extends StepBase {
  op: "wrap";
  key?: string; // wrapping key
  mechanism: MechanismSpec;
  target: string; // key spec name of the key to wrap (generated, extractable)
}
export interface UnwrapStep extends StepBase {
  op: "unwrap";
  key?: string; // unwrapping key
  mechanism: MechanismSpec;
  target: string; // key spec of the key node:crypto makes and wraps
  template?: TemplateSpec;
}
export interface RandomStep extends StepBase {
  op: "random";
  length: number;
}
export interface LoginStep extends StepBase {
  op: "login";
  user?: "USER" | "SO";
}
export interface LogoutStep extends StepBase {
  op: "logout";
}
export interface CreateStep extends StepBase {
  op: "create";
  as: string;
  template: TemplateSpec;
}
export interface FindStep extends StepBase {
  op: "find";
  template: TemplateSpec;
  /** Names of objects (from `as`) that must be among the results, and ones that must not. */
  expectFound?: string[];
  expectNotFound?: string[];
  expectCount?: number;
}
export interface GetStep extends StepBase {
  op: "get";
  object: string;
  /** Attribute -> expected value; `null` means "read it, any value". */
  attributes: TemplateSpec;
}
export interface SetStep extends StepBase {
  op: "set";
  object: string;
  attributes: TemplateSpec;
}
export interface CopyStep extends StepBase {
  op: "copy";
  object: string;
  as: string;
  template?: TemplateSpec;
}
export interface DestroyStep extends StepBase {
  op: "destroy";
  object: string;
}

/** One conformance check (src/worker/steps/conformance.ts): the codes the spec requires on an error path. */
export interface ConformStep extends StepBase {
  op: "conform";
  check: ConformCheck;
  /** For `length`, `not-initialized`, `active` and `ends-after-error`: which function. */
  output?: "sign" | "encrypt" | "decrypt" | "digest" | "wrap" | "attribute" | "find";
  key?: string;
  mechanism?: MechanismSpec;
  /** For `length` of wrap: the key to wrap (name from an `op: key` step). */
  target?: string;
}

export const CONFORM_CHECKS = [
  "length",
  "not-initialized",
  "active",
  "ends-after-error",
  "stale-session",
  "stale-object",
  "stale-key",
  "key-type",
  "key-function",
  "cbc-iv-length",
  "gcm-tag-length",
  "gcm-iv-length",
  "read-only-session",
  "login-already",
  "logout-not-logged-in",
  "login-another",
  "login-wrong-pin",
  "initialize-twice",
  "slot-list",
  "close-all-sessions",
  "finalize-open-sessions",
] as const;
export type ConformCheck = (typeof CONFORM_CHECKS)[number];

/** One security policy row (src/worker/steps/policy.ts): an attack of the Tookan paper or a key management rule. */
export interface PolicyStep extends StepBase {
  op: "policy";
  check: PolicyCheck;
  /** For mutated-signature and mutated-tag: the key (name from an `op: key` step, imported). Default "key". */
  key?: string;
  mechanism?: MechanismSpec;
}

/** Concurrency and fork (src/worker/steps/concurrency.ts). */
export interface ConcurrencyStep extends StepBase {
  op: "concurrency";
  check: "parallel" | "fork";
  /** For parallel: the signing key (name from an `op: key` step). Default "key". */
  key?: string;
  mechanism?: MechanismSpec;
  /** For parallel: sessions signing at once (default 8) and signatures each (default 4). */
  sessions?: number;
  rounds?: number;
}

export type Step =
  | KeyStep
  | SignStep
  | VerifyStep
  | EncryptStep
  | DecryptStep
  | DigestStep
  | DeriveStep
  | WrapStep
  | UnwrapStep
  | RandomStep
  | LoginStep
  | LogoutStep
  | CreateStep
  | FindStep
  | GetStep
  | SetStep
  | CopyStep
  | DestroyStep
  | ConformStep
  | PolicyStep
  | ConcurrencyStep;

// Compile-time: STEP_OPS and the Step union name the same ops (an op added to one only fails here).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const stepOpsMatch: Same<(typeof STEP_OPS)[number], Step["op"]> = true;
void stepOpsMatch;

/** A suite file after validation. */
export interface Suite {
  id: string;
  title: string;
  description?: string;
  client?: ClientProfile;
  /** Position when all suites run (lower first). */
  order: number;
  file: string;
  keys: Record<string, KeySpec>;
  groups: CaseGroup[];
}

/** One entry of `cases:` in a suite: a matrix of parameters over a list of steps. */
export interface CaseGroup {
  id: string;
  title: string;
  matrix: Record<string, Value[]>;
  exclude: Record<string, Value>[];
  include: Record<string, Value>[];
  /** Steps with `$param` / `${param}` references still in place. */
  steps: Value[];
  pos: SourcePos;
}

/** One runnable case: a group with every parameter substituted. */
export interface PlannedCase {
  /** Stable across runs and tokens: suite/group[param=value,...]. */
  id: string;
  suite: string;
  group: string;
  title: string;
  params: Record<string, Value>;
  keys: Record<string, KeySpec>;
  steps: Step[];
  pos: SourcePos;
}
