// What the runner tells the worker process about the device and each case, and what the worker tells
// back while a case runs: data only, shared by device provisioning, the runner, the worker and the CLI.

/** What the worker needs to reach the token. PINs travel over the IPC channel only, never argv or logs. */
export interface WorkerDevice {
  modulePath: string;
  libraryParameters?: string;
  /** `slot`: the CK_SLOT_ID as a decimal number. */
  select: { label?: string; serial?: string; index?: number; slot?: string };
  pins: { user?: string; so?: string };
  /** CKA_TOKEN for objects the run creates (some tokens only keep token objects). */
  tokenObjects: boolean;
  /** Prefix of CKA_LABEL on every object the run creates. */
  labelPrefix: string;
  /** The profile's key policy: who makes keys, their CKA_IDs (hex), context-specific login; see KeyPolicy. */
  keys?: WorkerKeyPolicy;
  /** YubiKey only: what needs a touch, and that RSA key generation takes seconds (progress is shown). */
  yubikey?: { soTouch?: boolean; keyTouch?: boolean };
  /**
   * A token holding keys that matter (not a throwaway one) without --allow-token-objects: a call that
   * would make a token object (CKA_TOKEN true) is refused before the module sees it, for this reason.
   */
  refuseTokenObjects?: string;
  /** The token exists only for this run (the profile creates it): no key on it belongs to anyone else. */
  throwaway?: boolean;
  /** After a case that brought the key generations since C_Initialize to this many: C_Finalize, C_Initialize. */
  reinitializeAfterKeys?: number;
}

/**
 * How keys are placed on a token that picks the key slot by CKA_ID (keys.ids). The device layer
 * (a device hook: src/device/yubikey-hooks.ts for a YubiKey) decides which ids the run may write; the worker (KeyStore.keyId,
 * TokenSession's write guard) enforces it again on the token itself.
 */
export interface WorkerKeyPolicy {
  login?: "user" | "so";
  /** CKA_IDs (hex) a key may take, in order of preference; each key takes the first that no object on the token has. */
  ids?: string[];
  contextLogin?: boolean;
  /** Ids that may be taken although objects on the token have them (--allow-overwrite, confirmed by `serial`). */
  overwrite?: string[];
  /** The token serial `overwrite` was confirmed for: the worker refuses to start on another token. */
  serial?: string;
  /** Ids never taken unless listed in `overwrite` (a YubiKey's 9a, 9c, 9d, 9e; f9 always). */
  protect?: string[];
  /** Ids found occupied before the run (by the pre-flight): never taken unless listed in `overwrite`. */
  occupied?: string[];
  /** Ids this run wrote a key into in an earlier worker: its own, so they may be taken again. */
  own?: string[];
  /** Names of ids in messages (a YubiKey's slot names: "05" is "82"). */
  names?: Record<string, string>;
}

/** What a worker tells while a case runs (not its result). */
export type WorkerEvent =
  | { kind: "progress"; text: string }
  | { kind: "touch"; text: string }
  /** A key was written under this CKA_ID (hex) on a token that picks slots by CKA_ID. */
  | { kind: "wrote"; id: string; fn: string }
  /** `p11compat doctor`: one finding (or, `running`, the step about to call the module). */
  | { kind: "check"; check: DoctorCheck };

/** One line of `p11compat doctor`: what was checked, how it went, and for a problem what to do next. */
export interface DoctorCheck {
  /** What was checked: file, load, initialize, slots, token, pin, login, mechanisms, pcscd ... */
  step: string;
  status: "ok" | "info" | "warn" | "problem" | "running";
  text: string;
  /** What to do about it (a problem or a warning). */
  next?: string;
}

export type TraceMode = "failed" | "all" | "none";

export interface CaseOptions {
  trace: TraceMode;
  /** Extra calls diagnosis may spend on one failed template call (0: no diagnosis). */
  diagnosisBudget: number;
}
