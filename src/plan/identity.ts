// A planned case's identity as results carry it: id, suite, title, parameters and the key type the
// case is about (its first key step's spec), so reporters never guess the key type from names.
import type { CaseIdentity } from "../contract/report.js";
import type { KeySpec } from "../catalogue/keys.js";
import type { KeyStep, PlannedCase, Step } from "../suite/model.js";

export function caseIdentity(planned: PlannedCase): CaseIdentity {
  const keyStep = planned.steps.find((s) => s.op === "key");
  const keyType = keyStep ? planned.keys[keyStep.spec]?.type : undefined;
  return {
    id: planned.id,
    suite: planned.suite,
    title: planned.title,
    params: planned.params,
    ...(keyType ? { keyType } : {}),
  };
}

/** Which key steps share one key: the planner's count of key generations and the worker's cache agree by using this. */
export function keyCacheKey(step: KeyStep, spec: KeySpec): string {
  return JSON.stringify([step.spec, spec, step.source, step.template ?? null, step.login ?? null, step.exact ?? false]);
}

/** The key steps a step implies: itself for a key step, the generated target of a wrap step. */
export function keyStepsOf(step: Step): KeyStep[] {
  if (step.op === "key") return [step];
  if (step.op === "wrap") return [{ op: "key", spec: step.target, source: "generate" }];
  return [];
}
