// `p11compat record`: a client's PKCS#11 conversation on a fresh throwaway token, turned into a client
// profile. Twice when asked, each time on a token of its own, so that values that differ between runs
// (random ids, labels with times) are recognised and replayed as fresh values of the same shape.
import { writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import type { DeviceProfile } from "../device/model.js";
import { provision } from "../device/provision.js";
import { capture, runClient, RecordError, type Captured, type ClientRun } from "./capture.js";
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

/** The client is the user's program: it may write or delete anything on the token it is given. */
function throwawayOnly(profile: DeviceProfile): void {
  if (profile.throwaway) return;
  throw new RecordError(
    `${profile.id} is not a throwaway token: the client runs against a token the profile creates for the run (softhsm, nss, virtual-yubikey ...), never one that holds real keys`,
  );
}

export type ExecOptions = Omit<RecordOptions, "out" | "twice" | "log">;

/** A fresh token of the profile for one client run: set up, the client, torn down. */
async function onFreshToken<T>(
  opts: ExecOptions,
  tag: string,
  fn: (o: Parameters<typeof capture>[0]) => Promise<T>,
): Promise<T> {
  throwawayOnly(opts.profile);
  const prov = await provision(opts.profile, { modulePath: opts.modulePath, runTag: tag });
  try {
    return await fn({
      modulePath: prov.modulePath,
      command: opts.command,
      args: opts.args,
      env: prov.env,
      pin: prov.device.pins.user,
      soPin: prov.device.pins.so,
      keyLogin: prov.device.keys?.login,
      libraryParameters: prov.device.libraryParameters,
      tokenLabel: prov.device.select.label,
      moduleEnv: opts.moduleEnv,
      timeoutMs: opts.timeoutSeconds * 1000,
    });
  } finally {
    await prov.teardown();
  }
}

const once = (opts: RecordOptions, n: number): Promise<Captured> => onFreshToken(opts, `record${n}`, capture);

/** `p11compat exec`: the client on a fresh token of the profile, loading the token's module itself. */
export function execOn(opts: ExecOptions): Promise<ClientRun> {
  return onFreshToken(opts, "exec", (o) => runClient(o, o.modulePath));
}

/** Records the client and writes its profile; what was recorded is kept even when the client failed. */
export async function record(opts: RecordOptions): Promise<Recorded> {
  throwawayOnly(opts.profile);
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
