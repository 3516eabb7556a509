// The arithmetic of `p11compat speed` figures: rates from the median time inside the calls, sessions'
// rates added up, latencies over every operation, the ratio of the rates; and the text table's rows.
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { loopFigures, speedFigures } from "../../src/runner/speed.js";
import { bytes, speedTable } from "../../src/report/speed.js";
import type { SpeedReport } from "../../src/contract/speed.js";
import { generateSpeedSchema, SPEED_SCHEMA_FILE } from "../../src/report/schema.js";

const loop = (us: number[], errors = 0, firstError?: string) => ({
  us: Float64Array.from(us),
  errors,
  ...(firstError ? { firstError } : {}),
});

describe("speed figures", () => {
  it("rates a loop by its median operation, so that preempted calls do not count", () => {
    // 99 operations of 100 µs and one preempted for 1 s: 10,000 ops/s, not ~99.
    const f = loopFigures([loop([...Array<number>(99).fill(100), 1e6])]);
    expect(f).toEqual({
      ops: 100,
      errors: 0,
      opsPerSecond: 10000,
      // p99 interpolated between the last two (10,099 µs), to 4 significant digits.
      latencyUs: { median: 100, p99: 10100 },
    });
  });

  it("adds up the sessions' rates and counts errors apart from operations", () => {
    const f = loopFigures([loop([100, 100], 1), loop([200, 200, 200], 2)]);
    expect(f.ops).toBe(5);
    expect(f.errors).toBe(3);
    expect(f.opsPerSecond).toBe(10000 + 5000);
    expect(f.latencyUs.median).toBe(200);
  });

  it("compares the harness with the raw loop by their medians, and keeps the first error", () => {
    const f = speedFigures([
      { harness: loop([110, 110, 5000], 1, "the token's CKM_SHA256 digest differs"), raw: loop([100, 100, 100]) },
    ]);
    expect(f.sessions).toBe(1);
    expect(f.ratio).toBe(0.909);
    expect(f.firstError).toBe("the token's CKM_SHA256 digest differs");
    expect(speedFigures([{ harness: loop([], 3) }])).toEqual({
      sessions: 1,
      harness: { ops: 0, errors: 3, opsPerSecond: 0, latencyUs: { median: 0, p99: 0 } },
    });
  });
});

describe("the speed table", () => {
  it("has a row per operation and setting, and lists what was not measured", () => {
    const report = {
      device: { profile: "softhsm" },
      token: {
        token: { label: "p11compat", manufacturer: "SoftHSM project", model: "SoftHSM v2" },
        library: { description: "Implementation of PKCS11", version: "2.6" },
      },
      settings: { seconds: 1, sessions: 2 },
      notes: ["a note"],
      results: [
        {
          id: "digest/CKM_SHA256/1024",
          op: "digest",
          mechanism: "CKM_SHA256",
          dataBytes: 1024,
          status: "measured",
          checked: "recomputed by node:crypto",
          figures: [
            {
              sessions: 1,
              harness: { ops: 10, errors: 0, opsPerSecond: 250000, latencyUs: { median: 4, p99: 9.5 } },
              raw: { ops: 10, errors: 0, opsPerSecond: 300000, latencyUs: { median: 3.3, p99: 8 } },
              ratio: 0.825,
            },
          ],
        },
        {
          id: "sign/CKM_ECDSA_SHA256/P-256/1024",
          op: "sign",
          mechanism: "CKM_ECDSA_SHA256",
          key: "P-256",
          dataBytes: 1024,
          status: "unsupported",
          message: "CKM_ECDSA_SHA256 is not in the token's mechanism list",
          checked: "",
          figures: [],
        },
      ],
    } as unknown as SpeedReport;
    const lines = speedTable(report).split("\n");
    expect(lines).toContain("| digest | CKM_SHA256 |  | 1 KiB | 1 | 250,000 | 4 | 9.5 | 300,000 | 3.3 | 0.825 | 0 |");
    expect(lines).toContain(
      "- sign CKM_ECDSA_SHA256 P-256 1 KiB: unsupported (CKM_ECDSA_SHA256 is not in the token's mechanism list)",
    );
    expect(lines).toContain("- a note");
    expect([bytes(32), bytes(1024), bytes(1 << 20), bytes(undefined)]).toEqual(["32 B", "1 KiB", "1 MiB", ""]);
  });
});

describe("schema/speed.schema.json", () => {
  it("is what the types in src/contract/speed.ts generate (npm run schema rewrites it)", async () => {
    expect(readFileSync(SPEED_SCHEMA_FILE, "utf8")).toBe(await generateSpeedSchema());
  }, 30_000);
});
