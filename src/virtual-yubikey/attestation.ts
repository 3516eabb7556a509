// The card's attestation: the key in slot F9 with its certificate (object 5FFF01), and ATTEST,
// which issues an X.509 certificate for the public key of a generated key, signed by the F9 key
// and carrying Yubico's extensions (firmware 41482.3.3, serial 3.7, PIN/touch policy 3.8, form
// factor 3.9). This virtual card's F9 certificate is self-signed and says it is virtual.
import { createPublicKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { readOne, tlv } from "../codec/tlv.js";

const SEQ = 0x30;
const SET = 0x31;

function oid(dotted: string): Buffer {
  const parts = dotted.split(".").map((p) => BigInt(p));
  const bytes: number[] = [];
  const push = (v: bigint) => {
    const chunk: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  };
  push(parts[0]! * 40n + parts[1]!);
  for (const p of parts.slice(2)) push(p);
  return tlv(0x06, Buffer.from(bytes));
}

function derUnsigned(value: Buffer | number | bigint): Buffer {
  let hex = typeof value === "object" ? value.toString("hex") : BigInt(value).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, "hex");
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const name = (cn: string) => tlv(SEQ, tlv(SET, tlv(SEQ, oid("2.5.4.3"), utf8(cn))));

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14); // YYYYMMDDhhmmss
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function signatureAlgorithm(signer: KeyObject): { id: Buffer; hash: string | null } {
  switch (signer.asymmetricKeyType) {
    case "rsa":
      return { id: tlv(SEQ, oid("1.2.840.113549.1.1.11"), Buffer.from([0x05, 0x00])), hash: "sha256" };
    case "ec":
      return { id: tlv(SEQ, oid("1.2.840.10045.4.3.2")), hash: "sha256" };
    case "ed25519":
      return { id: tlv(SEQ, oid("1.3.101.112")), hash: null };
    default:
      throw new Error(`cannot sign certificates with a ${signer.asymmetricKeyType} key`);
  }
}

export interface CertificateSpec {
  subject: string;
  /** A common name, or the issuer's Name as DER (copied from the signer's certificate). */
  issuer: string | Buffer;
  publicKey: KeyObject;
  signer: KeyObject;
  notBefore: Date;
  notAfter: Date;
  extensions?: { oid: string; critical?: boolean; value: Buffer }[];
  serial?: Buffer;
}

export function certificate(spec: CertificateSpec): Buffer {
  const alg = signatureAlgorithm(spec.signer);
  const serial = spec.serial ?? Buffer.concat([Buffer.from([0x01]), randomBytes(15)]);
  const exts = (spec.extensions ?? []).map((e) =>
    tlv(SEQ, oid(e.oid), e.critical ? Buffer.from([0x01, 0x01, 0xff]) : Buffer.alloc(0), tlv(0x04, e.value)),
  );
  const pub = spec.publicKey.type === "public" ? spec.publicKey : createPublicKey(spec.publicKey);
  const spki = pub.export({ format: "der", type: "spki" });
  const tbs = tlv(
    SEQ,
    tlv(0xa0, derUnsigned(2)),
    derUnsigned(serial),
    alg.id,
    typeof spec.issuer === "string" ? name(spec.issuer) : spec.issuer,
    tlv(SEQ, time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spki,
    exts.length ? tlv(0xa3, tlv(SEQ, ...exts)) : Buffer.alloc(0),
  );
  const signature = sign(alg.hash, tbs, spec.signer);
  return tlv(SEQ, tbs, alg.id, tlv(0x03, Buffer.from([0]), signature));
}

const ATTESTATION_VALIDITY = {
  notBefore: new Date("2016-03-14T00:00:00Z"),
  notAfter: new Date("2052-04-17T00:00:00Z"),
};

export function attestationRootCertificate(
  key: { privateKey: KeyObject; publicKey: KeyObject },
  serial: number,
): Buffer {
  const subject = `Virtual YubiKey PIV Attestation #${serial}`;
  return certificate({
    subject,
    issuer: subject,
    publicKey: key.publicKey,
    signer: key.privateKey,
    ...ATTESTATION_VALIDITY,
    extensions: [{ oid: "2.5.29.19", critical: true, value: tlv(SEQ, Buffer.from([0x01, 0x01, 0xff])) }],
  });
}

export interface AttestInput {
  slot: number;
  publicKey: KeyObject;
  pinPolicy: number;
  touchPolicy: number;
  firmware: [number, number, number];
  serial: number;
  formFactor: number;
  /** The F9 certificate (DER): its subject becomes the issuer. */
  issuerCertificate: Buffer;
  signer: KeyObject;
}

export function attestationCertificate(a: AttestInput): Buffer {
  return certificate({
    subject: `YubiKey PIV Attestation ${a.slot.toString(16)}`,
    issuer: subjectOf(a.issuerCertificate),
    publicKey: a.publicKey,
    signer: a.signer,
    ...ATTESTATION_VALIDITY,
    extensions: [
      { oid: "1.3.6.1.4.1.41482.3.3", value: Buffer.from(a.firmware) },
      { oid: "1.3.6.1.4.1.41482.3.7", value: derUnsigned(a.serial) },
      { oid: "1.3.6.1.4.1.41482.3.8", value: Buffer.from([a.pinPolicy, a.touchPolicy]) },
      { oid: "1.3.6.1.4.1.41482.3.9", value: Buffer.from([a.formFactor]) },
    ],
  });
}

/** The subject Name (DER) of a certificate: the sixth element of TBSCertificate (after [0] version). */
function subjectOf(cert: Buffer): Buffer {
  const outer = readOne(cert, 0);
  const tbs = readOne(outer.value, 0);
  const fields: Buffer[] = [];
  let pos = 0;
  while (pos < tbs.value.length) {
    const el = readOne(tbs.value, pos);
    fields.push(tbs.value.subarray(pos, el.end));
    pos = el.end;
  }
  const offset = tbs.value[0] === 0xa0 ? 1 : 0;
  const subject = fields[offset + 4];
  if (!subject) throw new Error("certificate has no subject");
  return Buffer.from(subject);
}
