// The whole virtual YubiKey as a reader sees it: an ATR, SELECT between its applications (PIV,
// the OTP application that gives YubiKey 4 serials, the management application that gives device
// info), command chaining (CLA 0x10) and response chaining (61xx + GET RESPONSE).
import { ApduError, SW, parseCommand, response, type Command } from "./apdu.js";
import { versionString, type Firmware } from "./firmware.js";
import { PivApplet, type PivOptions } from "./piv.js";
import { tlv } from "../codec/tlv.js";

const AID = {
  PIV: Buffer.from("a000000308", "hex"),
  OTP: Buffer.from("a0000005272001", "hex"),
  MANAGEMENT: Buffer.from("a000000527471117", "hex"),
} as const;

const PIV_SELECT_RESPONSE = Buffer.from("4f0600001000010079074f05a000000308", "hex");

/** What every card the transport serves can do. */
export interface SmartCard {
  readonly atr: Buffer;
  transmit(apdu: Buffer): Buffer;
  /** Power off, power on or reset: volatile state is lost. */
  reset(): void;
}

export interface CardStats {
  apdus: number;
  byIns: Record<string, number>;
  errors: Record<string, number>;
}

type Applet = "piv" | "otp" | "management" | undefined;

export class VirtualYubiKey implements SmartCard {
  readonly piv: PivApplet;
  readonly firmware: Firmware;
  readonly atr: Buffer;
  private selected: Applet;
  private chain?: { ins: number; p1: number; p2: number; parts: Buffer[] };
  private pending: Buffer = Buffer.alloc(0);
  readonly stats: CardStats = { apdus: 0, byIns: {}, errors: {} };
  /** Called with each command and its status word (no data: PINs and keys never leave). */
  onCommand?: (cmd: { ins: number; p1: number; p2: number; length: number }, sw: number) => void;

  constructor(options: PivOptions) {
    this.firmware = options.firmware;
    this.atr = options.firmware.atr;
    this.piv = new PivApplet(options);
    // A YubiKey selects PIV by default when powered up over CCID.
    this.selected = "piv";
  }

  reset(): void {
    this.piv.deselect();
    this.selected = "piv";
    this.chain = undefined;
    this.pending = Buffer.alloc(0);
  }

  transmit(raw: Buffer): Buffer {
    this.stats.apdus++;
    let sw: number;
    let data: Buffer;
    let cmd: Command | undefined;
    try {
      cmd = parseCommand(raw);
      const key = cmd.ins.toString(16).padStart(2, "0");
      this.stats.byIns[key] = (this.stats.byIns[key] ?? 0) + 1;
      ({ data, sw } = this.handle(cmd));
    } catch (err) {
      if (!(err instanceof ApduError)) throw err;
      sw = err.sw;
      data = Buffer.alloc(0);
    }
    if (sw !== SW.OK && sw >> 8 !== 0x61) {
      const key = sw.toString(16);
      this.stats.errors[key] = (this.stats.errors[key] ?? 0) + 1;
    }
    this.onCommand?.({ ins: cmd?.ins ?? -1, p1: cmd?.p1 ?? 0, p2: cmd?.p2 ?? 0, length: cmd?.data.length ?? 0 }, sw);
    return response(data, sw);
  }

  private handle(cmd: Command): { data: Buffer; sw: number } {
    if (cmd.ins === 0xc0) {
      // GET RESPONSE: the next piece of a long answer.
      if (this.pending.length === 0) throw new ApduError(SW.CONDITIONS_OF_USE, "no response pending");
      return this.answer(this.pending, cmd);
    }
    this.pending = Buffer.alloc(0);
    if (cmd.cla & 0x10) {
      if (this.chain && (this.chain.ins !== cmd.ins || this.chain.p1 !== cmd.p1 || this.chain.p2 !== cmd.p2))
        this.chain = undefined;
      this.chain ??= { ins: cmd.ins, p1: cmd.p1, p2: cmd.p2, parts: [] };
      this.chain.parts.push(cmd.data);
      // No PIV command carries more than a few KiB; an endless chain must not eat the process.
      if (this.chain.parts.reduce((n, p) => n + p.length, 0) > MAX_CHAIN) {
        this.chain = undefined;
        throw new ApduError(SW.WRONG_LENGTH, `command chain longer than ${MAX_CHAIN} bytes`);
      }
      return { data: Buffer.alloc(0), sw: SW.OK };
    }
    if (this.chain) {
      const chain = this.chain;
      this.chain = undefined;
      if (chain.ins === cmd.ins && chain.p1 === cmd.p1 && chain.p2 === cmd.p2)
        cmd = { ...cmd, data: Buffer.concat([...chain.parts, cmd.data]) };
    }
    if (cmd.cla & ~0x10 & 0xfc) throw new ApduError(SW.CLA_NOT_SUPPORTED, `CLA 0x${cmd.cla.toString(16)}`);
    const out = cmd.ins === 0xa4 ? this.select(cmd) : this.dispatch(cmd);
    return this.answer(out, cmd);
  }

  /**
   * At most Le bytes (absent or 0: 256 for short APDUs, 65536 for extended ones); the rest waits for
   * GET RESPONSE, announced with 61xx (xx: bytes left, 00 for 256 or more).
   */
  private answer(out: Buffer, cmd: Command): { data: Buffer; sw: number } {
    const max = cmd.le ? cmd.le : cmd.extended ? 65536 : 256;
    if (out.length <= max) {
      this.pending = Buffer.alloc(0);
      return { data: out, sw: SW.OK };
    }
    this.pending = out.subarray(max);
    return { data: out.subarray(0, max), sw: 0x6100 | (this.pending.length >= 256 ? 0 : this.pending.length) };
  }

  private select(cmd: Command): Buffer {
    if (cmd.p1 !== 0x04) throw new ApduError(SW.INCORRECT_P1P2, "select by AID only");
    const aid = cmd.data;
    const matches = (known: Buffer) => aid.length >= known.length && aid.subarray(0, known.length).equals(known);
    // A failed SELECT leaves the current application selected (OpenSC probes other AIDs, then goes on).
    // The OTP application is disabled (as the device info says) but on firmware 4, where libykpiv
    // reads the serial through it: there it answers that one command.
    const otp = matches(AID.OTP) && !this.firmware.serialCommand;
    if (matches(AID.PIV) || otp || matches(AID.MANAGEMENT)) this.piv.deselect();
    if (matches(AID.PIV)) {
      this.selected = "piv";
      return tlv(0x61, PIV_SELECT_RESPONSE);
    }
    if (otp) {
      this.selected = "otp";
      const [a, b, c] = this.firmware.version;
      return Buffer.from([a, b, c, 0x01, 0x05, 0x00]); // version, program sequence, touch level
    }
    if (matches(AID.MANAGEMENT)) {
      this.selected = "management";
      return Buffer.from(`Virtual YubiKey ${versionString(this.firmware)}`, "latin1");
    }
    throw new ApduError(SW.FILE_NOT_FOUND, "no such application");
  }

  private dispatch(cmd: Command): Buffer {
    switch (this.selected) {
      case "piv":
        return this.piv.process(cmd);
      case "otp":
        // YubiKey 4 serial: INS 01, P1 10 (OTP "get serial" slot command).
        if (cmd.ins === 0x01 && cmd.p1 === 0x10) {
          const b = Buffer.alloc(4);
          b.writeUInt32BE(this.piv.serial >>> 0);
          return b;
        }
        throw new ApduError(SW.INS_NOT_SUPPORTED, "OTP application: only the serial");
      case "management":
        if (cmd.ins === 0x1d) return this.deviceInfo();
        throw new ApduError(SW.INS_NOT_SUPPORTED, "management application: only READ CONFIG");
      default:
        throw new ApduError(SW.CONDITIONS_OF_USE, "no application selected");
    }
  }

  /** READ CONFIG of the management application (what ykman shows): capabilities, serial, form factor, version. */
  private deviceInfo(): Buffer {
    const { supported, enabled } = this.firmware.usb;
    const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
    const serial = Buffer.alloc(4);
    serial.writeUInt32BE(this.piv.serial >>> 0);
    const body = Buffer.concat([
      tlv(0x01, u16(supported)),
      tlv(0x02, serial),
      ...(enabled === undefined ? [] : [tlv(0x03, u16(enabled))]),
      tlv(0x04, Buffer.from([this.firmware.formFactor])),
      tlv(0x05, Buffer.from(this.firmware.version)),
      tlv(0x0a, Buffer.from([0x00])),
    ]);
    return Buffer.concat([Buffer.from([body.length]), body]);
  }
}

/** What the reader's second slot holds: a card without any application (vpcd cannot show an empty slot). */
export class BlankCard implements SmartCard {
  readonly atr = Buffer.from("3b80800101", "hex");
  transmit(raw: Buffer): Buffer {
    const ins = raw[1];
    return response(Buffer.alloc(0), ins === 0xa4 ? SW.FILE_NOT_FOUND : SW.INS_NOT_SUPPORTED);
  }
  reset(): void {}
}

const MAX_CHAIN = 64 * 1024;
