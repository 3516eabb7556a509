import { describe, expect, it } from "@jest/globals";
import { Budget, BudgetExhausted, acceptedRange, minimalSubset } from "../../src/diagnose/minimise.js";

/** A fake call that fails while any of `bad` is present or any of `pairs` is present together. */
function oracle(all: string[], bad: string[], pairs: [string, string][] = [], required: string[] = []) {
  let calls = 0;
  const passesWithout = (removed: string[]) => {
    calls++;
    const present = all.filter((a) => !removed.includes(a));
    if (required.some((r) => !present.includes(r))) return false;
    if (bad.some((b) => present.includes(b))) return false;
    return !pairs.some(([a, b]) => present.includes(a) && present.includes(b));
  };
  return { passesWithout, calls: () => calls };
}

const ATTRS = [
  "CLASS",
  "KEY_TYPE",
  "VALUE_LEN",
  "TOKEN",
  "LABEL",
  "ID",
  "SENSITIVE",
  "EXTRACTABLE",
  "VENDOR",
  "LOCAL",
  "ENCRYPT",
  "DECRYPT",
];

describe("minimalSubset", () => {
  it("finds a single bad attribute", () => {
    const o = oracle(ATTRS, ["VENDOR"], [], ["CLASS", "KEY_TYPE", "VALUE_LEN"]);
    const start = ATTRS.filter((a) => !["CLASS", "KEY_TYPE", "VALUE_LEN"].includes(a));
    expect(minimalSubset(start, o.passesWithout)).toEqual(["VENDOR"]);
    expect(o.calls()).toBeLessThanOrEqual(12);
  });

  it("finds every independent bad attribute, not only the first", () => {
    const o = oracle(ATTRS, ["VENDOR", "LOCAL", "ID"]);
    expect(minimalSubset(ATTRS, o.passesWithout).sort()).toEqual(["ID", "LOCAL", "VENDOR"]);
  });

  it("finds one side of a conflicting pair (either suffices)", () => {
    const o = oracle(ATTRS, [], [["SENSITIVE", "EXTRACTABLE"]]);
    const found = minimalSubset(ATTRS, o.passesWithout);
    expect(found).toHaveLength(1);
    expect(["SENSITIVE", "EXTRACTABLE"]).toContain(found[0]);
  });

  it("never removes a required attribute", () => {
    const required = ["CLASS", "VALUE_LEN"];
    const o = oracle(ATTRS, ["TOKEN"], [], required);
    const start = ATTRS.filter((a) => !required.includes(a));
    expect(minimalSubset(start, o.passesWithout)).toEqual(["TOKEN"]);
  });
});

describe("acceptedRange", () => {
  it("finds both edges of an accepted interval by bisection", () => {
    let calls = 0;
    const accepts = (v: number) => (calls++, v >= 1 && v <= 0x19);
    expect(acceptedRange(0, 255, 1, accepts)).toEqual({ from: 1, to: 0x19 });
    expect(calls).toBeLessThanOrEqual(12);
  });
  it("stops at the ends when everything is accepted", () => {
    expect(acceptedRange(0, 255, 7, () => true)).toEqual({ from: 0, to: 255 });
  });
});

describe("Budget", () => {
  it("throws once the limit is spent", () => {
    const b = new Budget(2);
    b.charge();
    b.charge();
    expect(() => b.charge()).toThrow(BudgetExhausted);
    expect(b.spent).toBe(2);
  });
});
