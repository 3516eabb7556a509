// Steps about sessions and objects: login and logout, and create, copy, find, read, change and
// destroy objects the run made. Objects are checked by reading them back from the token.
import { Pkcs11CallError } from "../../pkcs11/errors.js";
import { attributeBytes, attributeName, isSensitiveAttribute } from "../../pkcs11/attributes.js";
import { encodeAttribute, resolveAttribute } from "../../template/encode.js";
import type { Step } from "../../suite/model.js";
import { VerificationFailure } from "../outcomes.js";
import { encode, objectOf, objectTemplate, tokenFlag, type StepContext } from "./context.js";
import { code } from "../../pkcs11/constants.js";

async function loginStep(ctx: StepContext, step: Extract<Step, { op: "login" }>): Promise<void> {
  const { session, state } = ctx;
  if (session.isLoggedIn()) session.logout();
  session.login();
  if (!session.isLoggedIn())
    throw new VerificationFailure("C_GetSessionInfo", "C_Login succeeded but the session is not in a user state");
  state.verified.push("session state is user after C_Login");
}

async function logoutStep(ctx: StepContext, step: Extract<Step, { op: "logout" }>): Promise<void> {
  const { session, state } = ctx;
  session.logout();
  if (session.isLoggedIn())
    throw new VerificationFailure("C_GetSessionInfo", "C_Logout succeeded but the session is still in a user state");
  state.verified.push("session state is public after C_Logout");
}

async function createStep(ctx: StepContext, step: Extract<Step, { op: "create" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const template = objectTemplate(session, step.template, step.as);
  const handle = tok.createObject(session.objects, template);
  session.track(handle, tokenFlag(template, session.device.tokenObjects));
  state.mine.push(handle);
  state.objects.set(step.as, handle);
}

async function copyStep(ctx: StepContext, step: Extract<Step, { op: "copy" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const source = objectOf(state, step.object);
  const template = encode(step.template ?? {});
  const handle = tok.copyObject(session.objects, source, template);
  // A copy is a token object if the template says so, else if its original is.
  session.track(handle, tokenFlag(template, session.isPersistent(source)));
  state.mine.push(handle);
  state.objects.set(step.as, handle);
}

async function findStep(ctx: StepContext, step: Extract<Step, { op: "find" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const found = tok.find(session.objects, encode(step.template)).map((h) => h.toString("hex"));
  for (const name of step.expectFound ?? []) {
    if (!found.includes(objectOf(state, name).toString("hex")))
      throw new VerificationFailure("C_FindObjects", `object ${name} matches the template but was not found`);
  }
  for (const name of step.expectNotFound ?? []) {
    if (found.includes(objectOf(state, name).toString("hex")))
      throw new VerificationFailure("C_FindObjects", `object ${name} does not match the template but was found`);
  }
  if (step.expectCount !== undefined && found.length !== step.expectCount) {
    throw new VerificationFailure("C_FindObjects", `expected ${step.expectCount} objects, found ${found.length}`);
  }
  state.verified.push(`C_FindObjects found ${found.length} object(s) as expected`);
}

async function getStep(ctx: StepContext, step: Extract<Step, { op: "get" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const handle = objectOf(state, step.object);
  for (const [name, expected] of Object.entries(step.attributes)) {
    const type = resolveAttribute(name);
    const raw = tok.getAttribute(session.objects, handle, type);
    if (expected === null) continue;
    const want = attributeBytes(encodeAttribute(name, expected));
    if (!Buffer.from(raw).equals(want)) {
      const shown = isSensitiveAttribute(type)
        ? `${raw.length} bytes that differ from the expected ${want.length}`
        : `${raw.toString("hex")}, expected ${want.toString("hex")}`;
      throw new VerificationFailure(
        "C_GetAttributeValue",
        `${name} of ${step.object} reads ${shown}`,
        attributeName(type),
      );
    }
  }
  state.verified.push(`attributes of ${step.object} read back as expected`);
}

async function setStep(ctx: StepContext, step: Extract<Step, { op: "set" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const handle = objectOf(state, step.object);
  tok.setAttributes(session.objects, handle, encode(step.attributes));
  session.relabel(handle);
}

async function destroyStep(ctx: StepContext, step: Extract<Step, { op: "destroy" }>): Promise<void> {
  const { session, state, tok } = ctx;
  const handle = objectOf(state, step.object);
  session.destroy(handle);
  state.objects.delete(step.object);
  try {
    tok.getAttribute(session.objects, handle, code("CKA_CLASS"));
  } catch (err) {
    if (err instanceof Pkcs11CallError && err.is("CKR_OBJECT_HANDLE_INVALID")) {
      state.verified.push(`${step.object} is gone after C_DestroyObject`);
      return;
    }
    throw err;
  }
  throw new VerificationFailure("C_DestroyObject", `${step.object} can still be read after C_DestroyObject`);
}

export const objectSteps = {
  login: loginStep,
  logout: logoutStep,
  create: createStep,
  copy: copyStep,
  find: findStep,
  get: getStep,
  set: setStep,
  destroy: destroyStep,
};
