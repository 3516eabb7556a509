// Messages between the supervisor (parent) and the worker process that loads the PKCS#11 module.
// What they carry (the device, case options, events) is the contract in src/contract/worker.ts.
import type { CaseResult } from "../contract/report.js";
import type { PlannedCase } from "../suite/model.js";
import type { ImportKey } from "../plan/prefetch.js";
import type { MechanismInfo, TokenIdentity, TokenListing } from "../pkcs11/token.js";
import type { TokenFilter } from "../device/tokens.js";
import type { CaseOptions, WorkerDevice, WorkerEvent } from "../contract/worker.js";
import type { SpeedJob, SpeedPlanned, SpeedSamples } from "./speed.js";

export type ToWorker =
  /** `env`: the device's environment, set before the module loads (a worker started early did not get it at its fork). */
  | { type: "init"; device: WorkerDevice; env?: Record<string, string> }
  | { type: "inspect"; device: WorkerDevice; env?: Record<string, string>; objects: boolean }
  | { type: "prefetch"; keys: ImportKey[] }
  /** `p11compat doctor`: checks the module step by step (findings as `check` events), read-only but for one login. */
  | { type: "doctor"; device: WorkerDevice; env?: Record<string, string>; filter: TokenFilter }
  | { type: "case"; case: PlannedCase; options: CaseOptions }
  /** `p11compat speed`: make the keys and list the operations; then measure one operation for `seconds`. */
  | { type: "speed-plan"; job: SpeedJob }
  | { type: "speed"; id: string; seconds: number }
  | { type: "shutdown" };

export type FromWorker =
  | { type: "ready"; identity: TokenIdentity; mechanisms: MechanismInfo[] }
  | { type: "inventory"; tokens: TokenListing[] }
  | { type: "diagnosed" }
  | { type: "event"; event: WorkerEvent }
  | { type: "result"; result: CaseResult }
  | { type: "speed-plan"; ops: SpeedPlanned[] }
  | { type: "speed-samples"; samples: SpeedSamples }
  | { type: "fatal"; message: string }
  | { type: "closed"; problems: string[] };
