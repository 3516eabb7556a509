// Lanes: cases sharing a cached key stay together, each lane keeps the run's order, costs balance.
import { describe, it, expect } from "@jest/globals";
import { lanes } from "../../src/plan/lanes.js";
import type { PlannedCase, Step } from "../../src/suite/model.js";
import type { KeySpec } from "../../src/catalogue/keys.js";

const pos = { file: "t.yaml", line: 1, col: 1 };
function c(id: string, keys: Record<string, KeySpec>, steps: Step[]): PlannedCase {
  return { id, suite: id.split("/")[0]!, group: "g", title: id, params: {}, keys, steps, pos };
}
const big: KeySpec = { type: "RSA", bits: 4096 };
const mid: KeySpec = { type: "RSA", bits: 3072 };
const gen = (spec: string): Step => ({ op: "key", spec, source: "generate" });
const sign = { op: "sign", mechanism: { name: "SHA256_RSA_PKCS" } } as Step;

describe("lanes", () => {
  const cases = [
    c("keys/a", { big }, [gen("big")]),
    c("keys/b", { mid }, [gen("mid")]),
    c("sign/a", { big }, [gen("big"), sign]),
    c("sign/b", { mid }, [gen("mid"), sign]),
    c("digest/a", {}, [{ op: "digest", mechanism: { name: "SHA256" } }]),
    c("wrap/a", { mid, aes: { type: "AES", bits: 256 } }, [
      gen("aes"),
      { op: "wrap", mechanism: { name: "AES_KEY_WRAP" }, target: "mid" },
    ]),
  ];

  it("keeps every user of a cached key in one lane, wrap targets included", () => {
    const split = lanes(cases, 2);
    expect(split).toHaveLength(2);
    const laneOf = (id: string) => split.findIndex((l) => l.cases.some((x) => x.id === id));
    expect(laneOf("keys/a")).toBe(laneOf("sign/a"));
    expect(laneOf("keys/b")).toBe(laneOf("sign/b"));
    expect(laneOf("keys/b")).toBe(laneOf("wrap/a"));
    // The two expensive keys are made side by side.
    expect(laneOf("keys/a")).not.toBe(laneOf("keys/b"));
  });

  it("keeps the run's order within a lane and loses no case", () => {
    const split = lanes(cases, 2);
    const order = cases.map((x) => x.id);
    for (const l of split) {
      const ids = l.cases.map((x) => x.id);
      expect(ids).toEqual(order.filter((id) => ids.includes(id)));
    }
    expect(split.flatMap((l) => l.cases.map((x) => x.id)).sort()).toEqual([...order].sort());
  });

  it("is one lane for one worker, or for cases that all share a key", () => {
    expect(lanes(cases, 1)).toHaveLength(1);
    expect(lanes([cases[0]!, cases[2]!], 2)).toHaveLength(1);
  });
});
