// pcsc-spy traces: redaction of what a PIV session must not leave on disk, and the replay against
// the virtual card, on a trace captured with pcsc-spy from OpenSC against the virtual card.
import { describe, it, expect } from "@jest/globals";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TraceRedactor, readTrace, redactAnswer, redactCommand } from "../../src/virtual-yubikey/trace.js";
import { replay } from "../../src/virtual-yubikey/replay.js";

const FIXTURE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "../fixtures/virtual-yubikey/opensc-5.4.3.trace",
);
const trace = readFileSync(FIXTURE, "utf8");
const h = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("the OpenSC fixture (pkcs11-tool: wrong PIN, right PIN, ECDSA signature, random bytes; opensc-tool)", () => {
  it("was redacted when written: no VERIFY carries a PIN, no management key challenge carries its value", () => {
    const transmits = readTrace(trace).flatMap((e) => (e.kind === "transmit" ? [e] : []));
    const verifies = transmits.filter((t) => t.command[1] === 0x20 && t.command.length > 5);
    expect(verifies.length).toBe(2);
    for (const v of verifies) expect(v.command.subarray(5).equals(Buffer.alloc(8))).toBe(true);
    expect(verifies.map((v) => v.response?.toString("hex"))).toEqual(["63c2", "9000"]);
    const challenges = transmits.filter((t) => t.command[1] === 0x87 && t.command[3] === 0x9b);
    expect(challenges.length).toBeGreaterThan(0);
    for (const c of challenges) expect(c.response?.toString("hex")).toBe("7c0a81080000000000000000" + "9000");
  });

  it("replays against the virtual 5.4.3 card without a difference, given the key and certificates the trace read", () => {
    const r = replay(trace);
    expect(r.firmware).toBe("5.4.3");
    expect(r.serial).toBe(13131313);
    expect(r.apdus).toBe(100);
    expect(r.seeded).toEqual({ keys: ["9a"], objects: ["5FC102", "5FC105"] });
    expect(r.differences).toEqual([]);
  });

  it("lists what differs: another firmware's version, a status word changed in the trace", () => {
    const other = replay(trace, { firmware: "5.2.7" });
    expect(
      new Set(other.differences.map((d) => `${d.name} ${d.what} ${d.recorded.shape}>${d.replayed.shape}`)),
    ).toEqual(new Set(["GET VERSION value 050403>050207"]));
    // The random-bytes challenge answered 6A86 (as the card did before it knew OpenSC's request)
    const tampered = trace.replace(
      /(@00 87 00 9B [^\n]*\n(?:[^\n]*\n){3}[^\n]*@)7C 0A 81 08 (?:00 ){8}90 00 /,
      "$16A 86 ",
    );
    expect(tampered).not.toBe(trace);
    const diff = replay(tampered).differences;
    expect(diff).toEqual([
      expect.objectContaining({
        name: "GENERAL AUTHENTICATE",
        what: "status word",
        recorded: { sw: "6A86", shape: "-" },
      }),
    ]);
    expect(diff[0]!.replayed.sw).toBe("9000");
  });
});

describe("the piv-tool fixture (OpenSC's piv-tool on 5.2.7: two 3DES mutual authentications and key generations, one wrong key)", () => {
  const pivTool = readFileSync(path.join(path.dirname(FIXTURE), "piv-tool-5.2.7.trace"), "utf8");

  it("plays the redacted handshakes with the virtual card's key and replays without a difference", () => {
    const r = replay(pivTool);
    expect(r.firmware).toBe("5.2.7");
    expect(r.serial).toBe(24242424);
    expect(r.seeded).toEqual({ keys: [], objects: [] });
    expect(r.differences).toEqual([]);
  });

  it("shows on 5.7.1 what its AES-192 factory key does to a 3DES client: 6A86, then no key generation", () => {
    const by = new Map<string, number>();
    for (const d of replay(pivTool, { firmware: "5.7.1" }).differences) {
      const k = `${d.name} ${d.recorded.sw}>${d.replayed.sw}`;
      by.set(k, (by.get(k) ?? 0) + 1);
    }
    expect(Object.fromEntries(by)).toEqual({
      "GET VERSION 9000>9000": 5,
      "GENERAL AUTHENTICATE 9000>6A86": 5, // the wrong key's witness request too
      "GENERAL AUTHENTICATE 6982>6A86": 1,
      "GENERATE ASYMMETRIC KEY PAIR 9000>6982": 2,
    });
  });
});

describe("redaction", () => {
  const state = {};
  it("zeroes PINs, PUKs and management keys but keeps lengths, the algorithm and the status words", () => {
    expect(redactCommand(h("00 20 00 80 08 31 32 33 34 35 36 FF FF"), {}).command).toEqual(
      h("00 20 00 80 08 0000000000000000"),
    );
    expect(redactCommand(h("00 24 00 81 10" + "31".repeat(16)), {}).command).toEqual(
      h("00 24 00 81 10" + "00".repeat(16)),
    );
    const setKey = redactCommand(h("00 FF FF FF 1B 03 9B 18" + "AB".repeat(24)), {}).command;
    expect(setKey).toEqual(h("00 FF FF FF 1B 03 9B 18" + "00".repeat(24)));
    const auth = redactCommand(h("00 87 03 9B 16 7C 14 80 08 1111111111111111 81 08 2222222222222222"), state);
    expect(auth).toEqual({
      command: h("00 87 03 9B 16 7C 14 80 08 0000000000000000 81 08 0000000000000000"),
      secretAnswer: true,
    });
    expect(redactAnswer(h("7C 0A 82 08 3333333333333333 90 00"))).toEqual(h("7C 0A 82 08 0000000000000000 90 00"));
    expect(redactCommand(h("00 C0 00 00 00"), state).secretAnswer).toBe(true); // the rest of a secret answer
  });

  it("zeroes an imported key but not its PIN and touch policies, and the PIN-protected management key object", () => {
    const imported = redactCommand(h("00 FE 11 9A 28 06 20" + "5A".repeat(32) + "AA 01 03 AB 01 02"), {}).command;
    expect(imported).toEqual(h("00 FE 11 9A 28 06 20" + "00".repeat(32) + "AA 01 03 AB 01 02"));
    const put = redactCommand(h("00 DB 3F FF 0D 5C 03 5F C1 09 53 06 88 04 0102 0304"), {}).command;
    expect(put).toEqual(h("00 DB 3F FF 0D 5C 03 5F C1 09 53 06 0000 0000 0000")); // 53 is primitive: all of it
    expect(redactCommand(h("00 CB 3F FF 05 5C 03 5F C1 09"), {}).secretAnswer).toBe(true);
    expect(redactCommand(h("00 CB 3F FF 05 5C 03 5F C1 05"), {}).secretAnswer).toBe(false);
  });

  it("rewrites only the buffers of a spy stream", () => {
    const r = new TraceRedactor();
    const lines = [
      "7F@>|1|2|SCardTransmit",
      "7F@0x0001",
      "7F@0x00000002",
      "7F@0x00000010",
      "7F@0x0000000D",
      "7F@00 20 00 80 08 31 32 33 34 35 36 FF FF ",
      "7F@0x00000001",
      "7F@0x00000010",
      "7F@0x00000002",
      "7F@90 00 ",
      "7F@<|1|3|SCardTransmit|Command successful.|0x00000000",
    ];
    const out = lines.map((l) => r.line(l));
    expect(out[5]).toBe("7F@00 20 00 80 08 00 00 00 00 00 00 00 00 ");
    expect(out.filter((l, i) => l !== lines[i])).toHaveLength(1);
    expect(r.redactions).toBe(1);
  });
});
