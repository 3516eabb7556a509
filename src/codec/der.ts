// Minimal DER reading and writing: enough for CKA_EC_PARAMS, CKA_EC_POINT and PSS AlgorithmIdentifiers.
// Not a general ASN.1 library: single-byte tags only, definite lengths only (DER forbids the rest).

export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  PRINTABLE_STRING: 0x13,
  SEQUENCE: 0x30,
} as const;

export interface Tlv {
  tag: number;
  content: Buffer;
  /** Offset just past this element in the buffer it was read from. */
  end: number;
}

export class DerError extends Error {}

export function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/** Reads one element at `offset`; throws DerError on truncation or non-minimal length encoding. */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new DerError("truncated: no room for a tag and a length");
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag 0x${tag.toString(16)} is not supported`);
  let pos = offset + 1;
  const first = buf[pos++]!;
  let length = first;
  if (first === 0x80) throw new DerError("indefinite length is not DER");
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > 4 || pos + count > buf.length) throw new DerError("truncated or oversized length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
    if (length < 0x80 || buf[pos - count] === 0) throw new DerError("length is not minimally encoded");
  }
  if (pos + length > buf.length) {
    throw new DerError(`length says ${length} bytes but only ${buf.length - pos} follow`);
  }
  return { tag, content: buf.subarray(pos, pos + length), end: pos + length };
}

/** Reads exactly one element that spans all of `buf`. */
export function readWhole(buf: Buffer): Tlv {
  const el = readTlv(buf, 0);
  if (el.end !== buf.length) throw new DerError(`${buf.length - el.end} bytes after the end of the element`);
  return el;
}

/** The elements inside a constructed element's content. */
export function readChildren(content: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = 0; pos < content.length;) {
    const el = readTlv(content, pos);
    out.push(el);
    pos = el.end;
  }
  return out;
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split(".").map((a) => BigInt(a));
  if (arcs.length < 2) throw new DerError(`bad OID ${oid}`);
  const bytes: number[] = [];
  const push = (arc: bigint): void => {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    bytes.push(...chunk);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(TAG.OID, Buffer.from(bytes));
}

/** Dotted form of an OID's content bytes (without tag and length). */
export function decodeOid(content: Buffer): string {
  if (content.length === 0) throw new DerError("empty OID");
  const arcs: bigint[] = [];
  let value = 0n;
  for (let i = 0; i < content.length; i++) {
    const b = content[i]!;
    if (value === 0n && b === 0x80) throw new DerError("OID arc is not minimally encoded");
    value = (value << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(value);
      value = 0n;
    } else if (i === content.length - 1) {
      throw new DerError("OID ends inside an arc");
    }
  }
  const first = arcs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join(".");
}

/** DER INTEGER content for an unsigned big-endian value. */
export function encodeUnsigned(value: Buffer | number): Buffer {
  let bytes = value;
  if (typeof bytes === "number") {
    const hex = bytes.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex");
  }
  bytes = stripLeadingZeros(bytes);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.INTEGER, bytes);
}

export function stripLeadingZeros(buf: Buffer): Buffer {
  let i = 0;
  while (i < buf.length && buf[i] === 0) i++;
  return buf.subarray(i);
}

export function leftPad(buf: Buffer, length: number): Buffer {
  if (buf.length >= length) return buf;
  return Buffer.concat([Buffer.alloc(length - buf.length), buf]);
}
