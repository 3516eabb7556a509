// Messages between the supervisor (parent) and the worker process that loads the PKCS#11 module.
import type { CaseResult } from "../report/model.js";
import type { PlannedCase } from "../suite/model.js";
import type { ImportKey } from "../plan/prefetch.js";
import type { MechanismInfo, TokenIdentity } from "../pkcs11/token.js";

/** What the worker needs to reach the token. PINs travel over the IPC channel only, never argv or logs. */
export interface WorkerDevice {
  modulePath: string;
  libraryParameters?: string;
  select: { label?: string; serial?: string; index?: number };
  pins: { user?: string; so?: string };
  /** CKA_TOKEN for objects the run creates (some tokens only keep token objects). */
  tokenObjects: boolean;
  /** Prefix of CKA_LABEL on every object the run creates. */
  labelPrefix: string;
  /** The profile's key policy: who makes keys, their CKA_IDs (hex), context-specific login. */
  keys?: { login?: "user" | "so"; ids?: string[]; contextLogin?: boolean };
  /** After a case that brought the key generations since C_Initialize to this many: C_Finalize, C_Initialize. */
  reinitializeAfterKeys?: number;
}

export type TraceMode = "failed" | "all" | "none";

export interface CaseOptions {
  trace: TraceMode;
  /** Extra calls diagnosis may spend on one failed template call (0: no diagnosis). */
  diagnosisBudget: number;
}

export type ToWorker =
  | { type: "init"; device: WorkerDevice }
  | { type: "prefetch"; keys: ImportKey[] }
  | { type: "case"; case: PlannedCase; options: CaseOptions }
  | { type: "shutdown" };

export type FromWorker =
  | { type: "ready"; identity: TokenIdentity; mechanisms: MechanismInfo[] }
  | { type: "result"; result: CaseResult }
  | { type: "fatal"; message: string }
  | { type: "closed"; problems: string[] };
