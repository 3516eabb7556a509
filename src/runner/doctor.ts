// `p11compat doctor`: what stands between a module and a usable token, found step by step. The file
// and pcscd are checked here; everything that calls the module runs in a worker process of its own,
// so a module that crashes or hangs costs that process, and doctor says at which step.
import { statSync } from "node:fs";
import type { DeviceProfile } from "../device/model.js";
import { findModule, missingRequirements, provision, type Provisioned } from "../device/provision.js";
import { checkPcscd, pcscdSocket } from "../device/pcscd.js";
import { exportedSymbols } from "../device/elf.js";
import type { TokenFilter } from "../device/tokens.js";
import type { DoctorCheck } from "../contract/worker.js";
import { Supervisor } from "./supervisor.js";

export interface DoctorOptions {
  profile: DeviceProfile;
  modulePath?: string;
  filter: TokenFilter;
  /** The user PIN to try once; undefined: the profile's own (a throwaway token's), or no login test. */
  pin?: string;
  /** Each finding as it is made. */
  onCheck?: (check: DoctorCheck) => void;
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => {
    checks.push(c);
    opts.onCheck?.(c);
  };
  const { profile } = opts;
  let modulePath: string;
  try {
    modulePath = await findModule(profile, opts.modulePath);
  } catch (err) {
    const given = opts.modulePath ?? (profile.module.paths.length === 1 ? profile.module.paths[0] : undefined);
    add({
      step: "file",
      status: "problem",
      text: given ? `no such file: ${given}` : (err as Error).message.replace(/, or pass --module PATH$/, ""),
      next: "give the module's full path (--module PATH); `p11compat devices` lists the profiles' modules and those registered with p11-kit",
    });
    return checks;
  }
  const st = statSync(modulePath);
  if (!st.isFile()) {
    add({
      step: "file",
      status: "problem",
      text: `${modulePath} is not a file`,
      next: "give the module's shared library itself",
    });
    return checks;
  }
  add({ step: "file", status: "ok", text: `${modulePath} (${Math.round(st.size / 1024)} KiB)` });
  const exported = exportedSymbols(modulePath, ["C_GetFunctionList", "C_GetInterface"]);
  if (exported?.has("C_GetFunctionList"))
    add({
      step: "exports",
      status: "info",
      text: exported.has("C_GetInterface")
        ? "C_GetFunctionList and C_GetInterface (a PKCS#11 3.x module; p11compat calls C_GetFunctionList)"
        : "C_GetFunctionList, no C_GetInterface (a PKCS#11 2.x interface)",
    });
  const missing = await missingRequirements(profile);
  if (missing.length) {
    for (const m of missing) add({ step: "requires", status: "problem", text: m });
    return checks;
  }
  let prov: Provisioned;
  try {
    prov = await provision(profile, { modulePath, runTag: "doctor" });
  } catch (err) {
    add({ step: "set-up", status: "problem", text: `the profile's set-up failed: ${(err as Error).message}` });
    return checks;
  }
  try {
    // A smart card's module (PIV slots) reaches the card through pcscd.
    const smartCard = profile.keys?.slots === "piv";
    if (smartCard) add(await checkPcscd(pcscdSocket({ ...process.env, ...prov.env })));
    const device = {
      ...prov.device,
      pins: { ...prov.device.pins, ...(opts.pin !== undefined ? { user: opts.pin } : {}) },
    };
    let running: DoctorCheck | undefined;
    const supervisor = new Supervisor({
      device,
      env: prov.env,
      caseTimeoutMs: profile.timeouts.caseSeconds * 1000,
      initTimeoutMs: profile.timeouts.startSeconds * 1000,
      onEvent: (e) => {
        if (e.kind !== "check") return;
        if (e.check.status === "running") running = e.check;
        else {
          running = undefined;
          add(e.check);
        }
      },
    });
    try {
      await supervisor.doctor(opts.filter);
    } catch (err) {
      add({
        step: running?.step ?? "worker",
        status: "problem",
        text: `the module brought down the process${running ? ` during ${running.text}` : ""}: ${(err as Error).message}`,
        next: "a bug in the module: see its own log, and report it to its vendor with this step",
      });
    }
    const pcscdOk = checks.some((c) => c.step === "pcscd" && c.status === "ok");
    if (smartCard && pcscdOk && checks.some((c) => c.step === "slots" && c.status === "problem"))
      add({
        step: "reader",
        status: "problem",
        text: "no reader with a YubiKey: ykcs11 shows no slot with a token",
        next: "plug the YubiKey in (`ykman list` shows it); for the virtual card, is its pcscd the one $PCSCLITE_CSOCK_NAME names?",
      });
  } finally {
    await prov.teardown();
  }
  return checks;
}

/** Usable: no problem found, and the checks got as far as the token. */
export function usable(checks: DoctorCheck[]): boolean {
  return !checks.some((c) => c.status === "problem") && checks.some((c) => c.step === "mechanisms");
}
