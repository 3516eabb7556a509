// A minimal PIV host for tests: sends APDUs to a VirtualYubiKey (no PC/SC), follows 61xx with GET
// RESPONSE, chains long commands, and does the management key handshake the way hosts do.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { VirtualYubiKey } from "../../src/virtual-yubikey/card.js";
import { firmwareProfile, ALG } from "../../src/virtual-yubikey/firmware.js";
import { DEFAULT_MANAGEMENT_KEY } from "../../src/virtual-yubikey/piv.js";
import { encodeCommand } from "../../src/virtual-yubikey/apdu.js";
import { parseMap, tlv, unwrap } from "../../src/codec/tlv.js";

export interface Answer {
  data: Buffer;
  sw: number;
}

export function newCard(firmware = "5.4.3", serial = 12345678): VirtualYubiKey {
  return new VirtualYubiKey({ firmware: firmwareProfile(firmware), serial });
}

export class Host {
  apdus = 0;
  constructor(readonly card: VirtualYubiKey) {}

  raw(apdu: Buffer): Answer {
    this.apdus++;
    const r = this.card.transmit(apdu);
    return { data: r.subarray(0, r.length - 2), sw: r.readUInt16BE(r.length - 2) };
  }

  /** One logical command: chained in 255-byte pieces, the answer collected through GET RESPONSE. */
  send(ins: number, p1 = 0, p2 = 0, data: Buffer = Buffer.alloc(0), cla = 0): Answer {
    let r: Answer | undefined;
    for (let off = 0; off < data.length || r === undefined; off += 255) {
      const last = off + 255 >= data.length;
      r = this.raw(encodeCommand({ cla: last ? cla : cla | 0x10, ins, p1, p2, data: data.subarray(off, off + 255) }));
      if (!last && r.sw !== 0x9000) return r;
    }
    const parts = [r.data];
    while (r.sw >> 8 === 0x61) {
      r = this.raw(encodeCommand({ ins: 0xc0, le: 0 }));
      parts.push(r.data);
    }
    return { data: Buffer.concat(parts), sw: r.sw };
  }

  ok(ins: number, p1 = 0, p2 = 0, data: Buffer = Buffer.alloc(0)): Buffer {
    const r = this.send(ins, p1, p2, data);
    if (r.sw !== 0x9000) throw new Error(`INS ${ins.toString(16)} answered ${r.sw.toString(16)}`);
    return r.data;
  }

  selectPiv(): Answer {
    return this.send(0xa4, 0x04, 0x00, Buffer.from("a000000308", "hex"));
  }

  verify(pin: string): Answer {
    return this.send(0x20, 0x00, 0x80, pad8(pin));
  }

  /** Mutual authentication with the management key (80 witness, 81 challenge, 82 response). */
  authenticate(key: Buffer = DEFAULT_MANAGEMENT_KEY, algorithm: number = ALG.TDES): Answer {
    const cipher = algorithm === ALG.TDES ? "des-ede3" : `aes-${key.length * 8}-ecb`;
    const block = algorithm === ALG.TDES ? 8 : 16;
    const ecb = (data: Buffer, encrypt: boolean) => {
      const c = encrypt ? createCipheriv(cipher, key, null) : createDecipheriv(cipher, key, null);
      c.setAutoPadding(false);
      return Buffer.concat([c.update(data), c.final()]);
    };
    const first = this.send(0x87, algorithm, 0x9b, tlv(0x7c, tlv(0x80)));
    if (first.sw !== 0x9000) return first;
    const encrypted = parseMap(unwrap(first.data, 0x7c)!).get(0x80)!;
    const witness = ecb(encrypted, false);
    const challenge = randomBytes(block);
    const second = this.send(0x87, algorithm, 0x9b, tlv(0x7c, tlv(0x80, witness), tlv(0x81, challenge)));
    if (second.sw !== 0x9000) return second;
    const response = parseMap(unwrap(second.data, 0x7c)!).get(0x82)!;
    if (!response.equals(ecb(challenge, true))) throw new Error("the card's response to our challenge is wrong");
    return second;
  }

  /** GENERAL AUTHENTICATE with a key slot: 81 (sign/decrypt) or 85 (ECDH); returns what is in 82. */
  generalAuthenticate(algorithm: number, slot: number, input: Buffer, tag = 0x81): Answer {
    const r = this.send(0x87, algorithm, slot, tlv(0x7c, tlv(0x82), tlv(tag, input)));
    if (r.sw !== 0x9000) return r;
    return { data: parseMap(unwrap(r.data, 0x7c)!).get(0x82)!, sw: r.sw };
  }

  generate(slot: number, algorithm: number, extra: Buffer = Buffer.alloc(0)): Answer {
    const r = this.send(0x47, 0x00, slot, tlv(0xac, tlv(0x80, Buffer.from([algorithm])), extra));
    if (r.sw !== 0x9000) return r;
    return { data: unwrap(r.data, 0x7f49)!, sw: r.sw };
  }

  getData(id: number): Answer {
    const idBytes = id > 0xffff ? Buffer.from([id >> 16, (id >> 8) & 0xff, id & 0xff]) : Buffer.from([id]);
    return this.send(0xcb, 0x3f, 0xff, tlv(0x5c, idBytes));
  }

  putData(id: number, value: Buffer): Answer {
    return this.send(
      0xdb,
      0x3f,
      0xff,
      Buffer.concat([tlv(0x5c, Buffer.from([id >> 16, (id >> 8) & 0xff, id & 0xff])), tlv(0x53, value)]),
    );
  }
}

export function pad8(pin: string): Buffer {
  const b = Buffer.alloc(8, 0xff);
  b.write(pin, "latin1");
  return b;
}
