// Runs one planned case: its steps in order, each token output checked by node:crypto.
// The first step that does not succeed decides the outcome; the result names the function,
// the CK_RV and what was being checked.
import { performance } from "node:perf_hooks";
import { code, codeOf } from "../pkcs11/constants.js";
import { Pkcs11CallError, formatCkr } from "../pkcs11/errors.js";
import { OutputLengthFault } from "../pkcs11/guarded.js";
import { caseResult, type CaseResult } from "../contract/report.js";
import { caseIdentity } from "../plan/identity.js";
import type { PlannedCase, Step } from "../suite/model.js";
import { OracleUnsupported } from "../crypto/oracle.js";
import type { KeyStore } from "./keys.js";
import { classifyTokenError } from "./classify.js";
import { CannotCheck, DependencyFailure, Nonconformant, VerificationFailure } from "./outcomes.js";
import type { TokenSession } from "./session.js";
import type { CaseOptions } from "../contract/worker.js";
import { diagnosable, diagnose } from "../diagnose/diagnose.js";
import type { Alternative } from "../diagnose/alternatives.js";
import type { Attr } from "../pkcs11/attributes.js";
import type { CaseState, StepContext, StepHandlers } from "./steps/context.js";
import { cryptoSteps } from "./steps/crypto.js";
import { objectSteps } from "./steps/objects.js";
import { conformanceSteps } from "./steps/conformance.js";
import { policySteps } from "./steps/policy.js";
import { concurrencySteps } from "./steps/concurrency.js";

export async function executeCase(
  session: TokenSession,
  store: KeyStore,
  planned: PlannedCase,
  options: CaseOptions,
): Promise<CaseResult> {
  const t0 = performance.now();
  const keysBefore = session.keysGenerated;
  session.token.trace.reset();
  const state: CaseState = { keys: new Map(), objects: new Map(), mine: [], verified: [], op: "", uses: [] };
  let result: Pick<CaseResult, "outcome" | "message" | "function" | "ckr" | "attribute" | "diagnosis">;
  // The trace shows the case's own calls; clean-up after it (closing a poisoned session, logging
  // back in) counts in the timings but would bury the failing call.
  let ownCalls: number;
  try {
    for (const step of planned.steps) {
      state.mechanism = undefined;
      state.op = step.op;
      await runStep(session, store, planned, state, step);
    }
    ownCalls = session.token.trace.size;
    result = { outcome: "pass", message: state.verified.length ? state.verified.join("; ") : "all steps succeeded" };
  } catch (err) {
    ownCalls = session.token.trace.size;
    result = describeFailure(err, state);
    // CKR_ARGUMENTS_BAD for a mechanism the suite gave parameters is about the parameters (classify.ts).
    const aboutParams = result.outcome === "unsupported" && result.ckr?.name === "CKR_ARGUMENTS_BAD";
    if (options.diagnosisBudget > 0 && diagnosable(err) && !aboutParams) {
      safely(() => session.resetOps());
      // The mechanism's key size range means CKA_VALUE_LEN / CKA_MODULUS_BITS only for key generation.
      const keygen = err.fn === "C_GenerateKey" || err.fn === "C_GenerateKeyPair";
      const info = keygen && state.mechanism ? session.mechanisms.get(code(state.mechanism.name)) : undefined;
      result.diagnosis = diagnose(err, options.diagnosisBudget, {
        keySizes: info ? { min: info.minKeySize, max: info.maxKeySize } : undefined,
        substitute: (attr) => foreignId(session, store, attr),
      });
      result.attribute ??= result.diagnosis.culprits[0]?.attribute ?? result.diagnosis.missing[0]?.attribute;
    }
    if (err instanceof Pkcs11CallError || err instanceof VerificationFailure || err instanceof Nonconformant)
      safely(() => session.resetOps());
  } finally {
    for (const handle of state.mine) session.dispose(handle);
    session.restore();
  }
  if (session.broken && result.outcome === "pass") result = { outcome: "error", message: session.broken };
  const trace = session.token.trace;
  const keep = options.trace === "all" || (options.trace === "failed" && result.outcome !== "pass");
  return caseResult(caseIdentity(planned), {
    ...result,
    verified: state.verified.length ? state.verified : undefined,
    mechanism: result.outcome === "pass" ? undefined : state.mechanism?.name,
    uses: state.uses.length ? state.uses : undefined,
    durationMs: round(performance.now() - t0),
    pkcs11Ms: round(trace.pkcs11Ms),
    calls: trace.calls,
    keysGenerated: session.keysGenerated - keysBefore,
    trace: keep ? trace.render(ownCalls) : undefined,
  });
}

/** A CKA_ID the run did not hand out, on a token where the id picks a key slot: the run's own id to try instead. */
function foreignId(session: TokenSession, store: KeyStore, attr: Attr): Alternative | undefined {
  if (attr.type !== code("CKA_ID") || !Buffer.isBuffer(attr.value) || session.claimed.has(attr.value.toString("hex")))
    return undefined;
  const id = store.diagnosisId();
  if (!id) return undefined;
  const hex = id.toString("hex");
  const slot = session.device.keys?.names?.[hex];
  return {
    attr: { type: attr.type, value: id },
    display: `${id.length} byte${id.length === 1 ? "" : "s"}, ${hex} (${slot ? `PIV slot ${slot}` : "an id this run may write"})`,
  };
}

function describeFailure(
  err: unknown,
  state: CaseState,
): Pick<CaseResult, "outcome" | "message" | "function" | "ckr" | "attribute"> {
  if (err instanceof Pkcs11CallError) {
    const c = classifyTokenError(err, { mechanism: state.mechanism, step: "" });
    return { outcome: c.outcome, message: c.message, function: err.fn, ckr: err.ckr, attribute: err.detail };
  }
  // CKR_OK with a length beyond the buffer (the module's fault, whatever a later check would blame),
  // or a result node:crypto refutes.
  if (err instanceof OutputLengthFault || err instanceof VerificationFailure)
    return {
      outcome: "fail",
      message: err.message,
      function: err.fn,
      ckr: { name: "CKR_OK", code: 0 },
      attribute: err.attribute,
    };
  if (err instanceof DependencyFailure)
    return { outcome: err.outcome, message: err.message, function: err.fn, ckr: err.ckr };
  if (err instanceof Nonconformant) return { outcome: "fail", message: err.message, function: err.fn, ckr: err.ckr };
  if (err instanceof CannotCheck) return { outcome: "skipped", message: err.message, function: err.fn };
  if (err instanceof OracleUnsupported)
    return { outcome: "skipped", message: `cannot check independently: ${err.message}` };
  const e = err as Error;
  const where = e.stack?.split("\n")[1]?.trim();
  return { outcome: "error", message: `harness error: ${e.message}${where ? ` (${where})` : ""}` };
}

async function runStep(
  session: TokenSession,
  store: KeyStore,
  planned: PlannedCase,
  state: CaseState,
  step: Step,
): Promise<void> {
  if (!step.expectError) return perform(session, store, planned, state, step);
  const want = codeOf("CKR", step.expectError);
  try {
    await perform(session, store, planned, state, step);
  } catch (err) {
    if (err instanceof Pkcs11CallError && err.ckr.code === want) {
      state.verified.push(`${err.fn} returned ${err.ckr.name} as expected`);
      safely(() => session.resetOps());
      return;
    }
    // A token that does not offer the mechanism cannot show the expected refusal: that is unsupported.
    if (
      err instanceof Pkcs11CallError &&
      classifyTokenError(err, { mechanism: state.mechanism, step: step.op }).outcome !== "unsupported"
    ) {
      throw new VerificationFailure(err.fn, `expected ${step.expectError}, got ${formatCkr(err.ckr)}`);
    }
    throw err;
  }
  throw new VerificationFailure(
    session.token.trace.last ?? step.op,
    `expected ${step.expectError}, but the call succeeded`,
  );
}
// Typed per op, so an op without a handler fails to compile.
const STEPS: StepHandlers = {
  ...cryptoSteps,
  ...objectSteps,
  ...conformanceSteps,
  ...policySteps,
  ...concurrencySteps,
};

function perform(
  session: TokenSession,
  store: KeyStore,
  planned: PlannedCase,
  state: CaseState,
  step: Step,
): Promise<void> {
  // TypeScript cannot correlate STEPS[step.op] with step's own type; the StepHandlers type guarantees it.
  const handler = STEPS[step.op] as (ctx: StepContext, step: Step) => Promise<void>;
  return handler({ session, store, planned, state, tok: session.token }, step);
}

function safely(fn: () => unknown): void {
  try {
    fn();
  } catch {
    /* clean-up after a failure must not replace the failure */
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
