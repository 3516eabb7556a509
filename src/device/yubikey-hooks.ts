// The YubiKey's device hooks: before anything, the listing, the YubiKey to use and the slots the run
// may write (read-only); before the login, the factory-default and PIN-retry checks; after the run,
// what the run left in the slots. The facts they rest on are in yubikey.ts and piv.ts.
import type { PlannedCase } from "../suite/model.js";
import { formatPlan, planKeys } from "../plan/keys.js";
import { DeviceError } from "./model.js";
import type { DeviceHooks, HookContext, PreparedDevice } from "./hooks.js";
import { PRIMARY_IDS, SLOT_NAMES, parseSlots, slotName } from "./piv.js";
import {
  checkBeforeLogin,
  factoryDefaults,
  formatListing,
  leftoverNotes,
  readMetadata,
  requireYubikey,
  selectYubikey,
  slotPolicy,
  yubikeysIn,
  type Metadata,
} from "./yubikey.js";

async function prepare(ctx: HookContext): Promise<PreparedDevice> {
  const { profile, prov, selection } = ctx;
  const settings = requireYubikey(profile);
  const overwrite = selection.allowOverwrite ? parseSlots(selection.allowOverwrite) : [];
  const tokens = await ctx.inventory();
  const picked = selectYubikey(
    yubikeysIn(tokens),
    { flag: selection.serial, profile: profile.token.serial },
    prov.modulePath,
  );
  const meta = await readMetadata(picked.serial, prov.env, settings.metadata);
  const keys = yubikeysIn(tokens, new Map([[picked.serial, meta]]));
  const k = keys.find((x) => x.serial === picked.serial)!;
  const policy = slotPolicy(k, profile.keys?.ids ?? [], overwrite, selection.serial ?? profile.token.serial);
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

  return {
    listing: formatListing(keys, k, policy, prov.modulePath),
    async beforeLogin() {
      checkBeforeLogin(k, {}); // a PIN on its last try is not even asked for
      const off = "the profile does not use factory values (yubikey.factoryDefaults is not true)";
      const defaults = settings.factoryDefaults ? factoryDefaults(k) : { unconfirmed: { user: off, so: off } };
      const settled = await prov.resolvePins(defaults);
      checkBeforeLogin(k, prov.device.pins);
      return settled;
    },
    async afterRun(written) {
      // The slots as they are now (read-only again): which still hold a key the run made, and that nothing else changed.
      const after = await ctx
        .inventory()
        .then(async (now) =>
          yubikeysIn(now, new Map([[k.serial, await readMetadata(k.serial, prov.env, settings.metadata)]])),
        )
        .then((found) => found.find((x) => x.serial === k.serial))
        .catch(() => undefined);
      return leftoverNotes(k, after, written, policy);
    },
    async plan(cases: PlannedCase[], title: string) {
      const ids = profile.keys?.ids ?? [];
      const candidates = policy.writable;
      const untouched = [
        ...policy.refused,
        ...k.slots
          .filter((s) => !ids.includes(s.id) && !candidates.includes(s.id))
          .map((s) => ({
            id: s.id,
            why:
              s.id === "19"
                ? "attestation: never written"
                : PRIMARY_IDS.includes(s.id)
                  ? "primary slot: written only with --allow-overwrite"
                  : "not in the profile's keys.ids",
          })),
      ];
      return formatPlan(
        planKeys(cases, candidates),
        {
          title: `${title}, YubiKey ${k.serial} (${k.model}, firmware ${k.firmware}).`,
          slotName,
          untouched,
          slotNote:
            "each gets a key and ykcs11's placeholder certificate; the certificate is removed afterwards, the key stays (ykcs11 cannot delete keys)",
        },
        candidates,
      );
    },
  };
}

/** The YubiKeys the module shows, each with its metadata: what `p11compat yubikey` prints. */
async function describe(ctx: HookContext): Promise<string> {
  const { profile, prov, selection } = ctx;
  const settings = requireYubikey(profile);
  const tokens = await ctx.inventory();
  let found = yubikeysIn(tokens);
  if (selection.serial) found = [selectYubikey(found, { flag: selection.serial }, prov.modulePath)];
  if (!found.length)
    throw new DeviceError(`no YubiKey found through ${prov.modulePath}: is it plugged in, and is pcscd running?`);
  const metadata = new Map<string, Metadata>();
  for (const y of found) metadata.set(y.serial, await readMetadata(y.serial, prov.env, settings.metadata));
  const keys = yubikeysIn(tokens, metadata).filter((y) => found.some((f) => f.serial === y.serial));
  const only = keys.length === 1 ? keys[0] : undefined;
  const policy = only ? slotPolicy(only, profile.keys?.ids ?? [], [], undefined) : undefined;
  return formatListing(keys, only, policy, prov.modulePath);
}

export const yubikeyHooks: DeviceHooks = {
  prepare,
  describe,
  unreachable: "is pcscd running, and the YubiKey plugged in?",
};
