// `p11compat record`: a client's PKCS#11 conversation on a fresh throwaway token, turned into a client
// profile. Twice when asked, each time on a token of its own, so that values that differ between runs
// (random ids, labels with times) are recognised and replayed as fresh values of the same shape.
import { writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import type { DeviceProfile } from "../device/model.js";
import { provision } from "../device/provision.js";
import { capture, RecordError, type Captured } from "./capture.js";
import { toProfile, varyingValues, type Converted } from "./profile.js";

export { RecordError } from "./capture.js";

export interface RecordOptions {
  profile: DeviceProfile;
  command: string;
  args: string[];
  out: string;
  modulePath?: string;
  moduleEnv?: string;
  twice?: boolean;
  timeoutSeconds: number;
  log: (line: string) => void;
}

export interface Recorded extends Converted {
  out: string;
  captured: Captured;
  varying: number;
}

async function once(opts: RecordOptions, n: number): Promise<Captured> {
  const prov = await provision(opts.profile, { modulePath: opts.modulePath, runTag: `record${n}` });
  try {
    return await capture({
      modulePath: prov.modulePath,
      command: opts.command,
      args: opts.args,
      env: prov.env,
      pin: prov.device.pins.user,
      moduleEnv: opts.moduleEnv,
      timeoutMs: opts.timeoutSeconds * 1000,
    });
  } finally {
    await prov.teardown();
  }
}

/** Records the client and writes its profile; what was recorded is kept even when the client failed. */
export async function record(opts: RecordOptions): Promise<Recorded> {
  if (!opts.profile.throwaway) {
    // The client is the user's program: it may write or delete anything on the token it is given.
    throw new RecordError(
      `${opts.profile.id} is not a throwaway token: record runs the client against a token the profile creates for the run (softhsm, nss, virtual-yubikey ...), never one that holds real keys`,
    );
  }
  if (existsSync(opts.out))
    throw new RecordError(`${opts.out} exists; record never writes over a file (choose another --out)`);
  const first = await once(opts, 1);
  if (!first.loaded) {
    throw new RecordError(
      `${opts.command} did not load the recording module (no PKCS#11 call was seen; exit ${first.exitCode ?? first.signal}). ` +
        `Give it {module} where it takes the module's path (-- pkcs11-tool --module {module} ...), or --module-env VAR for a client that reads it from VAR`,
    );
  }
  const second = opts.twice ? await once(opts, 2) : undefined;
  const varying = second ? varyingValues(first.calls, second.calls) : undefined;
  const command = [opts.command, ...opts.args].join(" ");
  const id = `recorded-${path
    .basename(opts.out)
    .replace(/\.ya?ml$/i, "")
    .replace(/[^A-Za-z0-9_-]+/g, "-")}`;
  const converted = toProfile(first.calls, {
    command,
    id,
    device: opts.profile.id,
    token: opts.profile.title,
    date: new Date().toISOString().slice(0, 10),
    varying,
  });
  await writeFile(opts.out, converted.yaml, { flag: "wx" });
  const status = first.timedOut
    ? `timed out after ${opts.timeoutSeconds} s`
    : first.signal
      ? `killed by ${first.signal}`
      : `exited ${first.exitCode}`;
  opts.log(
    `recorded ${first.calls.length} calls of ${command} (${status}) on ${opts.profile.id}: ${converted.cases} case(s), ${converted.replayed} steps -> ${opts.out}`,
  );
  if (varying?.size) opts.log(`${varying.size} value(s) differed between the two recordings: replayed as random:N`);
  for (const [what, n] of Object.entries(converted.notReplayed)) opts.log(`  not replayed: ${what} (x${n})`);
  return { ...converted, out: opts.out, captured: first, varying: varying?.size ?? 0 };
}
