// Builds the tests' hostile PKCS#11 module (test/fixtures/faulty-module/faulty.c) with gcc, once per
// source version (cached by hash), and makes SoftHSM profiles that load it with a fault chosen by env.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT, softhsm, tmpDir } from "./helpers.js";
import type { DeviceProfile } from "../../src/device/model.js";

const SOURCE = path.join(ROOT, "test", "fixtures", "faulty-module", "faulty.c");
const HEADERS = "/usr/include/p11-kit-1";
const FLAGS = ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-Wno-unused-parameter", `-I${HEADERS}`];
const PACKAGES = "gcc libc6-dev libp11-kit-dev (./scripts/install-system-deps.sh installs them)";

/** The compiled module's path; compiled only when this source and these flags were not built before. */
export function faultyModule(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash("sha256").update(source).update(FLAGS.join(" ")).digest("hex").slice(0, 16);
  const dir = path.join(os.tmpdir(), "p11compat-faulty-module");
  const lib = path.join(dir, `faulty-${hash}.so`);
  if (existsSync(lib)) return lib;
  if (!existsSync(path.join(HEADERS, "p11-kit", "pkcs11.h")))
    throw new Error(`the fault module needs the PKCS#11 header ${HEADERS}/p11-kit/pkcs11.h: install ${PACKAGES}`);
  mkdirSync(dir, { recursive: true });
  // Built beside its final name and renamed: two test processes never load a half-written file.
  const partial = `${lib}.${process.pid}`;
  try {
    execFileSync("gcc", [...FLAGS, "-o", partial, SOURCE, "-ldl"], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === "ENOENT") throw new Error(`the fault module needs gcc: install ${PACKAGES}`, { cause: err });
    throw new Error(`gcc could not build ${SOURCE}: ${e.stderr?.toString() ?? e.message}`, { cause: err });
  }
  renameSync(partial, lib);
  return lib;
}

export interface Fault {
  kind: "crash" | "hang" | "abort" | "fail" | "longlen" | "hugelen" | "garbagelen" | "initfail" | "finalizehang";
  fn?: string;
  after?: number;
  attribute?: number;
  /** Fire once per run (across worker restarts), not once per worker process. */
  once?: boolean;
  /** C_Initialize fails once the fault has fired (in any process): the restart after a crash fails. */
  initFailsAfter?: boolean;
}

/** The SoftHSM profile with its module replaced by the fault module, forwarding to SoftHSM. */
export async function faultyProfile(fault: Fault, overrides: Partial<DeviceProfile> = {}): Promise<DeviceProfile> {
  const base = await softhsm();
  const marker = path.join(tmpDir("fault"), "fired");
  const env: Record<string, string> = {
    ...base.env,
    P11FAULT: fault.kind,
    P11FAULT_TARGET: base.module.paths.find((p) => existsSync(p)) ?? base.module.paths[0]!,
  };
  if (fault.fn) env.P11FAULT_FN = fault.fn;
  if (fault.after !== undefined) env.P11FAULT_AFTER = String(fault.after);
  if (fault.attribute !== undefined) env.P11FAULT_ATTR = String(fault.attribute);
  if (fault.once) env.P11FAULT_ONCE = marker;
  if (fault.initFailsAfter) env.P11FAULT_INITFAIL_IF = marker;
  return {
    ...base,
    id: "faulty",
    module: { ...base.module, paths: [faultyModule()] },
    env,
    timeouts: { caseSeconds: 2, startSeconds: 10 },
    ...overrides,
  };
}
