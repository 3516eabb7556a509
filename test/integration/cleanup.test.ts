// What the run creates, the run removes: also token objects, also after a logout renumbered them.
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import path from "node:path";
import { casesOf, runOn, softhsm, tmpDir } from "./helpers.js";

describe("clean-up on SoftHSM", () => {
  it("destroys every token object the run created, found again by label after a logout", async () => {
    const out = tmpDir("cleanup");
    const listing = path.join(out, "objects.txt");
    const base = await softhsm();
    const profile = {
      ...base,
      objects: "token" as const,
      pins: { user: { value: "11112222" }, so: { value: "33334444" } },
      // Runs before the token directory is removed: list what is left on the token.
      teardown: [
        {
          run: [
            "sh",
            "-c",
            `pkcs11-tool --module "$0" --token-label p11compat --login --pin 11112222 -O > "$1" 2>&1`,
            base.module.paths[0]!,
            listing,
          ],
        },
      ],
    };
    const cases = await casesOf(["keys", "session", "derive", "objects"], (id) =>
      /p-256|aes-128|session|objects|hmac/.test(id),
    );
    const { report } = await runOn(profile, cases);
    expect(report.summary.error).toBe(0);
    expect(report.run.notes).toEqual([]);
    const left = readFileSync(listing, "utf8");
    expect(left).not.toMatch(/label:\s+p11compat-/);
    expect(left).not.toMatch(/Private Key Object|Secret Key Object|Public Key Object|Data object/);
  }, 120_000);
});
