// What a run produces: one CaseResult per case, and the report that gathers them.
import type { Ckr } from "../pkcs11/errors.js";
import type { MechanismInfo, TokenIdentity } from "../pkcs11/token.js";
import type { TraceEntry } from "../pkcs11/trace.js";
import type { ClientProfile, Value } from "../suite/model.js";
import type { Diagnosis } from "../diagnose/diagnose.js";
import type { AdvertisedVsActual } from "./advertised.js";

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
