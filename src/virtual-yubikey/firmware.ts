// What differs between YubiKey firmware generations, as far as the PIV application shows it.
// A profile is chosen by version ("5.4.3"); the family (major.minor) decides the features, the
// patch level is reported as it is (ykcs11 refuses RSA generation on 4.2.0-4.3.4, ROCA).

export const ALG = {
  TDES: 0x03,
  AES128: 0x08,
  AES192: 0x0a,
  AES256: 0x0c,
  RSA1024: 0x06,
  RSA2048: 0x07,
  RSA3072: 0x05,
  RSA4096: 0x16,
  ECCP256: 0x11,
  ECCP384: 0x14,
  ED25519: 0xe0,
  X25519: 0xe1,
} as const;

export type Family = "4.3" | "5.2" | "5.4" | "5.7";

export interface Firmware {
  family: Family;
  version: [number, number, number];
  /** The ATR chooses the model string in ykcs11 (YK4 / YK5). */
  atr: Buffer;
  /** 00 F8 answers the serial (5.0+); older keys give it through the OTP application. */
  serialCommand: boolean;
  /** 00 F7 GET METADATA (5.3+). */
  metadata: boolean;
  /** AES-128/192/256 management keys (5.4+). */
  aesManagementKey: boolean;
  /** Algorithm of the factory management key: 3DES, or AES-192 from 5.7 on. */
  defaultManagementKeyAlgorithm: number;
  /** Key algorithms for GENERATE and IMPORT. */
  keyAlgorithms: ReadonlySet<number>;
  /** 00 F6 MOVE / DELETE KEY (5.7+). */
  moveKey: boolean;
  /** Form factor byte in attestation and device info (1 = USB-A keychain). */
  formFactor: number;
  /**
   * Device info's USB capabilities (yubikit's bits: OTP 01, U2F 02, CCID 04, OpenPGP 08, PIV 10,
   * OATH 20, FIDO2 200). `supported` is the model's hardware; `enabled` (tag 03, firmware 5 on) is
   * PIV over CCID only, as on a YubiKey whose other applications `ykman config usb` disabled: the
   * card has nothing else, so nothing else is announced. Firmware 4 has no tag 03 and ykman takes
   * the supported set as enabled, so the 4.3 profile's supported set is PIV over CCID only.
   */
  usb: { supported: number; enabled?: number };
}

const ATR_YK4 = Buffer.from("3bf81300008131fe15597562696b657934d4", "hex");
const ATR_YK5 = Buffer.from("3bfd1300008131fe158073c021c057597562694b657940", "hex");

const CAP = { OTP: 0x01, U2F: 0x02, CCID: 0x04, OPENPGP: 0x08, PIV: 0x10, OATH: 0x20, FIDO2: 0x200 } as const;
const YK5_USB = {
  supported: CAP.OTP | CAP.U2F | CAP.CCID | CAP.OPENPGP | CAP.PIV | CAP.OATH | CAP.FIDO2,
  enabled: CAP.CCID | CAP.PIV,
};

const CLASSIC = [ALG.RSA1024, ALG.RSA2048, ALG.ECCP256, ALG.ECCP384];

const FAMILIES: Record<Family, Omit<Firmware, "version">> = {
  "4.3": {
    family: "4.3",
    atr: ATR_YK4,
    serialCommand: false,
    metadata: false,
    aesManagementKey: false,
    defaultManagementKeyAlgorithm: ALG.TDES,
    keyAlgorithms: new Set(CLASSIC),
    moveKey: false,
    formFactor: 1,
    usb: { supported: CAP.CCID | CAP.PIV },
  },
  "5.2": {
    family: "5.2",
    atr: ATR_YK5,
    serialCommand: true,
    metadata: false,
    aesManagementKey: false,
    defaultManagementKeyAlgorithm: ALG.TDES,
    keyAlgorithms: new Set(CLASSIC),
    moveKey: false,
    formFactor: 1,
    usb: YK5_USB,
  },
  "5.4": {
    family: "5.4",
    atr: ATR_YK5,
    serialCommand: true,
    metadata: true,
    aesManagementKey: true,
    defaultManagementKeyAlgorithm: ALG.TDES,
    keyAlgorithms: new Set(CLASSIC),
    moveKey: false,
    formFactor: 1,
    usb: YK5_USB,
  },
  "5.7": {
    family: "5.7",
    atr: ATR_YK5,
    serialCommand: true,
    metadata: true,
    aesManagementKey: true,
    defaultManagementKeyAlgorithm: ALG.AES192,
    keyAlgorithms: new Set([...CLASSIC, ALG.RSA3072, ALG.RSA4096, ALG.ED25519, ALG.X25519]),
    moveKey: true,
    formFactor: 1,
    usb: YK5_USB,
  },
};

export const FAMILY_DEFAULTS: Record<Family, string> = {
  "4.3": "4.3.7",
  "5.2": "5.2.7",
  "5.4": "5.4.3",
  "5.7": "5.7.1",
};

/** "5.4.3", "5.4" (the family's usual patch level) or "4.3.4". */
export function firmwareProfile(version: string): Firmware {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(version.trim());
  if (!m) throw new Error(`firmware "${version}" is not a version like 5.4.3`);
  const family = `${m[1]}.${m[2]}` as Family;
  const base = FAMILIES[family];
  if (!base)
    throw new Error(
      `no firmware profile ${family}; known: ${Object.values(FAMILY_DEFAULTS).join(", ")} (any patch level)`,
    );
  const patch = m[3] !== undefined ? Number(m[3]) : Number(FAMILY_DEFAULTS[family].split(".")[2]);
  return { ...base, version: [Number(m[1]), Number(m[2]), patch] };
}

export function versionString(fw: Firmware): string {
  return fw.version.join(".");
}
