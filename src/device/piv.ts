// The PIV key slots as ykcs11 shows them: each slot's CKA_ID, Yubico's name for it and its purpose.
// Shared by provisioning (slot names in messages, for profiles that say keys.slots: piv), the YubiKey
// hooks and their listings.
import { DeviceError } from "./model.js";

export interface PivSlot {
  /** CKA_ID (hex) ykcs11 gives the slot's objects. */
  id: string;
  /** The slot as Yubico names it: 9a, 9c, 9d, 9e, 82-95, f9. */
  slot: string;
  title: string;
}

export const PIV_SLOTS: PivSlot[] = [
  { id: "01", slot: "9a", title: "PIV Authentication" },
  { id: "02", slot: "9c", title: "Digital Signature" },
  { id: "03", slot: "9d", title: "Key Management" },
  { id: "04", slot: "9e", title: "Card Authentication" },
  ...Array.from({ length: 20 }, (_, i) => ({
    id: hex2(5 + i),
    slot: (0x82 + i).toString(16),
    title: `Retired Key ${i + 1}`,
  })),
  { id: "19", slot: "f9", title: "Attestation" },
];
const BY_ID = new Map(PIV_SLOTS.map((s) => [s.id, s]));
const BY_SLOT = new Map(PIV_SLOTS.map((s) => [s.slot, s]));
export const PRIMARY_IDS = ["01", "02", "03", "04"];
export const ATTESTATION_ID = "19";
/** Slot names by CKA_ID, for messages ("05" is slot "82"). */
export const SLOT_NAMES: Record<string, string> = Object.fromEntries(PIV_SLOTS.map((s) => [s.id, s.slot]));

export function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

/** Slot names by CKA_ID for each naming scheme a profile's keys.slots can pick. */
export const SLOT_NAMING: Readonly<Record<"piv", Record<string, string>>> = { piv: SLOT_NAMES };

export const slotName = (id: string) => BY_ID.get(id)?.slot ?? `CKA_ID ${id}`;

/** "9a,82" (or "9A 0x82") as CKA_IDs; f9 and unknown names are refused. */
export function parseSlots(text: string): string[] {
  const ids: string[] = [];
  for (const raw of text.split(/[\s,]+/).filter(Boolean)) {
    const name = raw.toLowerCase().replace(/^0x/, "");
    const slot = BY_SLOT.get(name);
    if (!slot) throw new DeviceError(`"${raw}" is not a YubiKey PIV key slot; slots are 9a, 9c, 9d, 9e and 82 to 95`);
    if (slot.id === ATTESTATION_ID)
      throw new DeviceError(
        "slot f9 holds the YubiKey's attestation key, which Yubico signed: p11compat never writes it",
      );
    if (!ids.includes(slot.id)) ids.push(slot.id);
  }
  if (!ids.length) throw new DeviceError("--allow-overwrite needs slot names, e.g. --allow-overwrite 82,83");
  return ids;
}
