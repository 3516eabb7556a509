// Before a run logs in or writes anything: what the module shows (tokens, and the objects anyone can
// see), and for a YubiKey profile the listing, the YubiKey to use, the slots the run may write and the
// factory-default checks. Also `--plan`, which stops there, and `p11compat yubikey`.
import type { DeviceProfile } from "../device/model.js";
import { DeviceError, provision, type Provisioned } from "../device/provision.js";
import {
  PRIMARY_IDS,
  SLOT_NAMES,
  formatListing,
  parseSlots,
  readMetadata,
  requireYubikey,
  selectYubikey,
  slotName,
  slotPolicy,
  yubikeysIn,
  type Metadata,
  type SlotPolicy,
  type YubikeyView,
} from "../device/yubikey.js";
import type { PlannedCase } from "../suite/model.js";
import type { TokenListing } from "../pkcs11/token.js";
import { formatPlan, planKeys } from "../plan/keys.js";
import { Supervisor } from "./supervisor.js";

export interface SelectionOptions {
  /** --serial: the token to use (and, for --allow-overwrite, the confirmation of which one). */
  serial?: string;
  /** --allow-overwrite: slot names (a YubiKey's 9a, 82, ...) that may be written although occupied. */
  allowOverwrite?: string;
}

export interface Preflight {
  /** The listing printed before anything else (YubiKey profiles). */
  listing?: string;
  yubikey?: YubikeyView;
  policy?: SlotPolicy;
}

function inspector(profile: DeviceProfile, prov: Provisioned): Supervisor {
  return new Supervisor({ device: prov.device, env: prov.env, caseTimeoutMs: profile.timeouts.caseSeconds * 1000, initTimeoutMs: profile.timeouts.startSeconds * 1000 });
}

/** The tokens the module shows, read-only, in a worker of their own (no login, nothing written). */
export async function inventory(profile: DeviceProfile, prov: Provisioned): Promise<TokenListing[]> {
  try {
    return await inspector(profile, prov).inspect(true);
  } catch (err) {
    const hint = profile.yubikey ? "; is pcscd running, and the YubiKey plugged in?" : "";
    throw new DeviceError(`could not list the tokens through ${prov.modulePath}: ${(err as Error).message}${hint}`);
  }
}

/**
 * Settles which token the run uses and, on a YubiKey, which slots it may write; points the worker's
 * device at them (select by serial, the slot policy in keys). Reads only.
 */
export async function preflight(profile: DeviceProfile, prov: Provisioned, opts: SelectionOptions): Promise<Preflight> {
  if (!profile.yubikey) {
    if (opts.allowOverwrite) throw new DeviceError(`--allow-overwrite names YubiKey slots, but ${profile.id} is not a YubiKey profile`);
    if (opts.serial) {
      if (profile.token.serial && profile.token.serial !== opts.serial) throw new DeviceError(`--serial ${opts.serial} does not match the profile's token.serial ${profile.token.serial}`);
      prov.device.select = { ...prov.device.select, serial: opts.serial };
    }
    return {};
  }
  const settings = requireYubikey(profile);
  const overwrite = opts.allowOverwrite ? parseSlots(opts.allowOverwrite) : [];
  const tokens = await inventory(profile, prov);
  const picked = selectYubikey(yubikeysIn(tokens), { flag: opts.serial, profile: profile.token.serial }, prov.modulePath);
  const meta = await readMetadata(picked.serial, prov.env, settings.metadata);
  const keys = yubikeysIn(tokens, new Map([[picked.serial, meta]]));
  const k = keys.find((x) => x.serial === picked.serial)!;
  const policy = slotPolicy(k, profile.keys?.ids ?? [], overwrite, opts.serial ?? profile.token.serial);
  prov.device.select = { ...profile.token, serial: k.serial };
  prov.device.keys = {
    ...profile.keys,
    ids: policy.writable,
    overwrite: policy.overwrite,
    serial: policy.serial,
    protect: policy.protect,
    occupied: policy.occupied,
    names: SLOT_NAMES,
  };
  const touch = meta.managementKey?.touchPolicy;
  prov.device.yubikey = { soTouch: touch === 2 || touch === 3, keyTouch: true };
  return { listing: formatListing(keys, k, policy, prov.modulePath), yubikey: k, policy };
}

/** The YubiKeys the module shows, each with its metadata: what `p11compat yubikey` prints. */
export async function listYubikeys(profile: DeviceProfile, opts: { modulePath?: string; serial?: string }): Promise<string> {
  const settings = requireYubikey(profile);
  const prov = await provision(profile, { modulePath: opts.modulePath, runTag: "inspect" });
  try {
    const tokens = await inventory(profile, prov);
    let found = yubikeysIn(tokens);
    if (opts.serial) found = [selectYubikey(found, { flag: opts.serial }, prov.modulePath)];
    if (!found.length) throw new DeviceError(`no YubiKey found through ${prov.modulePath}: is it plugged in, and is pcscd running?`);
    const metadata = new Map<string, Metadata>();
    for (const k of found) metadata.set(k.serial, await readMetadata(k.serial, prov.env, settings.metadata));
    const keys = yubikeysIn(tokens, metadata).filter((k) => found.some((f) => f.serial === k.serial));
    const only = keys.length === 1 ? keys[0] : undefined;
    const policy = only ? slotPolicy(only, profile.keys?.ids ?? [], [], undefined) : undefined;
    return formatListing(keys, only, policy, prov.modulePath);
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
  const ids = profile.keys?.ids;
  if (!ids) return formatPlan(planKeys(cases), { title: `${title}; each key's CKA_ID is its name.` });
  const prov = await provision(profile, { modulePath: opts.modulePath, runTag: "plan" });
  try {
    if (profile.yubikey) {
      const pre = await preflight(profile, prov, opts);
      if (pre.listing) opts.onPreflight?.(pre.listing);
      const policy = pre.policy!;
      const candidates = policy.writable;
      const untouched = [
        ...policy.refused,
        ...pre.yubikey!.slots
          .filter((s) => !ids.includes(s.id) && !candidates.includes(s.id))
          .map((s) => ({ id: s.id, why: s.id === "19" ? "attestation: never written" : PRIMARY_IDS.includes(s.id) ? "primary slot: written only with --allow-overwrite" : "not in the profile's keys.ids" })),
      ];
      return formatPlan(
        planKeys(cases, candidates),
        {
          title: `${title}, YubiKey ${pre.yubikey!.serial} (${pre.yubikey!.model}, firmware ${pre.yubikey!.firmware}).`,
          slotName,
          untouched,
          slotNote: "each gets a key and ykcs11's placeholder certificate; the certificate is removed afterwards, the key stays (ykcs11 cannot delete keys)",
        },
        candidates,
      );
    }
    // Any other token that picks slots by CKA_ID: the ids no object has are the ones a key may take.
    await preflight(profile, prov, opts);
    const tokens = await inventory(profile, prov);
    const token = matchToken(tokens, prov.device.select);
    const taken = new Set(token.objects.map((o) => o.id));
    const free = ids.filter((id) => !taken.has(id));
    return formatPlan(
      planKeys(cases, free),
      { title: `${title}, token "${token.label}" (serial ${token.serial}).`, untouched: ids.filter((id) => taken.has(id)).map((id) => ({ id, why: "an object on the token has it" })) },
      free,
    );
  } finally {
    await prov.teardown();
  }
}

/** The token a worker's selectSlot would choose. */
function matchToken(tokens: TokenListing[], select: { label?: string; serial?: string; index?: number }): TokenListing {
  const t = tokens.find(
    (x, i) => (select.label === undefined || x.label === select.label) && (select.serial === undefined || x.serial === select.serial) && (select.index === undefined || select.index === i),
  );
  if (!t) throw new DeviceError(`no token matches ${JSON.stringify(select)}; tokens present: ${tokens.map((x) => JSON.stringify(x.label)).join(", ") || "none"}`);
  return t;
}
