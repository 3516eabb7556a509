import { describe, it, expect } from "@jest/globals";
import {
  DerError,
  TAG,
  decodeOid,
  encodeLength,
  encodeOid,
  encodeUnsigned,
  readChildren,
  readTlv,
  readWhole,
  tlv,
} from "../../src/codec/der.js";

const hex = (b: Buffer) => b.toString("hex");

describe("der", () => {
  it("encodes lengths in short and long form", () => {
    expect(hex(encodeLength(0))).toBe("00");
    expect(hex(encodeLength(0x7f))).toBe("7f");
    expect(hex(encodeLength(0x80))).toBe("8180");
    expect(hex(encodeLength(0x85))).toBe("8185");
    expect(hex(encodeLength(0x1234))).toBe("821234");
  });

  it("encodes and decodes OIDs", () => {
    expect(hex(encodeOid("1.2.840.10045.3.1.7"))).toBe("06082a8648ce3d030107");
    expect(hex(encodeOid("1.3.101.112"))).toBe("06032b6570");
    expect(hex(encodeOid("2.16.840.1.101.3.4.2.1"))).toBe("0609608648016503040201");
    for (const oid of ["1.2.840.10045.3.1.7", "1.3.132.0.35", "1.3.6.1.4.1.11591.15.1", "2.999.3"]) {
      expect(decodeOid(readWhole(encodeOid(oid)).content)).toBe(oid);
    }
  });

  it("rejects malformed OIDs", () => {
    expect(() => decodeOid(Buffer.alloc(0))).toThrow(DerError);
    expect(() => decodeOid(Buffer.from("2b86", "hex"))).toThrow(/ends inside an arc/);
    expect(() => decodeOid(Buffer.from("2b8001", "hex"))).toThrow(/minimally/);
  });

  it("reads elements and refuses truncation, trailing bytes and non-minimal lengths", () => {
    const el = readTlv(Buffer.from("0403aabbcc", "hex"));
    expect(el).toMatchObject({ tag: 4, end: 5 });
    expect(hex(el.content)).toBe("aabbcc");
    expect(() => readWhole(Buffer.from("0403aabb", "hex"))).toThrow(/only 2 follow/);
    expect(() => readWhole(Buffer.from("0401aabb", "hex"))).toThrow(/after the end/);
    expect(() => readWhole(Buffer.from("048103aabbcc", "hex"))).toThrow(/minimally/);
    expect(() => readWhole(Buffer.from("0480", "hex"))).toThrow(/indefinite/);
  });

  it("writes nested elements that read back", () => {
    const seq = tlv(
      TAG.SEQUENCE,
      encodeUnsigned(0x80),
      encodeUnsigned(Buffer.from("0001", "hex")),
      tlv(TAG.OCTET_STRING, Buffer.alloc(200, 7)),
    );
    const kids = readChildren(readWhole(seq).content);
    expect(kids.map((k) => k.tag)).toEqual([TAG.INTEGER, TAG.INTEGER, TAG.OCTET_STRING]);
    expect(hex(kids[0]!.content)).toBe("0080"); // sign byte added
    expect(hex(kids[1]!.content)).toBe("01"); // leading zeros stripped
    expect(kids[2]!.content.length).toBe(200);
  });
});
