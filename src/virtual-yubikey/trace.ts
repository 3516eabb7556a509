// pcsc-spy traces (pcsc-lite's libpcscspy, the stream its FIFO carries): reading the APDUs out of
// one, and redacting the secrets a PIV session sends before the trace is written anywhere — PINs
// and PUKs, management key handshakes and keys, imported private keys, and the PIN-protected
// management key object. Redaction zeroes values but keeps tags and lengths, and the status words
// stay: a replay can still tell a right PIN from a wrong one, and compare response shapes.
import { parseAll, readOne } from "../codec/tlv.js";

/** One SCardTransmit: the command and the answer (data + SW), or none when the call failed. */
export interface Transmit {
  command: Buffer;
  response?: Buffer;
}

/** What the replay needs from a trace, in order: transmits and card resets. */
export type TraceEvent = ({ kind: "transmit" } & Transmit) | { kind: "reset" };

/** A spy line: "THREAD@" (pcsc-lite 1.8.x+ with threads), then the text. */
function split(line: string): { thread: string; text: string } {
  const at = /^([0-9A-Fa-f]+)@/.exec(line);
  return at ? { thread: at[1]!, text: line.slice(at[0].length) } : { thread: "", text: line };
}

/** A buffer line ("00 A4 04 00 ") as opposed to a number ("0x00000002") or NULL. */
const isBuffer = (s: string) => /^([0-9A-Fa-f]{2} )+$/.test(s);
const hex = (s: string): Buffer | undefined => (s === "NULL" ? undefined : Buffer.from(s.replace(/\s+/g, ""), "hex"));
const hexLine = (b: Buffer) => [...b].map((x) => x.toString(16).toUpperCase().padStart(2, "0")).join(" ") + " ";

/** Calls, per thread, with their argument lines and return value. */
function* calls(text: string): Generator<{ name: string; args: string[]; rv: number }> {
  const open = new Map<string, { name: string; args: string[] }>();
  for (const raw of text.split("\n")) {
    const { thread, text: t } = split(raw);
    if (t.startsWith(">|")) {
      open.set(thread, { name: t.split("|")[3] ?? "", args: [] });
    } else if (t.startsWith("<|")) {
      const call = open.get(thread);
      open.delete(thread);
      if (call) yield { ...call, rv: Number(t.split("|")[5] ?? "0x1") };
    } else {
      open.get(thread)?.args.push(t);
    }
  }
}

const RESET_DISPOSITIONS = new Set([1, 2]); // SCARD_RESET_CARD, SCARD_UNPOWER_CARD

/** The transmits and resets of a trace, in the order the card saw them. */
export function readTrace(text: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (const call of calls(text)) {
    if (call.name === "SCardTransmit") {
      // hCard, send PCI (2 lines), send length, send buffer, receive PCI (2), receive length, receive buffer
      const [send, receive] = call.args.filter(isBuffer);
      const command = hex(send ?? "");
      const response = call.rv === 0 ? hex(receive ?? "") : undefined;
      if (command?.length) out.push({ kind: "transmit", command, response: response?.length ? response : undefined });
    } else if (call.name === "SCardDisconnect" || call.name === "SCardReconnect") {
      const disposition = Number(call.args[call.name === "SCardDisconnect" ? 1 : 3]);
      if (RESET_DISPOSITIONS.has(disposition)) out.push({ kind: "reset" });
    }
  }
  return out;
}

// --- redaction ------------------------------------------------------------------------------------

const INS = { VERIFY: 0x20, CHANGE: 0x24, UNBLOCK: 0x2c, AUTH: 0x87, GET_DATA: 0xcb, PUT_DATA: 0xdb } as const;
const INS_IMPORT = 0xfe;
const INS_SET_MGMKEY = 0xff;
/** An import's PIN (AA) and touch (AB) policies are no secret, and a replay needs them. */
const POLICY_TAGS: ReadonlySet<number> = new Set([0xaa, 0xab]);
/** PRINTED: ykman keeps a PIN-protected management key in it. */
const PRINTED = Buffer.from("5c035fc109", "hex");

/** Where an APDU's data starts and how long it is (short or extended Lc). */
function dataRange(apdu: Buffer): { start: number; length: number } | undefined {
  if (apdu.length <= 5) return undefined;
  if (apdu[4] !== 0) return { start: 5, length: Math.min(apdu[4]!, apdu.length - 5) };
  if (apdu.length <= 7) return undefined;
  return { start: 7, length: Math.min(apdu.readUInt16BE(5), apdu.length - 7) };
}

/**
 * Zeroes every primitive value in BER-TLV data, keeping tags and lengths (and the values of `keep`,
 * an import's PIN and touch policies); data that is not TLV is zeroed whole.
 */
function zeroValues(data: Buffer, keep: ReadonlySet<number> = new Set()): Buffer {
  const out = Buffer.from(data);
  const walk = (start: number, end: number): boolean => {
    let pos = start;
    try {
      while (pos < end) {
        const t = readOne(out, pos);
        if (t.end > end) return false;
        const valueStart = t.end - t.value.length;
        const first = out[pos]!;
        if (keep.has(t.tag)) pos = t.end;
        else if (!(first & 0x20) || !walk(valueStart, t.end)) out.fill(0, valueStart, t.end);
        pos = t.end;
      }
      return true;
    } catch {
      return false;
    }
  };
  if (!walk(0, out.length)) out.fill(0);
  return out;
}

function zeroData(apdu: Buffer, how: "all" | "tlv", skip = 0): Buffer {
  const r = dataRange(apdu);
  if (!r || r.length <= skip) return apdu;
  const out = Buffer.from(apdu);
  const start = r.start + skip;
  const data = out.subarray(start, r.start + r.length);
  (how === "all" ? Buffer.alloc(data.length) : zeroValues(data, POLICY_TAGS)).copy(out, start);
  return out;
}

interface RedactState {
  /** INS of a chained command (CLA 10) whose pieces are all secret. */
  secretChain?: number;
  /** The answer to the last command was secret: so is what GET RESPONSE continues of it. */
  secretAnswer?: boolean;
}

/** Redacts one command; says whether its answer must be redacted too. */
export function redactCommand(apdu: Buffer, state: RedactState): { command: Buffer; secretAnswer: boolean } {
  const [cla = 0, ins = 0, , p2 = 0] = apdu;
  const data = dataRange(apdu);
  const body = data ? apdu.subarray(data.start, data.start + data.length) : Buffer.alloc(0);
  const inChain = state.secretChain === ins;
  state.secretChain = undefined;
  let command = apdu;
  let secretAnswer = false;
  if (ins === 0xc0) {
    secretAnswer = state.secretAnswer ?? false;
  } else if (ins === INS.VERIFY || ins === INS.CHANGE || ins === INS.UNBLOCK) {
    command = zeroData(apdu, "all");
  } else if (ins === INS.AUTH && p2 === 0x9b) {
    command = zeroData(apdu, "tlv");
    secretAnswer = true;
  } else if (ins === INS_SET_MGMKEY) {
    command = zeroData(apdu, "tlv", 1); // the algorithm byte stays
  } else if (ins === INS_IMPORT || (ins === INS.PUT_DATA && (inChain || body.includes(PRINTED)))) {
    command = inChain ? zeroData(apdu, "all") : zeroSecretData(apdu, ins);
    if (cla & 0x10) state.secretChain = ins;
  } else if (ins === INS.GET_DATA && body.equals(PRINTED)) {
    secretAnswer = true;
  }
  state.secretAnswer = secretAnswer;
  return { command, secretAnswer };
}

/** An answer's data zeroed (tags and lengths kept), its status word kept. */
export function redactAnswer(response: Buffer): Buffer {
  if (response.length <= 2) return response;
  return Buffer.concat([zeroValues(response.subarray(0, -2)), response.subarray(-2)]);
}

/** An import's key TLVs or PRINTED's 53 value, zeroed. */
function zeroSecretData(apdu: Buffer, ins: number): Buffer {
  const skip = ins === INS.PUT_DATA ? PRINTED.length : 0;
  const r = dataRange(apdu);
  if (!r) return apdu;
  try {
    parseAll(apdu.subarray(r.start + skip, r.start + r.length));
  } catch {
    // The first piece of a chain ends inside a TLV: zero all of it after the object id.
    return zeroData(apdu, "all", skip);
  }
  return zeroData(apdu, "tlv", skip);
}

/**
 * Redacts a spy stream line by line, as it arrives (nothing secret is ever written): the send
 * buffer of each SCardTransmit and, where secret, its receive buffer; other lines pass unchanged.
 */
export class TraceRedactor {
  private calls = new Map<string, { name: string; buffers: number; secretAnswer?: boolean }>();
  private state: RedactState = {};
  redactions = 0;

  line(raw: string): string {
    const { thread, text } = split(raw);
    const prefix = raw.slice(0, raw.length - text.length);
    if (text.startsWith(">|")) {
      this.calls.set(thread, { name: text.split("|")[3] ?? "", buffers: 0 });
      return raw;
    }
    if (text.startsWith("<|")) {
      this.calls.delete(thread);
      return raw;
    }
    const call = this.calls.get(thread);
    if (!call || call.name !== "SCardTransmit" || !isBuffer(text)) return raw;
    const buffer = hex(text)!;
    let out = buffer;
    if (call.buffers++ === 0) {
      const r = redactCommand(buffer, this.state);
      call.secretAnswer = r.secretAnswer;
      out = r.command;
    } else if (call.secretAnswer) {
      out = redactAnswer(buffer);
    }
    if (out.equals(buffer)) return raw;
    this.redactions++;
    return prefix + hexLine(out);
  }
}
