// How a device plugs into a run: hooks the runner calls at fixed points (prepare before any login or
// write, beforeLogin, afterRun, and the --plan and listing views), so the runner names no device.
// registry.ts picks a profile's implementation; a profile without special needs gets plainHooks.
import type { PlannedCase } from "../suite/model.js";
import { formatPlan, planKeys } from "../plan/keys.js";
import { DeviceError, type DeviceProfile } from "./model.js";
import { slotNumber, type TokenListing } from "../pkcs11/token.js";
import { code } from "../pkcs11/constants.js";
import { pickToken, profileFilter, tokenFilterOf } from "./tokens.js";
import type { Provisioned } from "./provision.js";

/** What the user chose on the command line about which token, and what may be overwritten. */
export interface SelectionOptions {
  /** --serial: the token to use (and, for --allow-overwrite, the confirmation of which one). */
  serial?: string;
  /** --allow-overwrite: slot names (a YubiKey's 9a, 82, ...) that may be written although occupied. */
  allowOverwrite?: string;
  /** --slot: the CK_SLOT_ID (a number). */
  slot?: string;
  /** --token: a token label, or an RFC 7512 `pkcs11:` URI naming the token. */
  token?: string;
  /** --allow-token-objects: on a token holding keys that matter, the run may create token objects (destroyed afterwards). */
  allowTokenObjects?: boolean;
}

/** What a hook may use: the profile, the provisioned device (which it may point at a token), and a read-only look at the module. */
export interface HookContext {
  profile: DeviceProfile;
  prov: Provisioned;
  selection: SelectionOptions;
  /** The tokens the module shows (with `objects`, their public objects): no login, nothing written, in a worker of its own. */
  inventory(objects?: boolean): Promise<TokenListing[]>;
  /** The cases the run will run (absent for a listing): what they would write. */
  cases?: PlannedCase[];
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
    if (selection.serial && profile.token.serial && profile.token.serial !== selection.serial) {
      throw new DeviceError(
        `--serial ${selection.serial} does not match the profile's token.serial ${profile.token.serial}`,
      );
    }
    const filter = { ...profileFilter(profile.token), ...tokenFilterOf(selection) };
    const existing = !profile.throwaway;
    let listing: string | undefined;
    let pinNote: string | undefined;
    let picked: TokenListing | undefined;
    // A token holding keys that matter is looked at first: exactly one token, named or alone, and its PIN state.
    if (existing || selection.slot !== undefined || selection.token !== undefined) {
      picked = pickToken(await ctx.inventory(false), filter, prov.modulePath);
      prov.device.select = { slot: slotNumber(picked.slot), label: picked.label, serial: picked.serial };
    } else if (selection.serial) prov.device.select = { ...prov.device.select, serial: selection.serial };
    if (existing && picked) {
      pinNote = pinState(picked.flags);
      const writes = tokenObjectWrites(profile, ctx.cases ?? []);
      if (writes.length && !selection.allowTokenObjects && profile.objects === "token" && !profile.keys?.ids)
        throw new DeviceError(
          `${profile.id} makes every object a token object (objects: token), and token "${picked.label}" is not a throwaway token; pass --allow-token-objects to let the run create token objects on it (each is destroyed afterwards)`,
        );
      if (!selection.allowTokenObjects)
        prov.device.refuseTokenObjects = `token "${picked.label}" holds keys that may matter and --allow-token-objects was not given (the run makes session objects only)`;
      listing = [
        `Using token "${picked.label}" (serial ${picked.serial}, slot ${slotNumber(picked.slot)}, ${picked.manufacturer} ${picked.model}) through ${prov.modulePath}.`,
        selection.allowTokenObjects
          ? `--allow-token-objects: ${writes.length} case(s) will create token objects on it, labelled ${prov.device.labelPrefix}..., each destroyed by the run${writes.length ? ` (${summarise(writes)})` : ""}.`
          : `Session objects only: nothing the run makes outlives its session${writes.length ? `; ${writes.length} case(s) that need token objects are skipped (--allow-token-objects allows them: ${summarise(writes)})` : ""}. Only objects the run made are destroyed.`,
      ].join("\n");
    }
    return {
      listing,
      beforeLogin: async () => {
        // A PIN on its final try, or locked, is not even asked for; the worker checks again before every login.
        if (picked) refuseLogin(picked);
        const notes = await prov.resolvePins({});
        return pinNote ? [pinNote, ...notes] : notes;
      },
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

// CK_TOKEN_INFO flags about the user PIN's retry counter.
const CKF_USER_PIN_COUNT_LOW = code("CKF_USER_PIN_COUNT_LOW");
const CKF_USER_PIN_FINAL_TRY = code("CKF_USER_PIN_FINAL_TRY");
const CKF_USER_PIN_LOCKED = code("CKF_USER_PIN_LOCKED");

/** What the token's flags say about the user PIN's tries, when they say anything. */
function pinState(flags: number): string | undefined {
  if (flags & CKF_USER_PIN_COUNT_LOW)
    return "the token says a wrong user PIN was entered since the last right one (CKF_USER_PIN_COUNT_LOW): make sure of the PIN";
  return undefined;
}

function refuseLogin(t: TokenListing): void {
  if (t.flags & CKF_USER_PIN_LOCKED)
    throw new DeviceError(`token "${t.label}": the user PIN is locked (CKF_USER_PIN_LOCKED); the SO must unblock it`);
  if (t.flags & CKF_USER_PIN_FINAL_TRY)
    throw new DeviceError(
      `token "${t.label}": the user PIN has one try left (CKF_USER_PIN_FINAL_TRY); p11compat does not log in, so a wrong PIN cannot lock it`,
    );
}

/** Steps that make objects from a template (a search's template makes nothing). */
const MAKES = new Set(["key", "create", "copy", "derive", "unwrap"]);

/**
 * Cases with a step that makes an object with CKA_TOKEN true in its template, or all of them when the
 * profile makes only token objects. What is said before the run; the worker's guard is what enforces it.
 */
function tokenObjectWrites(profile: DeviceProfile, cases: PlannedCase[]): PlannedCase[] {
  if (profile.objects === "token") return cases;
  return cases.filter((c) => c.steps.some((s) => MAKES.has(s.op) && /"(CKA_)?TOKEN":true/.test(JSON.stringify(s))));
}

const summarise = (cases: PlannedCase[]) => {
  const suites = [...new Set(cases.map((c) => c.id.split("/")[0]))];
  return `suites ${suites.join(", ")}`;
};

/** The token a worker's selectSlot would choose. */
function matchToken(tokens: TokenListing[], select: DeviceProfile["token"] & { slot?: string }): TokenListing {
  const t = tokens.find(
    (x, i) =>
      (select.label === undefined || x.label === select.label) &&
      (select.serial === undefined || x.serial === select.serial) &&
      (select.index === undefined || select.index === i) &&
      (select.slot === undefined || select.slot === slotNumber(x.slot)),
  );
  if (!t)
    throw new DeviceError(
      `no token matches ${JSON.stringify(select)}; tokens present: ${tokens.map((x) => JSON.stringify(x.label)).join(", ") || "none"}`,
    );
  return t;
}
