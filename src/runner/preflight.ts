// Before a run logs in or writes anything: what the module shows (tokens, and the objects anyone can
// see), read in a worker of its own, and the device's prepare hook on top of it. Also `--plan`, which
// stops there, and the device listing (`p11compat yubikey`).
import type { DeviceProfile } from "../device/model.js";
import { DeviceError } from "../device/model.js";
import { provision, type Provisioned } from "../device/provision.js";
import type { HookContext, PreparedDevice, SelectionOptions } from "../device/hooks.js";
import { hooksFor } from "../device/registry.js";
import type { PlannedCase } from "../suite/model.js";
import type { TokenListing } from "../pkcs11/token.js";
import { formatPlan, planKeys } from "../plan/keys.js";
import { Supervisor } from "./supervisor.js";

export type { SelectionOptions } from "../device/hooks.js";

/** The tokens the module shows, read-only, in a worker of their own (no login, nothing written). */
async function inventory(profile: DeviceProfile, prov: Provisioned, objects = true): Promise<TokenListing[]> {
  const inspector = new Supervisor({
    device: prov.device,
    env: prov.env,
    caseTimeoutMs: profile.timeouts.caseSeconds * 1000,
    initTimeoutMs: profile.timeouts.startSeconds * 1000,
  });
  try {
    return await inspector.inspect(objects);
  } catch (err) {
    const hint = hooksFor(profile).unreachable;
    throw new DeviceError(
      `could not list the tokens through ${prov.modulePath}: ${(err as Error).message}${hint ? `; ${hint}` : ""}`,
    );
  }
}

function context(
  profile: DeviceProfile,
  prov: Provisioned,
  selection: SelectionOptions,
  cases?: PlannedCase[],
): HookContext {
  return { profile, prov, selection, cases, inventory: (objects) => inventory(profile, prov, objects) };
}

/** Settles which token (and slots) the run uses through the device's hooks; points the worker's device at them. Reads only. */
export function prepareDevice(
  profile: DeviceProfile,
  prov: Provisioned,
  selection: SelectionOptions,
  cases?: PlannedCase[],
): Promise<PreparedDevice> {
  return hooksFor(profile).prepare(context(profile, prov, selection, cases));
}

/** The device's own listing (what `p11compat yubikey` prints); undefined for a device that has none. */
export async function describeDevice(
  profile: DeviceProfile,
  opts: { modulePath?: string; serial?: string },
): Promise<string | undefined> {
  const hooks = hooksFor(profile);
  if (!hooks.describe) return undefined;
  const prov = await provision(profile, { modulePath: opts.modulePath, runTag: "inspect" });
  try {
    return await hooks.describe(context(profile, prov, { serial: opts.serial }));
  } finally {
    await prov.teardown();
  }
}

export interface PlanOptions extends SelectionOptions {
  profile: DeviceProfile;
  cases: PlannedCase[];
  suites: string[];
  modulePath?: string;
  onPreflight?: (listing: string) => void;
}

/**
 * `--plan`: the keys the cases would make and, on a token that picks the key slot by CKA_ID, the
 * slots they would go to. A token is reached only to see which slots are free (read-only, no login).
 */
export async function planRun(opts: PlanOptions): Promise<string> {
  const { profile, cases } = opts;
  const title = `Plan for ${cases.length} case(s) from ${opts.suites.join(", ")} on ${profile.id}`;
  // Keys named by themselves need no token to plan.
  if (!profile.keys?.ids) return formatPlan(planKeys(cases), { title: `${title}; each key's CKA_ID is its name.` });
  const prov = await provision(profile, { modulePath: opts.modulePath, runTag: "plan" });
  try {
    const device = await prepareDevice(profile, prov, opts, cases);
    if (device.listing) opts.onPreflight?.(device.listing);
    return await device.plan(cases, title);
  } finally {
    await prov.teardown();
  }
}
