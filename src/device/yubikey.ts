// A real YubiKey's PIV application through Yubico's ykcs11: what is on it, which one to use, and which
// key slots a run may write. Everything here reads; nothing writes to the YubiKey.
//
// ykcs11 picks the key slot by the first byte of CKA_ID: 01=9a, 02=9c, 03=9d, 04=9e, 05..18 = retired
// 82..95, 19 = f9 (attestation). Generating a key replaces the slot's key (and ykcs11 writes a
// placeholder certificate); C_DestroyObject removes only the certificate: ykcs11 cannot delete keys.
// So the rules, enforced here (which ids a run may write) and again in the worker (KeyStore.keyId and
// TokenSession's write guard):
// - keys go only to retired slots that are empty: no key, no certificate (by the objects ykcs11 shows
//   without a login, and by the slot metadata when ykman can read it);
// - 9a, 9c, 9d, 9e and any occupied slot are written only when --allow-overwrite names them together
//   with the YubiKey's serial (--serial or token.serial); f9 never;
// - before firmware 5.3 a key imported without a certificate is invisible (no metadata): a slot that
//   shows nothing there is "unknown" and treated as occupied.
import { parseMap } from "../codec/tlv.js";
import type { TokenListing } from "../pkcs11/token.js";
import type { DeviceProfile } from "./model.js";
import { DeviceError, type PinDefaults } from "./model.js";
import { ATTESTATION_ID, PIV_SLOTS, PRIMARY_IDS, hex2, slotName, type PivSlot } from "./piv.js";

/** Yubico's factory values, used only when the YubiKey confirms they are still in use. Never printed. */
const FACTORY = { pin: "123456", managementKey: "010203040506070801020304050607080102030405060708" };

// ---------------------------------------------------------------------------------------------------
// PIV metadata (GET METADATA, INS F7, firmware 5.3+) through ykman, which reads it without spending a try.

export interface PivMetadata {
  algorithm?: number;
  pinPolicy?: number;
  /** 1 never, 2 always, 3 cached. */
  touchPolicy?: number;
  /** 1 generated on the YubiKey, 2 imported. */
  origin?: number;
  isDefault?: boolean;
  retries?: { total: number; remaining: number };
}

export interface Metadata {
  /** Why there is none (ykman missing, firmware before 5.3, ...). */
  unavailable?: string;
  version?: string;
  pin?: PivMetadata;
  managementKey?: PivMetadata;
  /** Per CKA_ID: the key's metadata, or null when the YubiKey says the slot holds no key. */
  slots: Map<string, PivMetadata | null>;
}

export function parseMetadata(data: Buffer): PivMetadata {
  const m = parseMap(data);
  const out: PivMetadata = {};
  const alg = m.get(0x01);
  if (alg?.length) out.algorithm = alg[0];
  const policy = m.get(0x02);
  if (policy && policy.length >= 2) [out.pinPolicy, out.touchPolicy] = [policy[0], policy[1]];
  const origin = m.get(0x03);
  if (origin?.length) out.origin = origin[0];
  const dflt = m.get(0x05);
  if (dflt?.length) out.isDefault = dflt[0] === 1;
  const retries = m.get(0x06);
  if (retries && retries.length >= 2) out.retries = { total: retries[0]!, remaining: retries[1]! };
  return out;
}

/** `ykman apdu -x` output: each command's header and the status word and data of its answer. */
export function parseApduOutput(text: string): Map<string, { sw: string; data: Buffer }> {
  const out = new Map<string, { sw: string; data: Buffer }>();
  const re =
    /SEND: ([0-9A-F]{2} [0-9A-F]{2} [0-9A-F]{2} [0-9A-F]{2})[^\n]*\r?\nRECV \(SW=([0-9A-F]{4})\):?[ \t]*(?:\r?\n([0-9A-F]*))?/gi;
  for (const m of text.matchAll(re))
    out.set(m[1]!.toUpperCase(), { sw: m[2]!.toUpperCase(), data: Buffer.from(m[3] ?? "", "hex") });
  return out;
}

/** Metadata of the PIN, the management key and every key slot, in one `ykman apdu` call (reads only). */
export async function readMetadata(
  serial: string,
  env: Record<string, string>,
  how: "ykman" | "none" = "ykman",
): Promise<Metadata> {
  const slots = new Map<string, PivMetadata | null>();
  if (how === "none") return { unavailable: "the profile does not read metadata (yubikey.metadata: none)", slots };
  // SELECT is done by -a piv; then GET METADATA (00 F7 00 xx) of the PIN (80), the management key (9B)
  // and each key slot, and GET VERSION (00 FD). Nothing else is sent.
  const apdus = ["fd", "f70080", "f7009b", ...PIV_SLOTS.map((s) => `f700${s.slot}`)];
  // Loaded here, not at start: only YubiKey runs need it (it takes ~85 ms to load).
  const { execa } = await import("execa");
  const r = await execa("ykman", ["--device", serial, "apdu", "-x", "-a", "piv", ...apdus], {
    env: { ...process.env, ...env },
    reject: false,
    timeout: 30_000,
    stdin: "ignore",
  });
  if (r.failed && r.exitCode === undefined)
    return { unavailable: `ykman could not be run (${r.code === "ENOENT" ? "not installed" : r.shortMessage})`, slots };
  const answers = parseApduOutput(r.stdout);
  if (!answers.size) {
    const why = `${r.stderr}`.trim().split("\n").at(-1) || `exit code ${r.exitCode}`;
    return { unavailable: `ykman could not read the YubiKey's PIV metadata: ${why}`, slots };
  }
  const version = answers.get("00 FD 00 00");
  const out: Metadata = {
    slots,
    version:
      version?.sw === "9000" && version.data.length >= 3 ? [...version.data.subarray(0, 3)].join(".") : undefined,
  };
  const pin = answers.get("00 F7 00 80");
  if (pin?.sw !== "9000") {
    out.unavailable = `the YubiKey has no PIV metadata (firmware ${out.version ?? "unknown"}; it came with 5.3)`;
    return out;
  }
  out.pin = parseMetadata(pin.data);
  const mgm = answers.get("00 F7 00 9B");
  if (mgm?.sw === "9000") out.managementKey = parseMetadata(mgm.data);
  for (const s of PIV_SLOTS) {
    const a = answers.get(`00 F7 00 ${s.slot.toUpperCase()}`);
    if (a?.sw === "9000") slots.set(s.id, parseMetadata(a.data));
    else if (a?.sw === "6A88") slots.set(s.id, null);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The YubiKeys ykcs11 shows, with their slots.

export interface SlotView extends PivSlot {
  key: boolean;
  certificate: boolean;
  /** An attestation certificate ykcs11 made: the key was generated on the YubiKey. */
  attested: boolean;
  meta?: PivMetadata;
  /** occupied: a key or a certificate; unknown: nothing shows, but before 5.3 a key without certificate would not. */
  state: "empty" | "occupied" | "unknown";
}

export interface YubikeyView {
  serial: string;
  label: string;
  model: string;
  /** x.y.z: from GET VERSION when ykman read it, else ykcs11's major.(minor*10+patch). */
  firmware: string;
  flags: number;
  slots: SlotView[];
  metadata?: Metadata;
}

const CKF_USER_PIN_COUNT_LOW = 0x10000;
const CKF_USER_PIN_FINAL_TRY = 0x20000;
const CKF_USER_PIN_LOCKED = 0x40000;

function isYubikey(t: TokenListing): boolean {
  return /yubico/i.test(t.manufacturer) || /yubikey/i.test(t.model);
}

function firmwareOf(t: TokenListing): string {
  const { major, minor } = t.firmware;
  return minor >= 10 ? `${major}.${Math.floor(minor / 10)}.${minor % 10}` : `${major}.${minor}`;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split(".").map(Number);
  return a > major || (a === major && b >= minor);
}

/** The YubiKeys among the tokens, each with its slots as ykcs11 shows them and (if read) their metadata. */
export function yubikeysIn(tokens: TokenListing[], metadata: Map<string, Metadata> = new Map()): YubikeyView[] {
  return tokens.filter(isYubikey).map((t) => {
    const meta = metadata.get(t.serial);
    const firmware = meta?.version ?? firmwareOf(t);
    const slots = PIV_SLOTS.map((s): SlotView => {
      const objects = t.objects.filter((o) => o.id === s.id);
      const key = objects.some((o) => o.class === 2 || o.class === 3);
      const attested = s.id !== ATTESTATION_ID && objects.some((o) => o.class === 1 && /attestation/i.test(o.label));
      const certificate = objects.some((o) => (o.class === 1 || o.class === 0) && !/attestation/i.test(o.label));
      const m = meta?.slots.get(s.id);
      // The metadata knows whether a key is there; ykcs11 also shows a public key taken from a certificate.
      const hasKey = m !== undefined ? m !== null : key || attested;
      const known = atLeast(firmware, 5, 3) || m !== undefined;
      const state = hasKey || certificate || s.id === ATTESTATION_ID ? "occupied" : known ? "empty" : "unknown";
      return { ...s, key: hasKey, certificate, attested, meta: m ?? undefined, state };
    });
    return { serial: t.serial, label: t.label, model: t.model, firmware, flags: t.flags, slots, metadata: meta };
  });
}

/** PIN tries left: from the PIN metadata, else what ykcs11's token flags say. */
function pinTries(k: YubikeyView): { remaining?: number; total?: number; text: string } {
  const r = k.metadata?.pin?.retries;
  if (r) return { ...r, text: `${r.remaining} of ${r.total} tries left` };
  if (k.flags & CKF_USER_PIN_LOCKED) return { remaining: 0, text: "blocked" };
  if (k.flags & CKF_USER_PIN_FINAL_TRY) return { remaining: 1, text: "1 try left" };
  if (k.flags & CKF_USER_PIN_COUNT_LOW) return { remaining: 2, text: "2 tries left" };
  return { text: "not low (ykcs11 flags)" };
}

/** The YubiKey to use: the one with the serial asked for, or the only one; never a guess among several. */
export function selectYubikey(
  keys: YubikeyView[],
  want: { flag?: string; profile?: string },
  modulePath: string,
): YubikeyView {
  if (want.flag && want.profile && want.flag !== want.profile) {
    throw new DeviceError(`--serial ${want.flag} does not match the profile's token.serial ${want.profile}`);
  }
  const serial = want.flag ?? want.profile;
  const seen = keys.length ? `\n${listKeys(keys)}` : "";
  if (!keys.length)
    throw new DeviceError(`no YubiKey found through ${modulePath}: is it plugged in, and is pcscd running?`);
  if (serial) {
    const k = keys.find((x) => x.serial === serial);
    if (!k) throw new DeviceError(`no YubiKey with serial ${serial}; present:${seen}`);
    return k;
  }
  if (keys.length > 1) {
    throw new DeviceError(
      `${keys.length} YubiKeys are present: choose one with --serial N (or token.serial in the profile); p11compat does not guess:${seen}`,
    );
  }
  return keys[0]!;
}

// ---------------------------------------------------------------------------------------------------
// Which slots a run may write.

export interface SlotPolicy {
  /** CKA_IDs a key may take, in order: empty retired slots, then the slots --allow-overwrite names. */
  writable: string[];
  overwrite: string[];
  /** The serial --allow-overwrite was confirmed for (undefined without --allow-overwrite). */
  serial?: string;
  protect: string[];
  /** Occupied or unknown before the run. */
  occupied: string[];
  /** Ids of keys.ids the run will not write, and why. */
  refused: { id: string; why: string }[];
}

/**
 * The slots a run may write on this YubiKey: of the profile's keys.ids, the retired ones that are empty;
 * plus those --allow-overwrite names, which needs the YubiKey's serial from --serial or token.serial.
 */
export function slotPolicy(
  k: YubikeyView,
  ids: string[],
  overwrite: string[],
  confirmedSerial: string | undefined,
): SlotPolicy {
  if (overwrite.length && confirmedSerial !== k.serial) {
    throw new DeviceError(
      `--allow-overwrite ${overwrite.map(slotName).join(",")} would replace keys and certificates: confirm which YubiKey may lose them by adding its serial, ` +
        `--serial ${k.serial} (the ${k.model} found, firmware ${k.firmware}), or set token.serial in the profile`,
    );
  }
  const view = new Map(k.slots.map((s) => [s.id, s]));
  const refused: SlotPolicy["refused"] = [];
  const writable: string[] = [];
  for (const id of ids) {
    const s = view.get(id);
    if (!s)
      throw new DeviceError(
        `keys.ids: ${id} is not a YubiKey PIV key slot (01-04 are 9a, 9c, 9d, 9e; 05-18 are 82-95)`,
      );
    if (id === ATTESTATION_ID) refused.push({ id, why: "the attestation slot is never written" });
    else if (overwrite.includes(id))
      continue; // added below, after the empty ones
    else if (PRIMARY_IDS.includes(id))
      refused.push({ id, why: `${s.slot} is a primary slot: written only with --allow-overwrite` });
    else if (s.state === "occupied") refused.push({ id, why: `occupied: ${describeSlot(s)}` });
    else if (s.state === "unknown")
      refused.push({ id, why: `unknown: firmware ${k.firmware} cannot show a key without a certificate` });
    else writable.push(id);
  }
  writable.push(...overwrite);
  return {
    writable,
    overwrite,
    serial: overwrite.length ? k.serial : undefined,
    protect: [...PRIMARY_IDS, ATTESTATION_ID],
    occupied: k.slots.filter((s) => s.state !== "empty").map((s) => s.id),
    refused,
  };
}

/** Factory PIN / management key, when (and only when) the metadata confirms they are still in use. */
export function factoryDefaults(k: YubikeyView): PinDefaults {
  const m = k.metadata;
  const why = m?.unavailable ?? "ykman did not report it";
  return {
    user: m?.pin?.isDefault ? FACTORY.pin : undefined,
    so: m?.managementKey?.isDefault ? FACTORY.managementKey : undefined,
    unconfirmed: {
      user: m?.pin ? "the YubiKey says its PIN is not the factory default" : `it cannot be checked: ${why}`,
      so: m?.managementKey
        ? "the YubiKey says its management key is not the factory default"
        : `it cannot be checked: ${why}`,
    },
  };
}

/**
 * Refusals before any login: a PIN on its last try (or blocked) is never tried, and PIN or management
 * key values ykcs11 cannot take are not sent. Values are never shown.
 */
export function checkBeforeLogin(k: YubikeyView, pins: { user?: string; so?: string }): void {
  const tries = pinTries(k);
  if (tries.remaining === 0)
    throw new DeviceError(
      `the PIN of YubiKey ${k.serial} is blocked; unblock it with the PUK (ykman piv access unblock-pin) first`,
    );
  if (tries.remaining === 1) {
    throw new DeviceError(
      `the PIN of YubiKey ${k.serial} has one try left: p11compat never spends the last try, so it does not log in. ` +
        "Verify the PIN with a tool you trust (a correct PIN resets the counter), or unblock it with the PUK",
    );
  }
  if (pins.user !== undefined && !/^.{6,8}$/u.test(pins.user))
    throw new DeviceError("the PIN must be 6 to 8 characters; not trying it");
  if (pins.so !== undefined && !/^([0-9a-fA-F]{32}|[0-9a-fA-F]{48}|[0-9a-fA-F]{64})$/.test(pins.so)) {
    throw new DeviceError(
      "the management key must be given as 32, 48 or 64 hex digits (ykcs11 2.2.0 takes 48: a 3DES key); not trying it",
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Text.

const ALGORITHMS: Record<number, string> = {
  0x03: "TDES",
  0x06: "RSA1024",
  0x07: "RSA2048",
  0x05: "RSA3072",
  0x16: "RSA4096",
  0x08: "AES128",
  0x0a: "AES192",
  0x0c: "AES256",
  0x11: "ECCP256",
  0x14: "ECCP384",
  0xe0: "Ed25519",
  0xe1: "X25519",
};
const TOUCH = ["default", "never", "always", "cached"];
const PIN_POLICY = ["default", "never", "once", "always"];

function describeSlot(s: SlotView): string {
  const parts: string[] = [];
  if (s.key) {
    const m = s.meta;
    const alg = m?.algorithm !== undefined ? (ALGORITHMS[m.algorithm] ?? `algorithm 0x${hex2(m.algorithm)}`) : "";
    const origin = m?.origin === 2 ? "imported" : m?.origin === 1 || s.attested ? "generated" : "";
    const policy = m ? `PIN ${PIN_POLICY[m.pinPolicy ?? 0]}, touch ${TOUCH[m.touchPolicy ?? 0]}` : "";
    parts.push(
      `key${[alg, origin].filter(Boolean).length ? ` (${[alg, origin].filter(Boolean).join(", ")})` : ""}${policy ? ` [${policy}]` : ""}`,
    );
  }
  if (s.certificate) parts.push("certificate");
  return (
    parts.join(" + ") ||
    (s.state === "unknown" ? "nothing visible (a key without certificate would not show before firmware 5.3)" : "empty")
  );
}

function listKeys(keys: YubikeyView[]): string {
  return keys.map((k) => `  ${k.serial}  ${k.model}, firmware ${k.firmware} (${k.label})`).join("\n");
}

function ranges(ids: string[]): string {
  const slots = ids.map(slotName);
  const out: string[] = [];
  for (let i = 0; i < slots.length;) {
    let j = i;
    const n = (x: string) => parseInt(x, 16);
    while (j + 1 < slots.length && /^[89]/.test(slots[j]!) && n(slots[j + 1]!) === n(slots[j]!) + 1) j++;
    out.push(j > i + 1 ? `${slots[i]}-${slots[j]}` : slots.slice(i, j + 1).join(", "));
    i = j + 1;
  }
  return out.join(", ");
}

/** What the run sees: every YubiKey, the selected one's PIN, management key and slots, and what the run may write. */
export function formatListing(
  keys: YubikeyView[],
  selected?: YubikeyView,
  policy?: SlotPolicy,
  modulePath?: string,
): string {
  const out = [`YubiKeys${modulePath ? ` (through ${modulePath})` : ""}:`];
  for (const k of keys) {
    const mark = k === selected ? "*" : " ";
    out.push(`${mark} ${k.serial}  ${k.model}, firmware ${k.firmware}${k === selected ? "  <- selected" : ""}`);
    const m = k.metadata;
    const pin = m?.pin
      ? `PIN: ${pinTries(k).text}${m.pin.isDefault ? ", factory default" : ", changed from the factory default"}`
      : `PIN: ${pinTries(k).text}`;
    const mk = m?.managementKey;
    const mgm = mk
      ? `management key: ${ALGORITHMS[mk.algorithm ?? 0x03] ?? "?"}${mk.isDefault ? ", factory default" : ", changed from the factory default"}, touch ${TOUCH[mk.touchPolicy ?? 0]}`
      : "management key: not known";
    out.push(`    ${pin}; ${mgm}${m?.unavailable ? ` (no metadata: ${m.unavailable})` : ""}`);
    if (mk?.algorithm !== undefined && mk.algorithm !== 0x03)
      out.push(
        `    note: ykcs11 2.2.0 logs in as SO with a 3DES management key only; this one is ${ALGORITHMS[mk.algorithm] ?? "not 3DES"}, so making keys may fail`,
      );
    const taken = k.slots.filter((s) => s.state === "occupied");
    for (const s of taken)
      out.push(
        `    slot ${s.slot} (CKA_ID ${s.id}, ${s.title}): ${s.id === ATTESTATION_ID ? "attestation key (never written)" : describeSlot(s)}`,
      );
    const unknown = k.slots.filter((s) => s.state === "unknown").map((s) => s.id);
    if (unknown.length)
      out.push(
        `    unknown: ${ranges(unknown)} (nothing shows, but before firmware 5.3 a key without a certificate would not; treated as occupied)`,
      );
    const empty = k.slots.filter((s) => s.state === "empty").map((s) => s.id);
    out.push(`    empty: ${empty.length ? ranges(empty) : "none"}`);
  }
  if (selected && policy) {
    out.push(
      policy.writable.length
        ? `A run may write keys to slots ${ranges(policy.writable)} of YubiKey ${selected.serial}${policy.overwrite.length ? ` (overwriting ${ranges(policy.overwrite)}: --allow-overwrite)` : ""}; no other slot is written.`
        : `A run may write no slot of YubiKey ${selected.serial}: cases that need a new key are skipped.`,
    );
    const notProfile = policy.refused.filter((r) => r.why.startsWith("occupied") || r.why.startsWith("unknown"));
    if (notProfile.length)
      out.push(
        `Left untouched (occupied or unknown): ${ranges(notProfile.map((r) => r.id))}; --allow-overwrite SLOT,... with --serial ${selected.serial} would allow them.`,
      );
  }
  return out.join("\n");
}

/**
 * After the run: the slots it wrote, as they are now. ykcs11 removed each certificate the run's keys
 * came with, but cannot delete keys: every slot the run wrote still holds its last key.
 */
export function leftoverNotes(
  before: YubikeyView,
  after: YubikeyView | undefined,
  written: Iterable<string>,
  policy: SlotPolicy,
): string[] {
  const notes: string[] = [];
  const ids = [...new Set(written)].sort();
  const now = new Map(after?.slots.map((s) => [s.id, s]));
  const was = new Map(before.slots.map((s) => [s.id, s]));
  const canDelete = atLeast(after?.firmware ?? before.firmware, 5, 7);
  const keep: string[] = [];
  for (const id of ids) {
    const s = now.get(id);
    const prior = was.get(id);
    const slot = slotName(id);
    if (prior && prior.state !== "empty" && policy.overwrite.includes(id)) {
      notes.push(
        `slot ${slot} held ${describeSlot(prior)} before the run; --allow-overwrite let the run replace it, and that cannot be undone`,
      );
    }
    if (s?.certificate)
      notes.push(
        `slot ${slot} still holds a certificate after the run (ykcs11 should have removed it): \`ykman piv certificates delete ${slot}\` removes it`,
      );
    if (!s || s.key || s.state === "unknown") keep.push(id);
  }
  if (keep.length) {
    const list = keep.map(slotName).join(", ");
    const how = canDelete
      ? `delete them with \`ykman piv keys delete SLOT\` (${keep.map((id) => `ykman piv keys delete ${slotName(id)}`).join("; ")})`
      : `firmware ${after?.firmware ?? before.firmware} cannot delete a single key (that came with 5.7): they stay until overwritten or until \`ykman piv reset\` (which erases every PIV key and certificate)`;
    notes.push(
      `YubiKey ${before.serial}: slot${keep.length > 1 ? "s" : ""} ${list} still hold${keep.length > 1 ? "" : "s"} a key this run made (CKA_ID ${keep.join(", ")}): ` +
        `ykcs11 removes only the certificate, it cannot delete keys. Later runs treat ${keep.length > 1 ? "these slots" : "this slot"} as occupied. To clear: ${how}`,
    );
  }
  // Nothing the run did not write may have changed.
  for (const s of before.slots) {
    if (ids.includes(s.id)) continue;
    const n = now.get(s.id);
    if (n && (n.key !== s.key || n.certificate !== s.certificate)) {
      notes.push(
        `slot ${s.slot} changed during the run although p11compat did not write it (before: ${describeSlot(s)}; after: ${describeSlot(n)})`,
      );
    }
  }
  return notes;
}

/** The profile's YubiKey settings, or an error for a profile that has none. */
export function requireYubikey(profile: DeviceProfile): NonNullable<DeviceProfile["yubikey"]> {
  if (!profile.yubikey)
    throw new DeviceError(`${profile.id} is not a YubiKey profile (it has no yubikey section); try --device yubikey`);
  return profile.yubikey;
}
