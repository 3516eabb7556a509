// The speed contract: what `p11compat speed` measures and writes (reports/<device>-<time>-speed.json),
// shared by the worker that measures, the runner that gathers, and the reporters. Its JSON form is
// schema/speed.schema.json, generated from these types and checked when a speed report is read.
import type { TokenIdentity } from "../pkcs11/token.js";

export const SPEED_OPS = ["sign", "verify", "encrypt", "decrypt", "digest", "generate", "wrap"] as const;
export type SpeedOp = (typeof SPEED_OPS)[number];

/** Latency of one operation in microseconds, over every operation measured. */
export interface Latency {
  median: number;
  p99: number;
}

/** One loop's figures: its operations, the time inside their calls, and what went wrong. */
export interface LoopFigures {
  /** Operations that returned a result (counted only when the result was checked and right). */
  ops: number;
  /** Operations whose call failed or whose result was wrong: counted here, never as operations. */
  errors: number;
  /**
   * Operations per second from the median time inside an operation's PKCS#11 calls (1e6 / median µs;
   * the check is outside the timing): a call preempted on a busy machine moves a mean, not a median.
   * With several sessions, the sessions' rates added up.
   */
  opsPerSecond: number;
  latencyUs: Latency;
}

/** One measured operation in one setting (one session, or several in parallel). */
export interface SpeedFigures {
  /** Sessions measured at once (each a worker process of its own). */
  sessions: number;
  /** Through the harness's token layer (traced calls), each result checked. With several sessions: summed over them. */
  harness: LoopFigures;
  /** A bare pkcs11js loop on the same operation, key and session, interleaved with the harness's. */
  raw?: LoopFigures;
  /** harness.opsPerSecond / raw.opsPerSecond (1 = the harness costs nothing; 0.97 = 3 % slower). */
  ratio?: number;
  /** The first wrong result or failed call, as a person can act on it. */
  firstError?: string;
}

export interface SpeedResult {
  /** Stable id: op, mechanism, key and data size (e.g. "sign/CKM_SHA256_RSA_PKCS/RSA-2048/1024"). */
  id: string;
  op: SpeedOp;
  mechanism: string;
  /** The key: "RSA-2048", "P-256", "AES-256"; none for digests. */
  key?: string;
  /** Bytes of data per operation (sign, verify, encrypt, decrypt, digest). */
  dataBytes?: number;
  /** measured; unsupported (the token does not list the mechanism, or cannot make the key); error (set-up failed). */
  status: "measured" | "unsupported" | "error";
  message?: string;
  /** How each result was checked, independently of the token. */
  checked: string;
  /** One session, then (when --sessions > 1) every session at once. */
  figures: SpeedFigures[];
}

export interface SpeedReport {
  schemaVersion: 1;
  kind: "speed";
  tool: { name: string; version: string };
  startedAt: string;
  finishedAt: string;
  device: { profile: string; title: string; file?: string };
  token: TokenIdentity;
  settings: {
    /** Seconds of measuring per operation and setting (harness and raw loop together). */
    seconds: number;
    sessions: number;
    mechanisms?: string[];
    /** Key generations allowed per key type and loop (a YubiKey's flash wears). */
    keyGenerations?: number;
  };
  /** What the user should know about the figures (limits applied, what was left out and why). */
  notes: string[];
  results: SpeedResult[];
}
