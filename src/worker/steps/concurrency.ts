// The concurrency step: N sessions signing at once through pkcs11js's asynchronous calls (each runs
// the module's C_Sign on a libuv thread-pool thread, so the module is entered from several threads),
// every signature checked by node:crypto; and C_Initialize in a forked child, checked by running
// OpenSC's `pkcs11-tool --test-fork`, an independent C program that really forks (node cannot).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { code, codeOf } from "../../pkcs11/constants.js";
import { Pkcs11CallError, toCallError, type Ckr } from "../../pkcs11/errors.js";
import type { Handle } from "../../pkcs11/token.js";
import * as oracle from "../../crypto/oracle.js";
import type { ConcurrencyStep } from "../../suite/model.js";
import { CannotCheck, Nonconformant } from "../outcomes.js";
import { curveOf, keyOf, mechanism, signingHandle, type StepContext } from "./context.js";

/** Bounds: the whole parallel check stops starting rounds after this long. */
const PARALLEL_BUDGET_MS = 10_000;
const FORK_TIMEOUT_MS = 30_000;

async function parallel(ctx: StepContext, step: ConcurrencyStep): Promise<void> {
  const { session, state, tok } = ctx;
  const key = keyOf(state, step.key);
  const m = mechanism(session, state, step.mechanism ?? { name: "ECDSA" });
  const n = step.sessions ?? 8;
  const rounds = step.rounds ?? 4;
  const handle = signingHandle(key);
  const sessions: Handle[] = [];
  const errors = new Map<string, number>();
  let signed = 0;
  let wrong = 0;
  const deadline = Date.now() + PARALLEL_BUDGET_MS;
  try {
    for (let i = 0; i < n; i++) sessions.push(tok.openSession());
    const worker = async (s: Handle) => {
      for (let r = 0; r < rounds && Date.now() < deadline; r++) {
        const message = randomBytes(64);
        const input = oracle.signatureInput(m.name, m.params, message, curveOf(key.spec));
        try {
          tok.call("C_SignInit", undefined, () => tok.lib.C_SignInit(s, m.pk as never, handle));
          tok.afterInit?.(s, handle);
          const sig = await tok.lib.C_SignAsync(s, input, Buffer.alloc(1024));
          signed++;
          const v = oracle.verifySignature(m.name, m.params, key.secret ?? key.publicKey!, message, sig);
          if (!v.ok) wrong++;
        } catch (err) {
          const e = toCallError("C_Sign", err);
          if (!(e instanceof Pkcs11CallError)) throw e;
          const rv = e.ckr.name;
          errors.set(rv, (errors.get(rv) ?? 0) + 1);
        }
      }
    };
    await Promise.all(sessions.map(worker));
  } finally {
    for (const s of sessions) tok.closeSession(s);
  }
  const failed = [...errors.values()].reduce((a, b) => a + b, 0);
  const summary = `${n} sessions x up to ${rounds} rounds of C_SignInit + C_SignAsync(${m.name}) at once (C_Initialize with CKF_OS_LOCKING_OK): ${signed} signatures, ${wrong} rejected by node:crypto, ${failed} calls failed${failed ? ` (${[...errors].map(([k, v]) => `${k} x${v}`).join(", ")})` : ""}`;
  if (wrong || failed)
    throw new Nonconformant("C_Sign", `concurrency: ${summary}`, rvOf([...errors.keys()][0] ?? "CKR_OK"));
  state.verified.push(summary);
}

const rvOf = (name: string): Ckr => ({ name, code: codeOf("CKR", name) ?? code("CKR_GENERAL_ERROR") });

function fork(ctx: StepContext): void {
  const { session, state, tok } = ctx;
  if (session.device.libraryParameters)
    throw new CannotCheck(
      "pkcs11-tool cannot pass the module's C_Initialize parameters (pReserved) that this token needs",
    );
  const run = spawnSync("pkcs11-tool", ["--module", tok.modulePath, "--test-fork"], {
    encoding: "utf8",
    timeout: FORK_TIMEOUT_MS,
    env: process.env,
  });
  if (run.error) throw new CannotCheck(`pkcs11-tool --test-fork could not run: ${run.error.message}`);
  const out = `${run.stdout}${run.stderr}`.replace(/\s+/g, " ").trim();
  if (run.status === 0)
    return void state.verified.push(`pkcs11-tool --test-fork: C_Initialize in a forked child succeeded (${out})`);
  const inChild = /in child/.test(out);
  const rv = /rv = (CKR_\w+)/.exec(out)?.[1];
  if (!inChild) throw new CannotCheck(`pkcs11-tool --test-fork failed before it forked (exit ${run.status}): ${out}`);
  throw new Nonconformant(
    "C_Initialize",
    `fork: in a child forked after the parent's C_Initialize, C_Initialize returned ${rv ?? "an error"} (pkcs11-tool --test-fork, exit ${run.status}: ${out}); the child cannot start the module afresh, as the PKCS #11 base specification ("Applications and processes": a forked child makes its own C_Initialize call) expects it to`,
    rvOf(rv ?? "CKR_GENERAL_ERROR"),
  );
}

async function concurrencyStep(ctx: StepContext, step: ConcurrencyStep): Promise<void> {
  if (!ctx.session.isLoggedIn() && ctx.session.device.pins.user !== undefined) ctx.session.login();
  if (step.check === "parallel") return parallel(ctx, step);
  return fork(ctx);
}

export const concurrencySteps = { concurrency: concurrencyStep };
