// The YubiKey safety rules on data: slot names, metadata parsing, which slots a run may write, the
// notes after a run, the --plan key order, and diagnosis leaving a slot-picking CKA_ID alone. The same
// rules on a (virtual) card through ykcs11: test/integration/yubikey-safety.test.ts.
import { describe, expect, it } from "@jest/globals";
import {
  checkBeforeLogin,
  factoryDefaults,
  formatListing,
  leftoverNotes,
  parseApduOutput,
  parseMetadata,
  selectYubikey,
  slotPolicy,
  yubikeysIn,
  type Metadata,
} from "../../src/device/yubikey.js";
import { parseSlots } from "../../src/device/piv.js";
import { formatPlan, planKeys } from "../../src/plan/keys.js";
import { diagnose } from "../../src/diagnose/diagnose.js";
import { Pkcs11CallError, type TemplateCall } from "../../src/pkcs11/errors.js";
import type { TokenListing } from "../../src/pkcs11/token.js";
import type { PlannedCase, Step } from "../../src/suite/model.js";

const RETIRED = Array.from({ length: 20 }, (_, i) => (5 + i).toString(16).padStart(2, "0"));

/** A YubiKey as ykcs11 lists it: objects per CKA_ID (class 1 certificate, 2 public key, 3 private key). */
function token(
  serial: string,
  objects: TokenListing["objects"] = [],
  firmware = { major: 5, minor: 43 },
  flags = 0x40d,
): TokenListing {
  return {
    slot: "00",
    label: `YubiKey PIV #${serial}`,
    manufacturer: "Yubico (www.yubico.com)",
    model: "YubiKey YK5",
    serial,
    firmware,
    flags,
    objects,
  };
}
const key = (id: string) => [
  { class: 2, id, label: `Public key for ${id}` },
  { class: 3, id, label: `Private key for ${id}` },
];
const cert = (id: string) => ({ class: 1, id, label: `X.509 Certificate for ${id}` });
const attestation = { class: 1, id: "19", label: "X.509 Certificate for PIV Attestation" };

describe("YubiKey slots", () => {
  it("names slots as Yubico does, and refuses f9 and unknown names", () => {
    expect(parseSlots("9a,82, 0x95 9C")).toEqual(["01", "05", "18", "02"]);
    expect(() => parseSlots("f9")).toThrow(/attestation key/);
    expect(() => parseSlots("96")).toThrow(/not a YubiKey PIV key slot/);
    expect(() => parseSlots(",")).toThrow(/needs slot names/);
  });

  it("reads ykman's apdu output and PIV metadata (PIN default and tries, management key touch, a slot's key)", () => {
    const out = [
      "SELECT AID: A0 00 00 03 08",
      "RECV (SW=9000):",
      "61114F0600001000010079074F05A000000308",
      "",
      "SEND: 00 F7 00 80",
      "RECV (SW=9000):",
      "05010106020301",
      "",
      "SEND: 00 F7 00 9B",
      "RECV (SW=9000):",
      "01010302020102050100",
      "",
      "SEND: 00 F7 00 84",
      "RECV (SW=6A88)",
      "",
    ].join("\n");
    const answers = parseApduOutput(out);
    expect(answers.get("00 F7 00 84")).toEqual({ sw: "6A88", data: Buffer.alloc(0) });
    expect(parseMetadata(answers.get("00 F7 00 80")!.data)).toEqual({
      isDefault: true,
      retries: { total: 3, remaining: 1 },
    });
    expect(parseMetadata(answers.get("00 F7 00 9B")!.data)).toEqual({
      algorithm: 3,
      pinPolicy: 1,
      touchPolicy: 2,
      isDefault: false,
    });
  });

  it("sees a slot as occupied by a key, a certificate or an attestation, and before 5.3 an empty-looking slot as unknown", () => {
    const [k] = yubikeysIn([
      token("1", [
        ...key("05"),
        cert("06"),
        { class: 1, id: "07", label: "X.509 Certificate for PIV Attestation 84" },
        attestation,
      ]),
    ]);
    const state = (id: string) => k!.slots.find((s) => s.id === id)!.state;
    expect([state("05"), state("06"), state("07"), state("08"), state("01"), state("19")]).toEqual([
      "occupied",
      "occupied",
      "occupied",
      "empty",
      "empty",
      "occupied",
    ]);
    expect(k!.firmware).toBe("5.4.3");
    const [old] = yubikeysIn([token("2", [], { major: 5, minor: 27 })]);
    expect(old!.slots.find((s) => s.id === "05")!.state).toBe("unknown");
  });

  it("writes only empty retired slots; 9a-9e, occupied and unknown slots only with --allow-overwrite and the serial", () => {
    const [k] = yubikeysIn([token("123", [...key("05"), cert("06")])]);
    const p = slotPolicy(k!, ["01", "05", "06", "07", "08", "19"], [], undefined);
    expect(p.writable).toEqual(["07", "08"]);
    expect(p.refused.map((r) => r.id)).toEqual(["01", "05", "06", "19"]);
    expect(p.occupied).toEqual(["05", "06", "19"]);
    expect(p.protect).toEqual(["01", "02", "03", "04", "19"]);
    expect(p.overwrite).toEqual([]);

    expect(() => slotPolicy(k!, RETIRED, ["05"], undefined)).toThrow(/--serial 123/);
    expect(() => slotPolicy(k!, RETIRED, ["05"], "999")).toThrow(/confirm which YubiKey/);
    const allowed = slotPolicy(k!, RETIRED, ["05", "01"], "123");
    expect(allowed.writable.slice(0, 2)).toEqual(["07", "08"]); // empty slots first
    expect(allowed.writable.slice(-2)).toEqual(["05", "01"]);
    expect(allowed.serial).toBe("123");

    const [old] = yubikeysIn([token("9", [], { major: 4, minor: 37 })]);
    expect(slotPolicy(old!, RETIRED, [], undefined).writable).toEqual([]);
    expect(() => slotPolicy(k!, ["20"], [], undefined)).toThrow(/not a YubiKey PIV key slot/);
  });

  it("selects by serial and never guesses among several YubiKeys", () => {
    const keys = yubikeysIn([token("111"), token("222")]);
    expect(() => selectYubikey(keys, {}, "ykcs11")).toThrow(/2 YubiKeys are present[\s\S]*111[\s\S]*222/);
    expect(selectYubikey(keys, { flag: "222" }, "ykcs11").serial).toBe("222");
    expect(selectYubikey(keys, { profile: "111" }, "ykcs11").serial).toBe("111");
    expect(() => selectYubikey(keys, { flag: "333" }, "ykcs11")).toThrow(/no YubiKey with serial 333/);
    expect(() => selectYubikey(keys, { flag: "111", profile: "222" }, "ykcs11")).toThrow(/does not match/);
    expect(() => selectYubikey([], {}, "ykcs11")).toThrow(/no YubiKey found/);
    expect(selectYubikey(yubikeysIn([token("5")]), {}, "ykcs11").serial).toBe("5");
  });

  it("uses factory values only when the metadata confirms them, refuses the last PIN try, and never shows a secret", () => {
    const meta = (pinDefault: boolean, remaining: number): Metadata => ({
      version: "5.4.3",
      pin: { isDefault: pinDefault, retries: { total: 3, remaining } },
      managementKey: { algorithm: 3, isDefault: false, touchPolicy: 1 },
      slots: new Map(),
    });
    const [fresh] = yubikeysIn([token("1")], new Map([["1", meta(true, 3)]]));
    const d = factoryDefaults(fresh!);
    expect(d.user).toBe("123456");
    expect(d.so).toBeUndefined();
    expect(d.unconfirmed?.so).toMatch(/not the factory default/);
    const [none] = yubikeysIn([token("1")]);
    expect(factoryDefaults(none!)).toMatchObject({ user: undefined, so: undefined });

    const [last] = yubikeysIn([token("1")], new Map([["1", meta(false, 1)]]));
    expect(() => checkBeforeLogin(last!, {})).toThrow(/one try left/);
    const [flagged] = yubikeysIn([token("1", [], undefined, 0x40d | 0x20000)]);
    expect(() => checkBeforeLogin(flagged!, {})).toThrow(/one try left/);
    expect(() => checkBeforeLogin(fresh!, { user: "12345" })).toThrow(/6 to 8/);
    expect(() => checkBeforeLogin(fresh!, { so: "0102" })).toThrow(/hex digits/);
    const listing = formatListing([fresh!], fresh, slotPolicy(fresh!, RETIRED, [], undefined));
    expect(listing).toContain("factory default");
    expect(listing).not.toContain("123456");
    expect(listing).not.toMatch(/0102030405060708/);
  });

  it("reports the slots that still hold a key the run made, what --allow-overwrite replaced, and any other change", () => {
    const [before] = yubikeysIn([token("7", [...key("06"), cert("06")])]);
    const [after] = yubikeysIn([token("7", [...key("05"), ...key("06"), cert("07")])]);
    const policy = slotPolicy(before!, RETIRED, ["06"], "7");
    const notes = leftoverNotes(before!, after, ["05", "06"], policy);
    expect(notes.find((n) => n.includes("still hold a key"))).toMatch(
      /slots 82, 83 still hold a key this run made \(CKA_ID 05, 06\).*ykman piv reset/,
    );
    expect(notes.find((n) => n.startsWith("slot 83 held"))).toMatch(/--allow-overwrite let the run replace it/);
    expect(notes.find((n) => n.startsWith("slot 84 changed"))).toMatch(/although p11compat did not write it/);
    const [five7] = yubikeysIn([token("7", key("05"), { major: 5, minor: 71 })]);
    expect(leftoverNotes(before!, five7, ["05"], policy).join()).toContain("ykman piv keys delete 82");
  });
});

describe("--plan", () => {
  const c = (id: string, steps: Step[]): PlannedCase => ({
    id,
    suite: "s",
    group: id,
    title: id,
    params: {},
    keys: { a: { type: "EC", curve: "P-256" }, b: { type: "RSA", bits: 2048 } },
    steps,
    pos: { file: "s.yaml", line: 1, col: 1 },
  });
  const k = (spec: string, extra: Partial<Extract<Step, { op: "key" }>> = {}): Step => ({
    op: "key",
    spec,
    source: "generate",
    ...extra,
  });

  it("makes each key once, in the order cases need it; fresh keys anew; after a logout again, in the slots freed", () => {
    const plan = planKeys(
      [
        c("one", [k("a")]),
        c("two", [k("a"), k("b")]),
        c("three", [k("a", { fresh: true })]),
        c("out", [{ op: "logout" }]),
        c("four", [k("b")]),
      ],
      ["05", "06", "07"],
    );
    expect(plan.keys.map((x) => [x.name, x.id, x.cases])).toEqual([
      ["a", "05", ["one", "two"]],
      ["b", "06", ["two"]],
      ["a", "07", ["three"]],
      ["b", "05", ["four"]],
    ]);
    const full = planKeys([c("one", [k("a")]), c("two", [k("b")])], ["05"]);
    expect(full.unplaced.map((x) => x.name)).toEqual(["b"]);
    const text = formatPlan(full, { title: "t", slotName: (id) => ({ "05": "82" })[id] ?? id }, ["05"]);
    expect(text).toContain("1. a (P-256), generated on the token -> slot 82 (CKA_ID 05)");
    expect(text).toContain("2. b (RSA 2048), generated on the token -> no slot left: its cases would be skipped");
    expect(text).toContain("Slots the run would write: slot 82 (CKA_ID 05)");
  });

  it("works for any token: without keys.ids it lists the keys and the objects create steps make", () => {
    const plan = planKeys([
      c("one", [k("a"), { op: "create", as: "d", template: {} }]),
      c("two", [k("a", { source: "import" })]),
    ]);
    const text = formatPlan(plan, { title: "plan" });
    expect(text).toMatch(/1\. a \(P-256\), generated on the token\n\s+made by one\n/);
    expect(text).toMatch(/2\. a \(P-256\), imported from node:crypto/);
    expect(text).toContain("Objects made by create/copy steps: 1 in 1 case(s)");
    expect(text).not.toContain("Slots");
  });
});

describe("diagnosis on a token whose CKA_ID picks the slot", () => {
  it("never removes, changes or adds CKA_ID in its experiments", () => {
    const ID = 0x102;
    const seen: (string | undefined)[] = [];
    const template = [
      { type: 0x0, value: 4 },
      { type: 0x161, value: 17 },
      { type: ID, value: Buffer.from("05", "hex") },
    ];
    const call: TemplateCall = {
      fn: "C_GenerateKey",
      templates: [{ name: "template", attrs: template }],
      replay: ([t]) => {
        const id = t!.find((a) => a.type === ID)?.value as Buffer | undefined;
        seen.push(id?.toString("hex"));
        if (t!.find((a) => a.type === 0x161)?.value === 17) throw new Pkcs11CallError("C_GenerateKey", 0x13);
        return [Buffer.from([1])];
      },
      destroy: () => {},
      fixed: [ID],
    };
    const err = new Pkcs11CallError("C_GenerateKey", 0x13) as Pkcs11CallError & { templateCall: TemplateCall };
    err.templateCall = call;
    const d = diagnose(err, 64);
    expect(d.culprits[0]?.attribute).toBe("CKA_VALUE_LEN");
    expect(seen.length).toBeGreaterThan(2);
    expect(new Set(seen)).toEqual(new Set(["05"]));
  });

  it("stops, with what it found, when the harness refuses an experiment", () => {
    const call: TemplateCall = {
      fn: "C_GenerateKey",
      templates: [
        {
          name: "template",
          attrs: [
            { type: 0x161, value: 17 },
            { type: 0x1, value: true },
          ],
        },
      ],
      replay: ([t]) => {
        if (t!.length < 2) throw new Error("p11compat refused C_GenerateKey");
        throw new Pkcs11CallError("C_GenerateKey", 0x13);
      },
      destroy: () => {},
    };
    const err = new Pkcs11CallError("C_GenerateKey", 0x13) as Pkcs11CallError & { templateCall: TemplateCall };
    err.templateCall = call;
    expect(diagnose(err, 64).summary).toMatch(/diagnosis stopped: p11compat refused C_GenerateKey/i);
  });
});
