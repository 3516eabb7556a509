// How a device plugs into a run: hooks the runner calls at fixed points (prepare before any login or
// write, beforeLogin, afterRun, and the --plan and listing views), so the runner names no device.
// registry.ts picks a profile's implementation; a profile without special needs gets plainHooks.
import type { PlannedCase } from "../suite/model.js";
import type { TokenListing } from "../pkcs11/token.js";
import { formatPlan, planKeys } from "../plan/keys.js";
import { DeviceError, type DeviceProfile } from "./model.js";
import type { Provisioned } from "./provision.js";

/** What the user chose on the command line about which token, and what may be overwritten. */
export interface SelectionOptions {
  /** --serial: the token to use (and, for --allow-overwrite, the confirmation of which one). */
  serial?: string;
  /** --allow-overwrite: slot names (a YubiKey's 9a, 82, ...) that may be written although occupied. */
  allowOverwrite?: string;
}

/** What a hook may use: the profile, the provisioned device (which it may point at a token), and a read-only look at the module. */
export interface HookContext {
  profile: DeviceProfile;
  prov: Provisioned;
  selection: SelectionOptions;
  /** The tokens the module shows with their public objects: no login, nothing written, in a worker of its own. */
  inventory(): Promise<TokenListing[]>;
}

/** One run's device state after prepare(). */
export interface PreparedDevice {
  /** Printed before anything else happens (a YubiKey's slots, say). */
  listing?: string;
  /** Just before the worker starts and logs in: settle PINs, refuse a PIN on its last try. Returns what the user should know. */
  beforeLogin(): Promise<string[]>;
  /** After the cases (read-only again): what the run left on the token. `written` are the CKA_IDs the worker wrote keys under. */
  afterRun(written: Iterable<string>): Promise<string[]>;
  /** The --plan text: the keys the cases would make and where they would go. */
  plan(cases: PlannedCase[], title: string): Promise<string>;
}

export interface DeviceHooks {
  /** Before any login or write: settles which token the run uses (and on a slot token which slots); reads only. */
  prepare(ctx: HookContext): Promise<PreparedDevice>;
  /** What to check when the module cannot even list its tokens. */
  unreachable?: string;
  /** What `p11compat yubikey` (a device listing) prints; absent where there is nothing beyond `devices`. */
  describe?(ctx: HookContext): Promise<string>;
}

export const plainHooks: DeviceHooks = {
  async prepare(ctx) {
    const { profile, prov, selection } = ctx;
    if (selection.allowOverwrite)
      throw new DeviceError(`--allow-overwrite names YubiKey slots, but ${profile.id} is not a YubiKey profile`);
    if (selection.serial) {
      if (profile.token.serial && profile.token.serial !== selection.serial) {
        throw new DeviceError(
          `--serial ${selection.serial} does not match the profile's token.serial ${profile.token.serial}`,
        );
      }
      prov.device.select = { ...prov.device.select, serial: selection.serial };
    }
    return {
      beforeLogin: async () => [],
      afterRun: async () => [],
      plan: async (cases, title) => {
        const ids = profile.keys?.ids ?? [];
        // A token that picks slots by CKA_ID: the ids no object has are the ones a key may take.
        const token = matchToken(await ctx.inventory(), prov.device.select);
        const taken = new Set(token.objects.map((o) => o.id));
        const free = ids.filter((id) => !taken.has(id));
        return formatPlan(
          planKeys(cases, free),
          {
            title: `${title}, token "${token.label}" (serial ${token.serial}).`,
            untouched: ids.filter((id) => taken.has(id)).map((id) => ({ id, why: "an object on the token has it" })),
          },
          free,
        );
      },
    };
  },
};

/** The token a worker's selectSlot would choose. */
function matchToken(tokens: TokenListing[], select: { label?: string; serial?: string; index?: number }): TokenListing {
  const t = tokens.find(
    (x, i) =>
      (select.label === undefined || x.label === select.label) &&
      (select.serial === undefined || x.serial === select.serial) &&
      (select.index === undefined || select.index === i),
  );
  if (!t)
    throw new DeviceError(
      `no token matches ${JSON.stringify(select)}; tokens present: ${tokens.map((x) => JSON.stringify(x.label)).join(", ") || "none"}`,
    );
  return t;
}
