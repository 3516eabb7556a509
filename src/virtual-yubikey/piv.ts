// The PIV application of a YubiKey: NIST SP 800-73-4 commands (VERIFY, CHANGE REFERENCE DATA,
// RESET RETRY COUNTER, GENERAL AUTHENTICATE, GENERATE ASYMMETRIC KEY PAIR, GET DATA, PUT DATA)
// and Yubico's extensions (version, serial, metadata, attestation, import, management key, PIN
// retries, reset, move/delete key), with the status words a YubiKey answers. The applet sees whole
// commands: chaining and GET RESPONSE are the card's business (card.ts).
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import { ApduError, SW, type Command } from "./apdu.js";
import { ALG, type Firmware } from "./firmware.js";
import {
  PIN_POLICY,
  TOUCH_POLICY,
  KeyOpError,
  generateKey,
  importKey,
  keyAgreement,
  publicKeyTlvs,
  signOrDecrypt,
  type CardKey,
} from "./keys.js";
import { attestationCertificate, attestationRootCertificate } from "./attestation.js";
import { parseAll, parseMap, tlv, unwrap } from "../codec/tlv.js";

const INS = {
  VERIFY: 0x20,
  CHANGE_REFERENCE: 0x24,
  RESET_RETRY: 0x2c,
  GENERATE: 0x47,
  AUTHENTICATE: 0x87,
  GET_DATA: 0xcb,
  PUT_DATA: 0xdb,
  MOVE_KEY: 0xf6,
  GET_METADATA: 0xf7,
  GET_SERIAL: 0xf8,
  ATTEST: 0xf9,
  SET_PIN_RETRIES: 0xfa,
  RESET: 0xfb,
  GET_VERSION: 0xfd,
  IMPORT_KEY: 0xfe,
  SET_MGMKEY: 0xff,
} as const;

const SLOT = {
  AUTHENTICATION: 0x9a,
  MANAGEMENT: 0x9b,
  SIGNATURE: 0x9c,
  KEY_MANAGEMENT: 0x9d,
  CARD_AUTH: 0x9e,
  ATTESTATION: 0xf9,
  BIO: 0x96,
} as const;
const PIN_REF = 0x80;
const PUK_REF = 0x81;

const DEFAULT_PIN = "123456";
const DEFAULT_PUK = "12345678";
export const DEFAULT_MANAGEMENT_KEY = Buffer.from("010203040506070801020304050607080102030405060708", "hex");

const OBJECT = {
  DISCOVERY: 0x7e,
  ATTESTATION: 0x5fff01,
  ADMIN_DATA: 0x5fff00,
  CHUID: 0x5fc102,
  CAPABILITY: 0x5fc107,
  PRINTED: 0x5fc109,
} as const;

/** Slot ids that hold keys: 9a, 9c, 9d, 9e, the retired 82-95, and the attestation key f9. */
const KEY_SLOTS: readonly number[] = [0x9a, 0x9c, 0x9d, 0x9e, ...Array.from({ length: 20 }, (_, i) => 0x82 + i), 0xf9];

const DEFAULT_PIN_POLICY: Record<number, number> = {
  0x9a: PIN_POLICY.ONCE,
  0x9c: PIN_POLICY.ALWAYS,
  0x9d: PIN_POLICY.ONCE,
  0x9e: PIN_POLICY.NEVER,
  0xf9: PIN_POLICY.NEVER,
};
const defaultPinPolicy = (slot: number) => DEFAULT_PIN_POLICY[slot] ?? PIN_POLICY.ONCE;

/** Objects only readable after the PIN (SP 800-73-4 access rules; Yubico keeps the PIN-protected key in PRINTED). */
const PIN_PROTECTED_OBJECTS = new Set([0x5fc103, 0x5fc108, 0x5fc109, 0x5fc121]);

const DISCOVERY = Buffer.from("7e124f0ba0000003080000100001005f2f024000", "hex");

const MAX_OBJECT = 3052;

interface Reference {
  value: string;
  tries: number;
  remaining: number;
  isDefault: boolean;
}

interface ManagementKey {
  algorithm: number;
  key: Buffer;
  touch: number;
  isDefault: boolean;
}

export interface PivOptions {
  firmware: Firmware;
  serial: number;
  /** Start with this PIN instead of 123456 (a throwaway card with a generated PIN). */
  pin?: string;
  puk?: string;
  managementKey?: { algorithm: number; key: Buffer };
}

const blockCipher = (alg: number): { name: string; block: number; keyLength: number } | undefined =>
  ({
    [ALG.TDES]: { name: "des-ede3", block: 8, keyLength: 24 },
    [ALG.AES128]: { name: "aes-128-ecb", block: 16, keyLength: 16 },
    [ALG.AES192]: { name: "aes-192-ecb", block: 16, keyLength: 24 },
    [ALG.AES256]: { name: "aes-256-ecb", block: 16, keyLength: 32 },
  })[alg];

/** One ECB operation with a management key (hosts do the same in the handshake; the replay plays a host). */
export function ecb(alg: number, key: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = blockCipher(alg)!;
  const cipher = encrypt ? createCipheriv(c.name, key, null) : createDecipheriv(c.name, key, null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** PIN and PUK travel padded with FF to 8 bytes. */
function unpad(raw: Buffer): string | undefined {
  let end = raw.length;
  while (end > 0 && raw[end - 1] === 0xff) end--;
  const s = raw.subarray(0, end);
  return s.includes(0xff) ? undefined : s.toString("latin1");
}

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, "latin1"), Buffer.from(b, "latin1"));

export class PivApplet {
  readonly firmware: Firmware;
  readonly serial: number;
  private pin!: Reference;
  private puk!: Reference;
  private mgm!: ManagementKey;
  private keys = new Map<number, CardKey>();
  private objects = new Map<number, Buffer>();
  /** Security status: cleared by (re)selecting the application, a reset or power loss. */
  private pinVerified = false;
  /** A PIN verified by the command just before: what a key with PIN policy ALWAYS needs. */
  private pinJustVerified = false;
  private mgmAuthenticated = false;
  private challenge?: { kind: "witness" | "challenge"; value: Buffer };
  private attestationKey!: CardKey;

  constructor(private readonly options: PivOptions) {
    this.firmware = options.firmware;
    this.serial = options.serial;
    this.factoryReset(true);
  }

  /** Factory state: default PIN, PUK and management key, no keys or objects (the attestation key stays). */
  private factoryReset(initial: boolean): void {
    const o: Partial<PivOptions> = initial ? this.options : {};
    this.pin = {
      value: o.pin ?? DEFAULT_PIN,
      tries: 3,
      remaining: 3,
      isDefault: (o.pin ?? DEFAULT_PIN) === DEFAULT_PIN,
    };
    this.puk = {
      value: o.puk ?? DEFAULT_PUK,
      tries: 3,
      remaining: 3,
      isDefault: (o.puk ?? DEFAULT_PUK) === DEFAULT_PUK,
    };
    const algorithm = o.managementKey?.algorithm ?? this.firmware.defaultManagementKeyAlgorithm;
    const key = o.managementKey?.key ?? DEFAULT_MANAGEMENT_KEY;
    this.mgm = {
      algorithm,
      key: Buffer.from(key),
      touch: TOUCH_POLICY.NEVER,
      isDefault: this.isFactoryKey(algorithm, key),
    };
    const attestation = initial ? undefined : this.keys.get(SLOT.ATTESTATION);
    const attestationCert = initial ? undefined : this.objects.get(OBJECT.ATTESTATION);
    this.keys.clear();
    this.objects.clear();
    if (initial) {
      const pair = generateKey(ALG.RSA2048);
      this.attestationKey = {
        algorithm: ALG.RSA2048,
        pinPolicy: PIN_POLICY.NEVER,
        touchPolicy: TOUCH_POLICY.NEVER,
        origin: "imported",
        ...pair,
      };
      this.keys.set(SLOT.ATTESTATION, this.attestationKey);
      this.objects.set(OBJECT.ATTESTATION, certificateObjectValue(attestationRootCertificate(pair, this.serial)));
    } else {
      this.keys.set(SLOT.ATTESTATION, attestation!);
      this.objects.set(OBJECT.ATTESTATION, attestationCert!);
    }
    this.deselect();
  }

  /** The application was selected again, the card reset or lost power: the security status is gone. */
  deselect(): void {
    this.pinVerified = false;
    this.pinJustVerified = false;
    this.mgmAuthenticated = false;
    this.challenge = undefined;
  }

  /** Handles one whole command; returns the response data (the status word is 9000) or throws ApduError. */
  process(cmd: Command): Buffer {
    const justVerified = this.pinJustVerified;
    this.pinJustVerified = false;
    // A management key challenge is answered by the next command or not at all.
    if (cmd.ins !== INS.AUTHENTICATE || cmd.p2 !== SLOT.MANAGEMENT) this.challenge = undefined;
    switch (cmd.ins) {
      case INS.VERIFY:
        return this.verify(cmd);
      case INS.CHANGE_REFERENCE:
        return this.changeReference(cmd);
      case INS.RESET_RETRY:
        return this.resetRetry(cmd);
      case INS.AUTHENTICATE:
        return this.authenticate(cmd, justVerified);
      case INS.GENERATE:
        return this.generate(cmd);
      case INS.GET_DATA:
        return this.getData(cmd);
      case INS.PUT_DATA:
        return this.putData(cmd);
      case INS.GET_VERSION:
        return Buffer.from(this.firmware.version);
      case INS.GET_SERIAL:
        if (!this.firmware.serialCommand) throw new ApduError(SW.INS_NOT_SUPPORTED, "GET SERIAL needs firmware 5");
        return u32(this.serial);
      case INS.GET_METADATA:
        return this.metadata(cmd);
      case INS.ATTEST:
        return this.attest(cmd);
      case INS.IMPORT_KEY:
        return this.importKey(cmd);
      case INS.SET_MGMKEY:
        return this.setManagementKey(cmd);
      case INS.SET_PIN_RETRIES:
        return this.setPinRetries(cmd);
      case INS.RESET:
        return this.reset();
      case INS.MOVE_KEY:
        return this.moveKey(cmd);
      default:
        throw new ApduError(SW.INS_NOT_SUPPORTED, `INS 0x${cmd.ins.toString(16)} not supported`);
    }
  }

  // --- PIN and PUK -------------------------------------------------------------------------------

  private reference(p2: number): Reference {
    if (p2 === PIN_REF) return this.pin;
    if (p2 === PUK_REF) return this.puk;
    throw new ApduError(SW.REFERENCE_NOT_FOUND, `no reference data 0x${p2.toString(16)}`);
  }

  /** A wrong value: one try less; 63Cx while tries are left, 6983 when the reference is blocked. */
  private wrong(ref: Reference): never {
    ref.remaining = Math.max(0, ref.remaining - 1);
    if (ref.remaining === 0) throw new ApduError(SW.AUTH_BLOCKED, "blocked");
    throw new ApduError(SW.VERIFY_FAIL_NO_RETRY | ref.remaining, `wrong value, ${ref.remaining} tries left`);
  }

  private verify(cmd: Command): Buffer {
    if (cmd.p2 !== PIN_REF) throw new ApduError(SW.REFERENCE_NOT_FOUND, "VERIFY only knows the PIN (80)");
    if (cmd.p1 === 0xff) {
      this.pinVerified = false;
      return Buffer.alloc(0);
    }
    if (cmd.data.length === 0) {
      if (this.pinVerified) return Buffer.alloc(0);
      if (this.pin.remaining === 0) throw new ApduError(SW.AUTH_BLOCKED, "PIN blocked");
      throw new ApduError(SW.VERIFY_FAIL_NO_RETRY | this.pin.remaining, "PIN not verified");
    }
    if (this.pin.remaining === 0) throw new ApduError(SW.AUTH_BLOCKED, "PIN blocked");
    const given = cmd.data.length === 8 ? unpad(cmd.data) : undefined;
    if (given === undefined) throw new ApduError(SW.INCORRECT_DATA, "the PIN is 8 bytes padded with FF");
    if (!same(given, this.pin.value)) {
      this.pinVerified = false;
      this.wrong(this.pin);
    }
    this.pin.remaining = this.pin.tries;
    this.pinVerified = true;
    this.pinJustVerified = true;
    return Buffer.alloc(0);
  }

  private changeReference(cmd: Command): Buffer {
    const ref = this.reference(cmd.p2);
    if (cmd.data.length !== 16) throw new ApduError(SW.INCORRECT_DATA, "old and new value, 8 bytes each");
    const old = unpad(cmd.data.subarray(0, 8));
    const next = unpad(cmd.data.subarray(8));
    if (ref.remaining === 0) throw new ApduError(SW.AUTH_BLOCKED, "blocked");
    if (old === undefined || !same(old, ref.value)) this.wrong(ref);
    if (next === undefined || next.length < 6 || next.length > 8)
      throw new ApduError(SW.INCORRECT_DATA, "the new value must be 6 to 8 bytes");
    ref.value = next;
    ref.remaining = ref.tries;
    ref.isDefault = next === (ref === this.pin ? DEFAULT_PIN : DEFAULT_PUK);
    if (ref === this.pin) this.pinVerified = true;
    return Buffer.alloc(0);
  }

  private resetRetry(cmd: Command): Buffer {
    if (cmd.p2 !== PIN_REF) throw new ApduError(SW.REFERENCE_NOT_FOUND, "RESET RETRY COUNTER only resets the PIN");
    if (cmd.data.length !== 16) throw new ApduError(SW.INCORRECT_DATA, "PUK and new PIN, 8 bytes each");
    const puk = unpad(cmd.data.subarray(0, 8));
    const pin = unpad(cmd.data.subarray(8));
    if (this.puk.remaining === 0) throw new ApduError(SW.AUTH_BLOCKED, "PUK blocked");
    if (puk === undefined || !same(puk, this.puk.value)) this.wrong(this.puk);
    if (pin === undefined || pin.length < 6 || pin.length > 8)
      throw new ApduError(SW.INCORRECT_DATA, "the new PIN must be 6 to 8 bytes");
    this.puk.remaining = this.puk.tries;
    this.pin = { ...this.pin, value: pin, remaining: this.pin.tries, isDefault: pin === DEFAULT_PIN };
    return Buffer.alloc(0);
  }

  private setPinRetries(cmd: Command): Buffer {
    this.requireManagement();
    if (!this.pinVerified) throw new ApduError(SW.SECURITY_STATUS, "setting the retry counters needs the PIN");
    if (cmd.p1 < 1 || cmd.p1 > 0xff || cmd.p2 < 1) throw new ApduError(SW.INCORRECT_P1P2, "tries must be 1-255");
    // A YubiKey resets PIN and PUK to their defaults when the counters change.
    this.pin = { value: DEFAULT_PIN, tries: cmd.p1, remaining: cmd.p1, isDefault: true };
    this.puk = { value: DEFAULT_PUK, tries: cmd.p2, remaining: cmd.p2, isDefault: true };
    this.pinVerified = false;
    return Buffer.alloc(0);
  }

  private reset(): Buffer {
    if (this.pin.remaining !== 0 || this.puk.remaining !== 0)
      throw new ApduError(SW.CONDITIONS_OF_USE, "reset needs PIN and PUK blocked");
    this.factoryReset(false);
    return Buffer.alloc(0);
  }

  // --- management key ----------------------------------------------------------------------------

  private requireManagement(): void {
    if (!this.mgmAuthenticated) throw new ApduError(SW.SECURITY_STATUS, "management key authentication required");
  }

  private setManagementKey(cmd: Command): Buffer {
    if (cmd.p1 !== 0xff || (cmd.p2 !== 0xff && cmd.p2 !== 0xfe))
      throw new ApduError(SW.INCORRECT_P1P2, "P1 FF, P2 FF or FE (touch)");
    this.requireManagement();
    const algorithm = cmd.data[0];
    const inner = cmd.data.subarray(1);
    const c = algorithm === undefined ? undefined : blockCipher(algorithm);
    if (!c || (algorithm !== ALG.TDES && !this.firmware.aesManagementKey))
      throw new ApduError(SW.INCORRECT_DATA, "unsupported management key algorithm");
    const key = unwrap(inner, SLOT.MANAGEMENT);
    if (!key || key.length !== c.keyLength)
      throw new ApduError(SW.INCORRECT_DATA, `the key is ${c.keyLength} bytes in tag 9B`);
    this.mgm = {
      algorithm: algorithm!,
      key: Buffer.from(key),
      touch: cmd.p2 === 0xfe ? TOUCH_POLICY.ALWAYS : TOUCH_POLICY.NEVER,
      isDefault: this.isFactoryKey(algorithm!, key),
    };
    return Buffer.alloc(0);
  }

  /**
   * The factory key is the default bytes *and* the firmware's default algorithm: the same 24 bytes
   * as AES-192 on 5.4, or as 3DES on 5.7, are a key someone chose (ykman then no longer warns).
   */
  private isFactoryKey(algorithm: number, key: Buffer): boolean {
    return algorithm === this.firmware.defaultManagementKeyAlgorithm && key.equals(DEFAULT_MANAGEMENT_KEY);
  }

  /** Mutual authentication (80 witness, 81 challenge, 82 response) or the one-way form (81, then 82). */
  private managementAuth(cmd: Command, fields: Map<number, Buffer>): Buffer {
    const challenge = fields.get(0x81);
    // OpenSC's PIV driver asks for random bytes this way (C_GenerateRandom): P1 00, an empty
    // challenge request; a YubiKey answers with a challenge of its management key's block size.
    const randomRequest = cmd.p1 === 0 && challenge?.length === 0 && fields.size === 1;
    if (cmd.p1 !== this.mgm.algorithm && !randomRequest)
      throw new ApduError(SW.INCORRECT_P1P2, `the management key is algorithm 0x${this.mgm.algorithm.toString(16)}`);
    const block = blockCipher(this.mgm.algorithm)!.block;
    const witness = fields.get(0x80);
    const response = fields.get(0x82);
    const pending = this.challenge;
    this.challenge = undefined;
    this.mgmAuthenticated = false;
    if (witness && witness.length === 0) {
      const value = randomBytes(block);
      this.challenge = { kind: "witness", value };
      return tlv(0x7c, tlv(0x80, ecb(this.mgm.algorithm, this.mgm.key, value, true)));
    }
    if (witness && challenge && challenge.length === block) {
      if (pending?.kind !== "witness" || !witness.equals(pending.value))
        throw new ApduError(SW.SECURITY_STATUS, "wrong witness");
      this.mgmAuthenticated = true;
      return tlv(0x7c, tlv(0x82, ecb(this.mgm.algorithm, this.mgm.key, challenge, true)));
    }
    if (challenge && challenge.length === 0) {
      const value = randomBytes(block);
      this.challenge = { kind: "challenge", value };
      return tlv(0x7c, tlv(0x81, value));
    }
    if (response) {
      if (
        pending?.kind !== "challenge" ||
        !response.equals(ecb(this.mgm.algorithm, this.mgm.key, pending.value, true))
      ) {
        throw new ApduError(SW.SECURITY_STATUS, "wrong response");
      }
      this.mgmAuthenticated = true;
      return Buffer.alloc(0);
    }
    throw new ApduError(SW.INCORRECT_DATA, "unexpected GENERAL AUTHENTICATE template for the management key");
  }

  // --- keys --------------------------------------------------------------------------------------

  private authenticate(cmd: Command, justVerified: boolean): Buffer {
    const template = unwrap(cmd.data, 0x7c);
    if (!template) throw new ApduError(SW.INCORRECT_DATA, "GENERAL AUTHENTICATE data is a 7C template");
    let fields: Map<number, Buffer>;
    try {
      fields = parseMap(template);
    } catch {
      throw new ApduError(SW.INCORRECT_DATA, "malformed 7C template");
    }
    if (cmd.p2 === SLOT.MANAGEMENT) return this.managementAuth(cmd, fields);
    const key = this.keys.get(cmd.p2);
    if (!KEY_SLOTS.includes(cmd.p2))
      throw new ApduError(SW.INCORRECT_P1P2, `0x${cmd.p2.toString(16)} is not a key slot`);
    if (!key) throw new ApduError(SW.INCORRECT_DATA, `slot ${cmd.p2.toString(16)} holds no key`);
    if (key.algorithm !== cmd.p1)
      throw new ApduError(
        SW.INCORRECT_DATA,
        `slot ${cmd.p2.toString(16)} holds algorithm 0x${key.algorithm.toString(16)}`,
      );
    const policy = key.pinPolicy;
    if (policy === PIN_POLICY.ALWAYS || policy === PIN_POLICY.MATCH_ALWAYS) {
      if (!justVerified) throw new ApduError(SW.SECURITY_STATUS, "PIN policy ALWAYS: verify the PIN right before");
    } else if (policy !== PIN_POLICY.NEVER && !this.pinVerified) {
      throw new ApduError(SW.SECURITY_STATUS, "PIN required");
    }
    const response = fields.get(0x82);
    if (response === undefined || response.length !== 0)
      throw new ApduError(SW.INCORRECT_DATA, "ask for the response with an empty 82");
    try {
      const challenge = fields.get(0x81);
      if (challenge !== undefined) return tlv(0x7c, tlv(0x82, signOrDecrypt(key, challenge)));
      const point = fields.get(0x85);
      if (point !== undefined) return tlv(0x7c, tlv(0x82, keyAgreement(key, point)));
    } catch (err) {
      if (err instanceof KeyOpError) throw new ApduError(err.sw, err.message);
      throw err;
    }
    throw new ApduError(SW.INCORRECT_DATA, "neither a challenge (81) nor an exponentiation (85)");
  }

  private checkSlot(slot: number, allowAttestation = true): void {
    if (!KEY_SLOTS.includes(slot) || (!allowAttestation && slot === SLOT.ATTESTATION)) {
      throw new ApduError(SW.INCORRECT_P1P2, `0x${slot.toString(16)} is not a key slot`);
    }
  }

  /**
   * The policies a new key in `slot` gets. "Default" is resolved here, once: the key keeps what it
   * got when it was made, also after MOVE KEY to a slot with another default (as a YubiKey does).
   */
  private policies(fields: Map<number, Buffer>, slot: number): { pin: number; touch: number } {
    const pin = fields.get(0xaa)?.[0] ?? PIN_POLICY.DEFAULT;
    const touch = fields.get(0xab)?.[0] ?? TOUCH_POLICY.DEFAULT;
    if (pin > PIN_POLICY.ALWAYS) throw new ApduError(SW.INCORRECT_DATA, "PIN policy not supported (no biometrics)");
    if (touch > TOUCH_POLICY.CACHED) throw new ApduError(SW.INCORRECT_DATA, "unknown touch policy");
    return {
      pin: pin === PIN_POLICY.DEFAULT ? defaultPinPolicy(slot) : pin,
      touch: touch === TOUCH_POLICY.DEFAULT ? TOUCH_POLICY.NEVER : touch,
    };
  }

  private requireAlgorithm(alg: number | undefined): number {
    if (alg === undefined || !this.firmware.keyAlgorithms.has(alg)) {
      throw new ApduError(
        SW.INCORRECT_DATA,
        `algorithm 0x${(alg ?? 0).toString(16)} is not supported by firmware ${this.firmware.version.join(".")}`,
      );
    }
    return alg;
  }

  private generate(cmd: Command): Buffer {
    if (cmd.p1 !== 0) throw new ApduError(SW.INCORRECT_P1P2, "P1 is 00");
    this.checkSlot(cmd.p2);
    this.requireManagement();
    const control = unwrap(cmd.data, 0xac);
    if (!control) throw new ApduError(SW.INCORRECT_DATA, "GENERATE data is an AC template");
    let fields: Map<number, Buffer>;
    try {
      fields = parseMap(control);
    } catch {
      throw new ApduError(SW.INCORRECT_DATA, "malformed AC template");
    }
    const alg = this.requireAlgorithm(fields.get(0x80)?.[0]);
    const { pin, touch } = this.policies(fields, cmd.p2);
    const pair = generateKey(alg);
    this.keys.set(cmd.p2, { algorithm: alg, pinPolicy: pin, touchPolicy: touch, origin: "generated", ...pair });
    return tlv(0x7f49, publicKeyTlvs(alg, pair.publicKey));
  }

  private importKey(cmd: Command): Buffer {
    this.checkSlot(cmd.p2);
    this.requireManagement();
    const alg = this.requireAlgorithm(cmd.p1);
    let fields: Map<number, Buffer>;
    try {
      fields = parseMap(cmd.data);
    } catch {
      throw new ApduError(SW.INCORRECT_DATA, "malformed key data");
    }
    const { pin, touch } = this.policies(fields, cmd.p2);
    try {
      const pair = importKey(alg, fields);
      this.keys.set(cmd.p2, { algorithm: alg, pinPolicy: pin, touchPolicy: touch, origin: "imported", ...pair });
    } catch (err) {
      if (err instanceof KeyOpError) throw new ApduError(err.sw, err.message);
      throw err;
    }
    return Buffer.alloc(0);
  }

  private moveKey(cmd: Command): Buffer {
    if (!this.firmware.moveKey) throw new ApduError(SW.INS_NOT_SUPPORTED, "MOVE KEY needs firmware 5.7");
    this.requireManagement();
    const [to, from] = [cmd.p1, cmd.p2];
    this.checkSlot(from, false);
    const key = this.keys.get(from);
    if (!key) throw new ApduError(SW.REFERENCE_NOT_FOUND, `slot ${from.toString(16)} holds no key`);
    if (to === 0xff) {
      this.keys.delete(from);
      return Buffer.alloc(0);
    }
    this.checkSlot(to, false);
    if (this.keys.has(to)) throw new ApduError(SW.INCORRECT_DATA, `slot ${to.toString(16)} is occupied`);
    this.keys.set(to, key);
    this.keys.delete(from);
    return Buffer.alloc(0);
  }

  private attest(cmd: Command): Buffer {
    this.checkSlot(cmd.p1);
    const key = this.keys.get(cmd.p1);
    if (!key) throw new ApduError(SW.REFERENCE_NOT_FOUND, `slot ${cmd.p1.toString(16)} holds no key`);
    if (key.origin !== "generated" || cmd.p1 === SLOT.ATTESTATION)
      throw new ApduError(SW.INCORRECT_DATA, "only generated keys can be attested");
    const signer = this.keys.get(SLOT.ATTESTATION);
    const f9 = this.objects.get(OBJECT.ATTESTATION);
    const cert = f9 ? unwrapCertificate(f9) : undefined;
    if (!signer || !cert) throw new ApduError(SW.REFERENCE_NOT_FOUND, "no attestation key or certificate");
    return attestationCertificate({
      slot: cmd.p1,
      publicKey: key.publicKey,
      pinPolicy: key.pinPolicy,
      touchPolicy: key.touchPolicy,
      firmware: this.firmware.version,
      serial: this.serial,
      formFactor: this.firmware.formFactor,
      issuerCertificate: cert,
      signer: signer.privateKey,
    });
  }

  private metadata(cmd: Command): Buffer {
    if (!this.firmware.metadata) throw new ApduError(SW.INS_NOT_SUPPORTED, "GET METADATA needs firmware 5.3");
    const slot = cmd.p2;
    if (slot === PIN_REF || slot === PUK_REF) {
      const ref = this.reference(slot);
      return Buffer.concat([
        tlv(0x05, Buffer.from([ref.isDefault ? 1 : 0])),
        tlv(0x06, Buffer.from([ref.tries, ref.remaining])),
      ]);
    }
    if (slot === SLOT.MANAGEMENT) {
      return Buffer.concat([
        tlv(0x01, Buffer.from([this.mgm.algorithm])),
        tlv(0x02, Buffer.from([PIN_POLICY.NEVER, this.mgm.touch])),
        tlv(0x05, Buffer.from([this.mgm.isDefault ? 1 : 0])),
      ]);
    }
    // The YubiKey Bio's fingerprint slot: a YubiKey without biometrics has no such reference
    // (yubikit 5 asks for it before `ykman piv info` and every reset, and accepts only 6A88 or 6D00).
    if (slot === SLOT.BIO) throw new ApduError(SW.REFERENCE_NOT_FOUND, "no biometrics on this YubiKey");
    this.checkSlot(slot);
    const key = this.keys.get(slot);
    if (!key) throw new ApduError(SW.REFERENCE_NOT_FOUND, `slot ${slot.toString(16)} holds no key`);
    return Buffer.concat([
      tlv(0x01, Buffer.from([key.algorithm])),
      tlv(0x02, Buffer.from([key.pinPolicy, key.touchPolicy])),
      tlv(0x03, Buffer.from([key.origin === "generated" ? 1 : 2])),
      tlv(0x04, publicKeyTlvs(key.algorithm, key.publicKey)),
    ]);
  }

  // --- data objects ------------------------------------------------------------------------------

  private objectId(data: Buffer): { id: number; rest: Buffer } {
    let all;
    try {
      all = parseAll(data);
    } catch {
      throw new ApduError(SW.INCORRECT_DATA, "malformed object id");
    }
    const first = all[0];
    if (!first || first.tag !== 0x5c || first.value.length < 1 || first.value.length > 3)
      throw new ApduError(SW.INCORRECT_DATA, "object id goes in tag 5C");
    const id = first.value.reduce((n, b) => n * 256 + b, 0);
    const header = data.subarray(0, 2 + first.value.length);
    return { id, rest: data.subarray(header.length) };
  }

  private getData(cmd: Command): Buffer {
    if (cmd.p1 !== 0x3f || cmd.p2 !== 0xff) throw new ApduError(SW.INCORRECT_P1P2, "GET DATA uses P1P2 3FFF");
    const { id } = this.objectId(cmd.data);
    if (id === OBJECT.DISCOVERY) return DISCOVERY;
    if (PIN_PROTECTED_OBJECTS.has(id) && !this.pinVerified)
      throw new ApduError(SW.SECURITY_STATUS, "this object needs the PIN");
    const value = this.objects.get(id);
    if (value === undefined) throw new ApduError(SW.FILE_NOT_FOUND, `object ${id.toString(16)} is empty`);
    return tlv(0x53, value);
  }

  private putData(cmd: Command): Buffer {
    if (cmd.p1 !== 0x3f || cmd.p2 !== 0xff) throw new ApduError(SW.INCORRECT_P1P2, "PUT DATA uses P1P2 3FFF");
    this.requireManagement();
    const { id, rest } = this.objectId(cmd.data);
    if (id === OBJECT.DISCOVERY) throw new ApduError(SW.INCORRECT_DATA, "the discovery object is read-only");
    const value = unwrap(rest, 0x53);
    if (value === undefined) throw new ApduError(SW.INCORRECT_DATA, "object data goes in tag 53");
    if (value.length > MAX_OBJECT) throw new ApduError(SW.NO_SPACE, `objects hold at most ${MAX_OBJECT} bytes`);
    if (value.length === 0) this.objects.delete(id);
    else this.objects.set(id, Buffer.from(value));
    return Buffer.alloc(0);
  }

  // --- for the CLI, tests and the device info of the management application ---------------------

  summary(): {
    pinTries: number;
    pukTries: number;
    keys: { slot: string; algorithm: number; origin: string }[];
    objects: string[];
  } {
    return {
      pinTries: this.pin.remaining,
      pukTries: this.puk.remaining,
      keys: [...this.keys].map(([slot, k]) => ({ slot: slot.toString(16), algorithm: k.algorithm, origin: k.origin })),
      objects: [...this.objects.keys()].map((id) => id.toString(16)),
    };
  }

  /** The public half of a slot's key (tests check signatures with it). */
  publicKey(slot: number) {
    return this.keys.get(slot)?.publicKey;
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** A certificate object's content: 70 certificate, 71 certinfo (not compressed), FE LRC. */
function certificateObjectValue(cert: Buffer): Buffer {
  return Buffer.concat([tlv(0x70, cert), tlv(0x71, Buffer.from([0])), tlv(0xfe)]);
}

function unwrapCertificate(objectValue: Buffer): Buffer | undefined {
  try {
    return parseMap(objectValue).get(0x70);
  } catch {
    return undefined;
  }
}
