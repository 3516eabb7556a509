// The policy rows (src/catalogue/policy.ts) and the suite that runs them stay in step: every row is
// a case of suites/policy.yaml, and every row names its attack, its source and its rule.
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { POLICY_CHECKS, POLICY_RULES } from "../../src/catalogue/policy.js";

describe("policy catalogue", () => {
  it("every row is run by suites/policy.yaml and says what it checks", () => {
    const suite = readFileSync(new URL("../../suites/policy.yaml", import.meta.url), "utf8");
    for (const check of POLICY_CHECKS) {
      expect(suite).toMatch(new RegExp(`(check: |- )${check}\\b`));
      const row = POLICY_RULES[check];
      expect(row.attack.length).toBeGreaterThan(5);
      expect(row.source).toMatch(/Tookan|PKCS #11/);
      expect(row.rule.length).toBeGreaterThan(20);
    }
  });
});
