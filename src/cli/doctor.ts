// `p11compat doctor`: one screen of what works and what does not between the module and the token, with
// the next step for each problem; exit 0 when the token is usable.
import { runDoctor, usable } from "../runner/doctor.js";
import { profileFilter, tokenFilterOf } from "../device/tokens.js";
import type { DoctorCheck } from "../contract/worker.js";
import { profileFor, type ProfileFlags } from "./run.js";
import { UsageError } from "./output.js";

interface DoctorFlags extends ProfileFlags {
  slot?: string;
  token?: string;
  serial?: string;
}

const MARK: Record<DoctorCheck["status"], string> = {
  ok: "ok",
  info: "info",
  warn: "WARN",
  problem: "PROBLEM",
  running: "...",
};

export async function doctorCommand(flags: DoctorFlags): Promise<void> {
  if (!flags.module && !flags.device)
    throw new UsageError(
      "doctor needs the module to check: --module PATH, or --device NAME (a profile or p11-kit:NAME)",
    );
  // A profile's own PIN source stays as it is; --pin-env names the PIN to try on any device.
  const existing = flags.device === undefined || flags.device.startsWith("p11-kit:");
  const { profile, modulePath } = await profileFor(existing ? flags : { ...flags, pinEnv: undefined });
  let pin: string | undefined;
  if (flags.pinEnv && !existing) {
    pin = process.env[flags.pinEnv];
    if (pin === undefined) throw new UsageError(`--pin-env ${flags.pinEnv}: $${flags.pinEnv} is not set`);
  }
  process.stdout.write(`p11compat doctor: ${profile.title}\n`);
  const checks = await runDoctor({
    profile,
    modulePath,
    filter: { ...profileFilter(profile.token), ...tokenFilterOf(flags) },
    pin,
    onCheck: (c) => {
      const [first, ...rest] = c.text.split("\n");
      process.stdout.write(`  ${MARK[c.status].padEnd(8)}${c.step.padEnd(12)}${first}\n`);
      for (const line of rest) process.stdout.write(`${" ".repeat(20)}${line.trim()}\n`);
      if (c.next) process.stdout.write(`${" ".repeat(20)}-> ${c.next}\n`);
    },
  });
  const problems = checks.filter((c) => c.status === "problem").length;
  const ok = usable(checks);
  process.stdout.write(
    ok
      ? "\nThe token is usable: p11compat run can test it.\n"
      : `\nNot usable: ${problems ? `${problems} problem(s), the first is what to fix first` : "the checks did not reach a token"}.\n`,
  );
  process.exitCode = ok ? 0 : 1;
}
