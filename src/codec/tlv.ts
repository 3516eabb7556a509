// BER-TLV as PIV and Yubico's extensions use it: tags of one to three bytes (0x7C, 0x7F49, 0x5FC105),
// definite lengths of one to three bytes (0x81 xx, 0x82 xx xx). Also serves the DER the card writes
// into attestation certificates (DER is BER with minimal lengths, which `encode` always produces).

export class TlvError extends Error {}

export interface Tlv {
  tag: number;
  value: Buffer;
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  if (length < 0x10000) return Buffer.from([0x82, length >> 8, length & 0xff]);
  return Buffer.from([0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]);
}

function encodeTag(tag: number): Buffer {
  if (tag < 0x100) return Buffer.from([tag]);
  if (tag < 0x10000) return Buffer.from([tag >> 8, tag & 0xff]);
  return Buffer.from([tag >> 16, (tag >> 8) & 0xff, tag & 0xff]);
}

/** One TLV; `value` may be several buffers, concatenated. */
export function tlv(tag: number, ...value: (Buffer | Uint8Array)[]): Buffer {
  const body = Buffer.concat(value);
  return Buffer.concat([encodeTag(tag), encodeLength(body.length), body]);
}

/** Reads the tag at `pos`: a first byte with low bits 11111 continues while the next has its top bit set. */
function readTag(buf: Buffer, pos: number): { tag: number; pos: number } {
  let tag = buf[pos++];
  if (tag === undefined) throw new TlvError("truncated: no tag");
  if ((tag & 0x1f) === 0x1f) {
    let b: number | undefined;
    do {
      b = buf[pos++];
      if (b === undefined) throw new TlvError("truncated: multi-byte tag");
      tag = tag * 256 + b;
    } while (b & 0x80);
  }
  return { tag, pos };
}

function readLength(buf: Buffer, pos: number): { length: number; pos: number } {
  const first = buf[pos++];
  if (first === undefined) throw new TlvError("truncated: no length");
  if (first < 0x80) return { length: first, pos };
  const count = first & 0x7f;
  if (count === 0 || count > 3) throw new TlvError(`unsupported length form 0x${first.toString(16)}`);
  if (pos + count > buf.length) throw new TlvError("truncated: length bytes");
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
  return { length, pos };
}

/** Reads one TLV at `offset`. */
export function readOne(buf: Buffer, offset = 0): Tlv & { end: number } {
  const t = readTag(buf, offset);
  const l = readLength(buf, t.pos);
  if (l.pos + l.length > buf.length)
    throw new TlvError(`tag 0x${t.tag.toString(16)} says ${l.length} bytes, ${buf.length - l.pos} follow`);
  return { tag: t.tag, value: buf.subarray(l.pos, l.pos + l.length), end: l.pos + l.length };
}

/** Every TLV in `buf`, in order. Trailing garbage is an error. */
export function parseAll(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const one = readOne(buf, pos);
    out.push({ tag: one.tag, value: one.value });
    pos = one.end;
  }
  return out;
}

/** The TLVs in `buf` by tag (the first of each tag wins). */
export function parseMap(buf: Buffer): Map<number, Buffer> {
  const map = new Map<number, Buffer>();
  for (const { tag, value } of parseAll(buf)) if (!map.has(tag)) map.set(tag, value);
  return map;
}

/** The value of the single TLV `tag` that makes up all of `buf`, else undefined. */
export function unwrap(buf: Buffer, tag: number): Buffer | undefined {
  try {
    const one = readOne(buf, 0);
    return one.tag === tag && one.end === buf.length ? one.value : undefined;
  } catch {
    return undefined;
  }
}
