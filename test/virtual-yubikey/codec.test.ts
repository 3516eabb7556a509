// The byte-level codecs of the virtual YubiKey: BER-TLV, command APDUs, vpcd framing.
import { describe, it, expect } from "@jest/globals";
import { parseAll, parseMap, readOne, tlv, unwrap, TlvError } from "../../src/codec/tlv.js";
import { ApduError, encodeCommand, parseCommand } from "../../src/virtual-yubikey/apdu.js";
import { Deframer, frame, handleMessage } from "../../src/virtual-yubikey/vpcd.js";
import { BlankCard } from "../../src/virtual-yubikey/card.js";
import { newCard } from "./host.js";

describe("BER-TLV", () => {
  it("encodes one-, two- and three-byte tags and lengths up to three bytes", () => {
    expect(tlv(0x7c, Buffer.from([1, 2]))).toEqual(Buffer.from("7c020102", "hex"));
    expect(tlv(0x7f49, Buffer.alloc(0))).toEqual(Buffer.from("7f4900", "hex"));
    expect(tlv(0x5fc105, Buffer.alloc(0))).toEqual(Buffer.from("5fc10500", "hex"));
    expect(tlv(0x53, Buffer.alloc(200)).subarray(0, 3)).toEqual(Buffer.from("5381c8", "hex"));
    expect(tlv(0x53, Buffer.alloc(700)).subarray(0, 4)).toEqual(Buffer.from("538202bc", "hex"));
  });

  it("reads back what it writes, multi-byte tags included", () => {
    const buf = Buffer.concat([
      tlv(0x7f49, tlv(0x81, Buffer.alloc(256, 1)), tlv(0x82, Buffer.from([1, 0, 1]))),
      tlv(0x5c, Buffer.from("5fc105", "hex")),
    ]);
    const [outer, id] = parseAll(buf);
    expect(outer!.tag).toBe(0x7f49);
    const inner = parseMap(outer!.value);
    expect(inner.get(0x81)!.length).toBe(256);
    expect(inner.get(0x82)).toEqual(Buffer.from([1, 0, 1]));
    expect(id).toEqual({ tag: 0x5c, value: Buffer.from("5fc105", "hex") });
  });

  it("rejects truncated input and unwraps only a whole single TLV", () => {
    expect(() => readOne(Buffer.from("7c050102", "hex"))).toThrow(TlvError);
    expect(() => readOne(Buffer.from("7f", "hex"))).toThrow(TlvError);
    expect(unwrap(Buffer.from("7c020102", "hex"), 0x7c)).toEqual(Buffer.from([1, 2]));
    expect(unwrap(Buffer.from("7c02010200", "hex"), 0x7c)).toBeUndefined();
    expect(unwrap(Buffer.from("7d020102", "hex"), 0x7c)).toBeUndefined();
  });
});

describe("command APDUs", () => {
  it("parses libykpiv's zero-Lc APDUs as having no data", () => {
    const c = parseCommand(Buffer.from("00fd000000", "hex"));
    expect(c).toMatchObject({ ins: 0xfd, data: Buffer.alloc(0), le: 0, extended: false });
  });

  it("parses case 3 and 4 short APDUs and tolerates a missing Le", () => {
    expect(parseCommand(Buffer.from("0020008008313233343536ffff", "hex"))).toMatchObject({
      ins: 0x20,
      p2: 0x80,
      le: undefined,
    });
    expect(parseCommand(Buffer.from("00cb3fff055c035fc10b08", "hex"))).toMatchObject({ ins: 0xcb, le: 8 });
  });

  it("parses extended APDUs", () => {
    const data = Buffer.alloc(300, 7);
    const c = parseCommand(encodeCommand({ ins: 0xdb, p1: 0x3f, p2: 0xff, data, le: 0 }));
    expect(c.extended).toBe(true);
    expect(c.data).toEqual(data);
    expect(c.le).toBe(0);
  });

  it("answers a too-short APDU with 6700", () => {
    expect(() => parseCommand(Buffer.from("00a4", "hex"))).toThrow(ApduError);
    expect(() => parseCommand(Buffer.from("00a4040005a000", "hex"))).toThrow(ApduError);
  });
});

describe("vpcd framing", () => {
  it("splits a stream into messages however it arrives", () => {
    const d = new Deframer();
    const stream = Buffer.concat([frame(Buffer.from([0x04])), frame(Buffer.from("00a4040005a000000308", "hex"))]);
    const got = [...d.push(stream.subarray(0, 1)), ...d.push(stream.subarray(1, 5)), ...d.push(stream.subarray(5))];
    expect(got).toEqual([Buffer.from([0x04]), Buffer.from("00a4040005a000000308", "hex")]);
  });

  it("answers the ATR request, powers without answering, and forwards APDUs", () => {
    const card = newCard("5.4.3");
    expect(handleMessage(card, Buffer.from([0x04]))).toEqual(card.atr);
    expect(handleMessage(card, Buffer.from([0x01]))).toBeUndefined();
    expect(handleMessage(card, Buffer.from([0x00]))).toBeUndefined();
    expect(handleMessage(card, Buffer.from("00fd000000", "hex"))).toEqual(Buffer.from("0504039000", "hex"));
  });

  it("serves a blank card that has no application", () => {
    const blank = new BlankCard();
    expect(blank.atr.length).toBeGreaterThan(1);
    expect(handleMessage(blank, Buffer.from("00a4040005a000000308", "hex"))).toEqual(Buffer.from("6a82", "hex"));
  });
});
