// The result contract: what a run produces (one CaseResult per case, the Report that gathers them,
// the diagnosis and the advertised-versus-actual analysis inside it). Worker, runner and reporters
// all import it from here; schema/report.schema.json is its JSON form, checked when a report is read.
import type { Ckr, TemplateCall } from "../pkcs11/errors.js";
import type { MechanismInfo, TokenIdentity } from "../pkcs11/token.js";
import type { TraceEntry } from "../pkcs11/trace.js";

/** A YAML-level value: what a template attribute or step parameter holds before encoding. */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

export const OUTCOMES = ["pass", "fail", "unsupported", "skipped", "error"] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** A mechanism a case gave the token, for what, and (key generation) the key size in the mechanism's units. */
export interface MechanismUse {
  mechanism: string;
  op: string;
  keySize?: number;
}

export interface CaseResult {
  id: string;
  suite: string;
  title: string;
  params: Record<string, Value>;
  /** The type of the key the case is about (the first key step's spec), when it has one. */
  keyType?: string;
  outcome: Outcome;
  /** The PKCS#11 function the outcome is about (the failing call, or the call whose output failed verification). */
  function?: string;
  ckr?: Ckr;
  /** One line a person can act on. */
  message: string;
  /** The attribute or parameter involved, when known. */
  attribute?: string;
  /** The mechanism the failing call was given (for cases that did not pass). */
  mechanism?: string;
  /** Mechanisms the case used. */
  uses?: MechanismUse[];
  /** What was checked independently, and by what (e.g. "signature verified by node:crypto"). */
  verified?: string[];
  durationMs: number;
  /** Time inside PKCS#11 calls, and how many calls. */
  pkcs11Ms: number;
  calls: number;
  keysGenerated: number;
  /** For a failed call that takes templates: which attributes the token objects to, found by experiment. */
  diagnosis?: Diagnosis;
  trace?: TraceEntry[];
}

/** Who a result is about: the planned case as the report names it. */
export type CaseIdentity = Pick<CaseResult, "id" | "suite" | "title" | "params" | "keyType">;

/** The one way a CaseResult is made: identity first, then what happened. */
export function caseResult(who: CaseIdentity, what: Omit<CaseResult, keyof CaseIdentity>): CaseResult {
  const { keyType, ...rest } = who;
  return { ...rest, ...(keyType ? { keyType } : {}), ...what };
}

export type Summary = Record<Outcome, number>;

export interface Report {
  schemaVersion: 1;
  tool: { name: string; version: string };
  status: "running" | "complete" | "interrupted" | "aborted";
  startedAt: string;
  finishedAt: string | null;
  device: { profile: string; title: string; file: string };
  token: TokenIdentity;
  mechanisms: MechanismInfo[];
  run: {
    suites: string[];
    /** The client profiles among the suites (see src/report/clients.ts). */
    clients?: Record<string, ClientProfile>;
    /** SO: the harness made keys as CKU_SO here (device profile keys.login: so), unless a key step said otherwise. */
    keyLogin?: "SO";
    filter?: string;
    caseCount: number;
    keysGenerated: number;
    workerRestarts: number;
    notes: string[];
  };
  summary: Summary;
  /** Written when the run finishes; `compareAdvertised` computes it for any report. */
  advertised?: AdvertisedVsActual;
  cases: CaseResult[];
}

export function emptySummary(): Summary {
  return { pass: 0, fail: 0, unsupported: 0, skipped: 0, error: 0 };
}

export type FindingKind =
  | "advertised-but-failing"
  | "working-not-advertised"
  | "flag-not-working"
  | "working-without-flag"
  | "size-accepted-outside-range"
  | "size-rejected-inside-range";

export interface Finding {
  mechanism: string;
  kind: FindingKind;
  detail: string;
  cases: string[];
}

export interface AdvertisedVsActual {
  findings: Finding[];
  /** Values that changed between two queries of the same mechanism: volatile, not findings. */
  unstable: { mechanism: string; fields: string[] }[];
  /** Advertised mechanisms no case used. */
  notExercised: string[];
}

export type CulpritKind = "not-accepted" | "read-only" | "value-rejected" | "conflict";
export type TemplateName = TemplateCall["templates"][number]["name"];

export interface Culprit {
  attribute: string;
  template: TemplateName;
  kind: CulpritKind;
  value: string;
  /** What the token answers when this attribute alone is added back to a template that works. */
  ckr?: Ckr;
  accepted: string[];
  rejected: string[];
  conflictsWith?: string;
  /** For a conflict: the other value of `conflictsWith` with which this attribute is accepted. */
  resolvedBy?: string;
}

export interface Missing {
  attribute: string;
  template: TemplateName;
  value: string;
}

export interface Diagnosis {
  function: string;
  ckr: Ckr;
  culprits: Culprit[];
  missing: Missing[];
  /** With the culprits fixed, the call got further and failed with this code, which no template change fixes (a login type, say). */
  then?: Ckr;
  /** Replays of the call spent, and the budget. */
  calls: number;
  budget: number;
  exhausted: boolean;
  summary: string;
}

/**
 * A client profile's reading of its cases (see src/report/clients.ts): what the client cannot do
 * without, which cases are experiments, and what it falls back to. Patterns are group ids with `*`.
 */
export interface ClientProfile {
  name: string;
  source: string;
  login: "USER" | "SO" | "NONE";
  needs: { name: string; cases: string[] }[];
  probes: string[];
  fallbacks: Record<string, string>;
}
