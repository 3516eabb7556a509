// Replays a (redacted) pcsc-spy trace against a virtual YubiKey of the trace's firmware and lists
// every status word and response shape that differs. Chained commands and GET RESPONSE sequences
// are compared as the one logical command they are. Redacted secrets are played by their outcome:
// a VERIFY that answered 9000 is sent with the virtual card's PIN, one that failed with a wrong PIN;
// a management key handshake is done with the virtual card's key (or a wrong one), an imported key
// is replaced by a fresh one of the same algorithm and policies.
import { createECDH, generateKeyPairSync, randomBytes } from "node:crypto";
import { encodeCommand, parseCommand } from "./apdu.js";
import { VirtualYubiKey } from "./card.js";
import { ALG, firmwareProfile, versionString } from "./firmware.js";
import { DEFAULT_MANAGEMENT_KEY, ecb } from "./piv.js";
import { readTrace } from "./trace.js";
import { parseAll, parseMap, tlv, unwrap } from "../codec/tlv.js";

export interface Answer {
  data: Buffer;
  sw: number;
}

/** One logical command of the trace: its pieces put together, its answer collected. */
export interface Exchange {
  /** Position of its first APDU in the trace (0-based). */
  apdu: number;
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Buffer;
  /** The APDUs as sent (the pieces of a chain), replayed as they are unless a secret is replaced. */
  raw: Buffer[];
  /** The client followed 61xx with GET RESPONSE (the answer is what those collected). */
  followed: boolean;
  recorded?: Answer;
}

export type Event = ({ kind: "exchange" } & Exchange) | { kind: "reset" };

export interface Difference {
  apdu: number;
  command: string;
  name: string;
  what: "status word" | "shape" | "value";
  recorded: { sw: string; shape: string };
  replayed: { sw: string; shape: string };
}

export interface ReplayResult {
  firmware: string;
  serial: number;
  /** What the trace's card held that the virtual card was given first: objects by id, keys by slot. */
  seeded: { objects: string[]; keys: string[] };
  apdus: number;
  exchanges: number;
  differences: Difference[];
}

const NAMES: Record<number, string> = {
  0x01: "OTP GET SERIAL",
  0x1d: "READ CONFIG",
  0x20: "VERIFY",
  0x24: "CHANGE REFERENCE DATA",
  0x2c: "RESET RETRY COUNTER",
  0x47: "GENERATE ASYMMETRIC KEY PAIR",
  0x87: "GENERAL AUTHENTICATE",
  0xa4: "SELECT",
  0xcb: "GET DATA",
  0xdb: "PUT DATA",
  0xf6: "MOVE KEY",
  0xf7: "GET METADATA",
  0xf8: "GET SERIAL",
  0xf9: "ATTEST",
  0xfa: "SET PIN RETRIES",
  0xfb: "RESET",
  0xfd: "GET VERSION",
  0xfe: "IMPORT KEY",
  0xff: "SET MANAGEMENT KEY",
};

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, "0");
const swText = (a?: Answer) => (a ? a.sw.toString(16).toUpperCase().padStart(4, "0") : "none");

/** The structure of an answer: its TLV tags, nested for constructed ones, or its length. */
function shape(data: Buffer): string {
  if (data.length === 0) return "-";
  const walk = (buf: Buffer): string | undefined => {
    try {
      return parseAll(buf)
        .map((t) => {
          const tag = t.tag.toString(16).toUpperCase();
          const first = t.tag >= 0x10000 ? t.tag >> 16 : t.tag >= 0x100 ? t.tag >> 8 : t.tag;
          const inner = first & 0x20 && t.value.length ? walk(t.value) : undefined;
          return inner ? `${tag}{${inner}}` : tag;
        })
        .join(",");
    } catch {
      return undefined;
    }
  };
  return walk(data) ?? `${data.length} bytes`;
}

/** Chains and GET RESPONSE sequences joined into logical commands. */
function exchanges(trace: string): Event[] {
  const out: Event[] = [];
  let index = 0;
  let chain: { first: number; parts: Buffer[]; raw: Buffer[]; ins: number } | undefined;
  let last: Exchange | undefined;
  for (const e of readTrace(trace)) {
    if (e.kind === "reset") {
      out.push(e);
      last = undefined;
      continue;
    }
    const apdu = index++;
    const [cla = 0, ins = 0, p1 = 0, p2 = 0] = e.command;
    const data = commandData(e.command);
    const answer = e.response
      ? { data: e.response.subarray(0, -2), sw: e.response.readUInt16BE(e.response.length - 2) }
      : undefined;
    if (ins === 0xc0 && last?.recorded && last.recorded.sw >> 8 === 0x61) {
      last.recorded = answer && { data: Buffer.concat([last.recorded.data, answer.data]), sw: answer.sw };
      last.followed = true;
      continue;
    }
    if (cla & 0x10) {
      if (!chain || chain.ins !== ins) chain = { first: apdu, parts: [], raw: [], ins };
      chain.parts.push(data);
      chain.raw.push(e.command);
      continue;
    }
    const whole = chain?.ins === ins ? chain : undefined;
    chain = undefined;
    const x: Extract<Event, { kind: "exchange" }> = {
      kind: "exchange",
      apdu: whole?.first ?? apdu,
      cla,
      ins,
      p1,
      p2,
      data: whole ? Buffer.concat([...whole.parts, data]) : data,
      raw: [...(whole?.raw ?? []), e.command],
      followed: false,
      recorded: answer,
    };
    out.push(x);
    last = x; // GET RESPONSE continues this very entry
  }
  return out;
}

function leOf(apdu: Buffer): number | undefined {
  try {
    return parseCommand(apdu).le;
  } catch {
    return undefined;
  }
}

function commandData(apdu: Buffer): Buffer {
  if (apdu.length <= 5) return Buffer.alloc(0);
  if (apdu[4] !== 0) return apdu.subarray(5, 5 + apdu[4]!);
  if (apdu.length <= 7) return Buffer.alloc(0);
  return apdu.subarray(7, 7 + apdu.readUInt16BE(5));
}

/** The firmware and serial a trace's card reported (GET VERSION, GET SERIAL or the OTP serial). */
function identify(events: Event[]): { firmware?: string; serial?: number } {
  const out: { firmware?: string; serial?: number } = {};
  for (const e of events) {
    if (e.kind !== "exchange" || e.recorded?.sw !== 0x9000) continue;
    if (e.ins === 0xfd && e.recorded.data.length === 3) out.firmware ??= [...e.recorded.data].join(".");
    if ((e.ins === 0xf8 || (e.ins === 0x01 && e.p1 === 0x10)) && e.recorded.data.length === 4)
      out.serial ??= e.recorded.data.readUInt32BE(0);
  }
  return out;
}

const pad8 = (s: string) => {
  const b = Buffer.alloc(8, 0xff);
  b.write(s, "latin1");
  return b;
};

/** A fresh private key of a PIV algorithm in IMPORT KEY's TLVs (RSA 01-05, EC 06), or none. */
function freshKey(alg: number): Buffer | undefined {
  const b = (s: string | undefined) => Buffer.from(s ?? "", "base64url");
  const rsaBits: Record<number, number> = {
    [ALG.RSA1024]: 1024,
    [ALG.RSA2048]: 2048,
    [ALG.RSA3072]: 3072,
    [ALG.RSA4096]: 4096,
  };
  if (rsaBits[alg]) {
    const jwk = generateKeyPairSync("rsa", { modulusLength: rsaBits[alg] }).privateKey.export({ format: "jwk" });
    return Buffer.concat([
      tlv(0x01, b(jwk.p)),
      tlv(0x02, b(jwk.q)),
      tlv(0x03, b(jwk.dp)),
      tlv(0x04, b(jwk.dq)),
      tlv(0x05, b(jwk.qi)),
    ]);
  }
  const curve = alg === ALG.ECCP256 ? "prime256v1" : alg === ALG.ECCP384 ? "secp384r1" : undefined;
  if (!curve) return undefined;
  const ecdh = createECDH(curve);
  ecdh.generateKeys();
  return tlv(0x06, ecdh.getPrivateKey());
}

/** Plays the host's side against the virtual card: chaining, GET RESPONSE, the secrets it knows. */
class Player {
  private pin = "123456";
  private puk = "12345678";
  private mgm: { alg: number; key: Buffer };
  private pending?: { witness?: Buffer; challenge?: Buffer };
  private newKey?: { alg: number; key: Buffer };

  constructor(readonly card: VirtualYubiKey) {
    this.mgm = { alg: card.firmware.defaultManagementKeyAlgorithm, key: DEFAULT_MANAGEMENT_KEY };
  }

  private raw(apdu: Buffer): Answer {
    const r = this.card.transmit(apdu);
    return { data: r.subarray(0, -2), sw: r.readUInt16BE(r.length - 2) };
  }

  /** The trace's APDUs, or `data` chained in 255-byte pieces with the trace's Le; GET RESPONSE as the trace did. */
  send(x: Exchange, data: Buffer): Answer {
    const le = leOf(x.raw.at(-1)!);
    const pieces: Buffer[] = [];
    if (x.raw.length && data.equals(x.data)) pieces.push(...x.raw);
    else
      for (let off = 0; off < data.length || pieces.length === 0; off += 255) {
        const cla = off + 255 >= data.length ? x.cla : x.cla | 0x10;
        pieces.push(encodeCommand({ cla, ins: x.ins, p1: x.p1, p2: x.p2, data: data.subarray(off, off + 255), le }));
      }
    let r: Answer = { data: Buffer.alloc(0), sw: 0x9000 };
    for (const [i, apdu] of pieces.entries()) {
      r = this.raw(apdu);
      if (i < pieces.length - 1 && r.sw !== 0x9000) return r;
    }
    const parts = [r.data];
    while (x.followed && r.sw >> 8 === 0x61) {
      r = this.raw(encodeCommand({ ins: 0xc0, le: 0 }));
      parts.push(r.data);
    }
    return { data: Buffer.concat(parts), sw: r.sw };
  }

  /** The data to send in place of the trace's (redacted) data, or the trace's own. */
  private dataFor(x: Exchange): Buffer {
    const ok = x.recorded?.sw === 0x9000;
    const wrong = (v: string) => (v === "000000" ? "999999" : "000000").padEnd(v.length, "0");
    switch (x.ins) {
      case 0x20:
        return x.data.length === 0 ? x.data : pad8(ok ? this.pin : wrong(this.pin));
      case 0x24: {
        const current = x.p2 === 0x81 ? this.puk : this.pin;
        return Buffer.concat([pad8(ok ? current : wrong(current)), pad8(current)]);
      }
      case 0x2c:
        return Buffer.concat([pad8(ok ? this.puk : wrong(this.puk)), pad8(this.pin)]);
      case 0x87:
        return x.p2 === 0x9b ? this.managementAuth(x, ok) : x.data;
      case 0xff: {
        const alg = x.data[0] ?? ALG.TDES;
        const length = unwrap(x.data.subarray(1), 0x9b)?.length ?? 24;
        const key = Buffer.concat([DEFAULT_MANAGEMENT_KEY, DEFAULT_MANAGEMENT_KEY]).subarray(0, length);
        this.newKey = { alg, key }; // in use once the virtual card took it
        return Buffer.concat([Buffer.from([alg]), tlv(0x9b, key)]);
      }
      case 0xfe: {
        const fresh = freshKey(x.p1);
        if (!fresh) return x.data;
        let policies: Buffer[] = [];
        try {
          policies = parseAll(x.data)
            .filter((t) => t.tag === 0xaa || t.tag === 0xab)
            .map((t) => tlv(t.tag, t.value));
        } catch {
          /* no policies readable */
        }
        return Buffer.concat([fresh, ...policies]);
      }
      default:
        return x.data;
    }
  }

  private managementAuth(x: Exchange, ok: boolean): Buffer {
    let fields: Map<number, Buffer>;
    try {
      fields = parseMap(unwrap(x.data, 0x7c) ?? Buffer.alloc(0));
    } catch {
      return x.data;
    }
    const [witness, challenge, response] = [fields.get(0x80), fields.get(0x81), fields.get(0x82)];
    const pending = this.pending;
    this.pending = undefined;
    if (witness && witness.length && challenge && pending?.witness) {
      const w = ok ? ecb(this.mgm.alg, this.mgm.key, pending.witness, false) : Buffer.alloc(pending.witness.length);
      return tlv(0x7c, tlv(0x80, w), tlv(0x81, randomBytes(challenge.length)));
    }
    if (response && response.length && pending?.challenge) {
      const r = ok ? ecb(this.mgm.alg, this.mgm.key, pending.challenge, true) : Buffer.alloc(pending.challenge.length);
      return tlv(0x7c, tlv(0x82, r));
    }
    return x.data;
  }

  /** Mutual authentication with the management key the virtual card has now. */
  authenticate(): boolean {
    const x = (data: Buffer): Exchange => ({
      apdu: -1,
      cla: 0,
      ins: 0x87,
      p1: this.mgm.alg,
      p2: 0x9b,
      data,
      raw: [],
      followed: true,
    });
    const first = this.play(x(tlv(0x7c, tlv(0x80))));
    if (first.sw !== 0x9000) return false;
    const block = this.mgm.alg === ALG.TDES ? 8 : 16;
    const step = x(tlv(0x7c, tlv(0x80, Buffer.alloc(block)), tlv(0x81, Buffer.alloc(block))));
    return this.send(step, this.managementAuth(step, true)).sw === 0x9000;
  }

  play(x: Exchange): Answer {
    this.newKey = undefined;
    const answer = this.send(x, this.dataFor(x));
    if (this.newKey && answer.sw === 0x9000) this.mgm = this.newKey;
    if (x.ins === 0x87 && x.p2 === 0x9b && answer.sw === 0x9000) {
      try {
        const f = parseMap(unwrap(answer.data, 0x7c) ?? Buffer.alloc(0));
        if (f.get(0x80)?.length) this.pending = { witness: f.get(0x80) };
        else if (f.get(0x81)?.length) this.pending = { challenge: f.get(0x81) };
      } catch {
        /* not a handshake step */
      }
    }
    return answer;
  }
}

/**
 * The trace's card was not empty: objects it answered (53 TLVs read whole) and keys it used or
 * described (GENERAL AUTHENTICATE, GET METADATA) are put on the virtual card before the replay, with
 * the virtual card's management key, and the card is reset afterwards (no security state stays).
 */
function seed(player: Player, events: Event[]): ReplayResult["seeded"] {
  const objects = new Map<string, Buffer>();
  const keys = new Map<number, { alg: number; policy?: Buffer }>();
  for (const e of events) {
    if (e.kind !== "exchange" || e.recorded?.sw !== 0x9000) continue;
    if (e.ins === 0xcb && e.data[0] === 0x5c && e.data.length >= 3) {
      const id = e.data.subarray(2).toString("hex");
      const value = unwrap(e.recorded.data, 0x53);
      if (value && id !== "7e" && (objects.get(id)?.length ?? -1) < value.length) objects.set(id, value);
    } else if (e.ins === 0x87 && e.p2 !== 0x9b && !keys.has(e.p2)) {
      keys.set(e.p2, { alg: e.p1 });
    } else if (e.ins === 0xf7 && ![0x80, 0x81, 0x9b, 0xf9].includes(e.p2)) {
      try {
        const m = parseMap(e.recorded.data);
        const alg = m.get(0x01)?.[0];
        if (alg !== undefined) keys.set(e.p2, { alg, policy: m.get(0x02) });
      } catch {
        /* not metadata */
      }
    }
  }
  const done: ReplayResult["seeded"] = { objects: [], keys: [] };
  if (!objects.size && !keys.size) return done;
  const direct = (ins: number, p1: number, p2: number, data: Buffer) =>
    player.send({ apdu: -1, cla: 0, ins, p1, p2, data, raw: [], followed: true }, data);
  if (!player.authenticate()) return done;
  for (const [slot, k] of keys) {
    const policy = k.policy?.length === 2 ? [tlv(0xaa, k.policy.subarray(0, 1)), tlv(0xab, k.policy.subarray(1))] : [];
    if (direct(0x47, 0, slot, tlv(0xac, tlv(0x80, Buffer.from([k.alg])), ...policy)).sw === 0x9000)
      done.keys.push(slot.toString(16));
  }
  for (const [id, value] of objects) {
    if (direct(0xdb, 0x3f, 0xff, Buffer.concat([tlv(0x5c, Buffer.from(id, "hex")), tlv(0x53, value)])).sw === 0x9000)
      done.objects.push(id.toUpperCase());
  }
  player.card.reset();
  return done;
}

/** Answers whose bytes must match too, not only their shape: they carry no randomness or state. */
function deterministic(x: Exchange): boolean {
  return (
    x.ins === 0xa4 ||
    x.ins === 0xfd ||
    x.ins === 0xf8 ||
    (x.ins === 0xcb && x.data.equals(Buffer.from("5c017e", "hex")))
  );
}

/** Replays `trace` (pcsc-spy's stream or a file it wrote) against a fresh virtual card. */
export function replay(
  trace: string,
  options: { firmware?: string; serial?: number; seed?: boolean } = {},
): ReplayResult {
  const events = exchanges(trace);
  const found = identify(events);
  const firmware = options.firmware ?? found.firmware;
  if (!firmware)
    throw new Error("the trace does not say the firmware (no GET VERSION answer in it); give one with --firmware");
  const profile = firmwareProfile(firmware);
  const serial = options.serial ?? found.serial ?? 12345678;
  const card = new VirtualYubiKey({ firmware: profile, serial });
  const player = new Player(card);
  const seeded = options.seed === false ? { objects: [], keys: [] } : seed(player, events);
  const differences: Difference[] = [];
  let count = 0;
  for (const e of events) {
    if (e.kind === "reset") {
      card.reset();
      continue;
    }
    count++;
    const replayed = player.play(e);
    const recorded = e.recorded;
    if (!recorded) continue;
    const rec = { sw: swText(recorded), shape: shape(recorded.data) };
    const rep = { sw: swText(replayed), shape: shape(replayed.data) };
    const what =
      rec.sw !== rep.sw
        ? "status word"
        : rec.shape !== rep.shape
          ? "shape"
          : deterministic(e) && !recorded.data.equals(replayed.data)
            ? "value"
            : undefined;
    if (what === "value") {
      rec.shape = recorded.data.subarray(0, 32).toString("hex");
      rep.shape = replayed.data.subarray(0, 32).toString("hex");
    }
    if (what)
      differences.push({
        apdu: e.apdu,
        command: [e.cla, e.ins, e.p1, e.p2].map(hex2).join(" "),
        name: NAMES[e.ins] ?? `INS ${hex2(e.ins)}`,
        what,
        recorded: rec,
        replayed: rep,
      });
  }
  return {
    firmware: versionString(profile),
    serial,
    seeded,
    apdus: readTrace(trace).filter((t) => t.kind === "transmit").length,
    exchanges: count,
    differences,
  };
}

/** The differences as lines for a terminal. */
export function formatReplay(r: ReplayResult): string {
  const head = `replayed ${r.exchanges} commands (${r.apdus} APDUs) against a virtual YubiKey ${r.firmware}: ${
    r.differences.length ? `${r.differences.length} differ` : "no differences"
  }`;
  const lines = r.differences.map(
    (d) =>
      `  APDU ${d.apdu}: ${d.command} ${d.name}: ${d.what}: recorded ${d.recorded.sw} ${d.recorded.shape}, virtual card ${d.replayed.sw} ${d.replayed.shape}`,
  );
  const seeded = [...r.seeded.keys.map((k) => `key ${k}`), ...r.seeded.objects.map((o) => `object ${o}`)];
  const given = seeded.length
    ? [`  (the virtual card was first given what the trace's card held: ${seeded.join(", ")})`]
    : [];
  return [head, ...given, ...lines].join("\n") + "\n";
}
