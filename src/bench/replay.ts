// The default run's PKCS#11 calls as a plan a raw pkcs11js loop can replay (src/bench/raw.ts): each
// crypto operation of every case's trace with its mechanism, parameters, key and data lengths, in
// order; every other call the run made is matched by count (the run's function histogram).
import type { Report } from "../contract/report.js";
import type { TraceEntry } from "../pkcs11/trace.js";
import type { PlannedCase } from "../suite/model.js";
import type { KeySpec } from "../catalogue/keys.js";

/** A mechanism as the trace shows it: the CKM name and its parameter (buffers in hex, constants by name). */
export interface TracedMechanism {
  name: string;
  parameter?: unknown;
}

export type OpKind = "sign" | "verify" | "encrypt" | "decrypt" | "digest";

/** One operation: C_xxxInit, then one call over the whole data or an update per part and a final. */
export interface ReplayOp {
  kind: OpKind;
  mechanism: TracedMechanism;
  /** Index into ReplayPlan.keys; none for digests. */
  key?: number;
  part?: "public" | "private" | "secret";
  /** Whether the run's init succeeded (if not, only the init is replayed). */
  initOk: boolean;
  /** The single-part call's data length, or each part's length (multi-part). */
  single?: number;
  parts?: number[];
  final?: boolean;
  signatureLen?: number;
}

export interface ReplayPlan {
  modulePath: string;
  keys: KeySpec[];
  ops: ReplayOp[];
  /** Every call the run's worker made, per function (from P11COMPAT_CALL_STATS). */
  histogram: Record<string, number>;
  /** The run's calls that failed, among the replayed ones: to compare with the replay's. */
  failedInRun: number;
}

const INIT: Record<string, OpKind> = {
  C_SignInit: "sign",
  C_VerifyInit: "verify",
  C_EncryptInit: "encrypt",
  C_DecryptInit: "decrypt",
  C_DigestInit: "digest",
};
const ONE: Record<OpKind, string> = {
  sign: "C_Sign",
  verify: "C_Verify",
  encrypt: "C_Encrypt",
  decrypt: "C_Decrypt",
  digest: "C_Digest",
};
const asymmetric = (spec: KeySpec) => spec.type === "RSA" || spec.type === "EC" || spec.type === "EC_EDWARDS";

/** The plan from a `--trace all` report of the default run and the cases it ran. */
export function planReplay(
  report: Report,
  cases: PlannedCase[],
  histogram: Record<string, number>,
  modulePath: string,
): ReplayPlan {
  const byId = new Map(cases.map((c) => [c.id, c]));
  const keys: KeySpec[] = [];
  const keyIndex = (spec: KeySpec) => {
    const j = JSON.stringify(spec);
    let i = keys.findIndex((k) => JSON.stringify(k) === j);
    if (i < 0) i = keys.push(spec) - 1;
    return i;
  };
  const ops: ReplayOp[] = [];
  let failedInRun = 0;
  for (const result of report.cases) {
    const planned = byId.get(result.id);
    // The case's own key: the first key step's spec (wrapping and derivation keys are matched by count).
    const keyStep = planned?.steps.find((s) => s.op === "key");
    const spec = keyStep && "spec" in keyStep ? planned?.keys?.[keyStep.spec] : undefined;
    const trace = result.trace ?? [];
    for (let i = 0; i < trace.length; i++) {
      const kind = INIT[trace[i]!.fn];
      if (!kind) continue;
      const init = trace[i]!;
      const args = (init.args ?? {}) as { mechanism?: TracedMechanism };
      if (!args.mechanism) continue;
      const op: ReplayOp = { kind, mechanism: args.mechanism, initOk: init.rv === "CKR_OK" };
      if (init.rv !== "CKR_OK") failedInRun++;
      if (kind !== "digest") {
        if (!spec) continue;
        op.key = keyIndex(spec);
        op.part = !asymmetric(spec) ? "secret" : kind === "sign" || kind === "decrypt" ? "private" : "public";
      }
      const rest = follow(trace, i + 1, kind);
      Object.assign(op, rest.op);
      failedInRun += rest.failed;
      i = rest.next - 1;
      ops.push(op);
    }
  }
  return { modulePath, keys, ops, histogram, failedInRun };
}

/** The calls after an init that belong to its operation. */
function follow(
  trace: TraceEntry[],
  from: number,
  kind: OpKind,
): { op: Partial<ReplayOp>; next: number; failed: number } {
  const one = ONE[kind];
  const len = (e: TraceEntry, k: string) => Number(e.args?.[k] ?? 0);
  const e = trace[from];
  if (!e) return { op: {}, next: from, failed: 0 };
  if (e.fn === one)
    return {
      op: { single: len(e, "dataLen"), signatureLen: len(e, "signatureLen") || undefined },
      next: from + 1,
      failed: e.rv === "CKR_OK" ? 0 : 1,
    };
  const parts: number[] = [];
  let i = from;
  let failed = 0;
  for (; trace[i]?.fn === `${one}Update`; i++) {
    parts.push(len(trace[i]!, "partLen"));
    if (trace[i]!.rv !== "CKR_OK") failed++;
  }
  if (!parts.length) return { op: {}, next: from, failed: 0 };
  const fin = trace[i];
  if (fin?.fn !== `${one}Final`) return { op: { parts }, next: i, failed };
  return {
    op: { parts, final: true, signatureLen: len(fin, "signatureLen") || undefined },
    next: i + 1,
    failed: failed + (fin.rv === "CKR_OK" ? 0 : 1),
  };
}
