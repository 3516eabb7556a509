// ISO 7816-4 command and response APDUs, parsed leniently the way a YubiKey does: libykpiv sends
// short APDUs without Le and with a zero Lc (`00 FD 00 00 00`), ykman sends extended ones.

export class ApduError extends Error {
  constructor(
    readonly sw: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Command {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Buffer;
  /** Expected response length; 0 means "up to 256" (short) or "up to 65536" (extended). */
  le?: number;
  extended: boolean;
}

export const SW = {
  OK: 0x9000,
  BYTES_REMAINING: 0x6100,
  WRONG_LENGTH: 0x6700,
  VERIFY_FAIL_NO_RETRY: 0x63c0,
  SECURITY_STATUS: 0x6982,
  AUTH_BLOCKED: 0x6983,
  DATA_INVALID: 0x6984,
  CONDITIONS_OF_USE: 0x6985,
  COMMAND_NOT_ALLOWED: 0x6986,
  INCORRECT_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  NO_SPACE: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCE_NOT_FOUND: 0x6a88,
  WRONG_P1P2: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
} as const;

export function parseCommand(raw: Buffer): Command {
  if (raw.length < 4) throw new ApduError(SW.WRONG_LENGTH, `an APDU has at least 4 bytes, got ${raw.length}`);
  const [cla, ins, p1, p2] = [raw[0]!, raw[1]!, raw[2]!, raw[3]!];
  const base = { cla, ins, p1, p2 };
  if (raw.length === 4) return { ...base, data: Buffer.alloc(0), extended: false };
  if (raw.length === 5) return { ...base, data: Buffer.alloc(0), le: raw[4]!, extended: false };
  const b4 = raw[4]!;
  if (b4 !== 0) {
    // Short: Lc, data, optional Le. Anything after is tolerated (some hosts append junk).
    const lc = b4;
    if (raw.length < 5 + lc) throw new ApduError(SW.WRONG_LENGTH, `Lc says ${lc} bytes, ${raw.length - 5} follow`);
    const le = raw.length > 5 + lc ? raw[5 + lc] : undefined;
    return { ...base, data: Buffer.from(raw.subarray(5, 5 + lc)), le, extended: false };
  }
  // Extended: 00 then two length bytes.
  if (raw.length === 7) return { ...base, data: Buffer.alloc(0), le: raw.readUInt16BE(5), extended: true };
  const lc = raw.readUInt16BE(5);
  if (raw.length < 7 + lc)
    throw new ApduError(SW.WRONG_LENGTH, `extended Lc says ${lc} bytes, ${raw.length - 7} follow`);
  const rest = raw.length - 7 - lc;
  const le = rest >= 2 ? raw.readUInt16BE(7 + lc) : undefined;
  return { ...base, data: Buffer.from(raw.subarray(7, 7 + lc)), le, extended: true };
}

export function response(data: Buffer, sw: number): Buffer {
  return Buffer.concat([data, Buffer.from([sw >> 8, sw & 0xff])]);
}

export function encodeCommand(c: {
  cla?: number;
  ins: number;
  p1?: number;
  p2?: number;
  data?: Buffer;
  le?: number;
}): Buffer {
  const head = Buffer.from([c.cla ?? 0, c.ins, c.p1 ?? 0, c.p2 ?? 0]);
  const data = c.data ?? Buffer.alloc(0);
  if (data.length > 255) {
    const lc = Buffer.from([0, data.length >> 8, data.length & 0xff]);
    return Buffer.concat([
      head,
      lc,
      data,
      c.le !== undefined ? Buffer.from([c.le >> 8, c.le & 0xff]) : Buffer.alloc(0),
    ]);
  }
  const parts: Buffer[] = [head];
  if (data.length) parts.push(Buffer.from([data.length]), data);
  if (c.le !== undefined) parts.push(Buffer.from([c.le & 0xff]));
  return Buffer.concat(parts);
}
