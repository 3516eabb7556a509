// No PIN on a command line: while each CI profile's set-up and run go on, a sampler reads every
// process's /proc/PID/cmdline (what any local user sees in `ps`) and looks for the run's PINs.
// (openCryptoki's profile needs the machine to itself and is not run here: devices-opencryptoki.test.ts.)
import { describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { CLI, DEVICES, ROOT, softhsm, tmpDir } from "./helpers.js";
import { loadDevice } from "../../src/device/load.js";
import { findModule, missingRequirements, provision } from "../../src/device/provision.js";

interface Sample {
  hits: string[];
  samples: number;
  seen: string[];
}

function startSampler(secrets: string[]): { stop(): Promise<Sample> } {
  const child = spawn(process.execPath, [path.join(ROOT, "test/integration/argv-sampler.mjs")], {
    env: { ...process.env, ARGV_SAMPLER_SECRETS: secrets.join(",") },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
  return {
    async stop() {
      child.stdin.end();
      await closed;
      return JSON.parse(out) as Sample;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pin = () => String(randomInt(10_000_000, 99_999_999));

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
}

// The processes each set-up runs, which the sampler must have seen (or it sampled too slowly to tell).
const CASES: [device: string, expectSeen: string[]][] = [
  ["softhsm", ["token-init-process.js"]],
  ["nss", ["certutil"]],
  ["tpm2", ["tpm2_ptool", "token-init-process.js", "swtpm"]],
  ["virtual-yubikey", ["virtual-yubikey.js serve", "pcscd"]],
];

describe("a profile that would put a PIN on a command line", () => {
  const load = (body: string) => {
    const file = path.join(tmpDir("pin-profile"), "p.yaml");
    writeFileSync(file, `device: p\ntitle: p\nmodule: { paths: [/x.so] }\n${body}`);
    return loadDevice(file, DEVICES);
  };

  it("is refused at load, at the step, with what to do instead; a PIN written to a file is fine", async () => {
    const why = /a PIN on a command line is visible to every local user .*`initToken` step/;
    await expect(load('setup:\n  - run: [tool, --pin, "${userPin}"]\n')).rejects.toThrow(
      new RegExp(`p\\.yaml:5:\\d+: ${why.source}`),
    );
    await expect(load('setup:\n  - start: { name: d, run: [sh, -c, "x $0", "${soPin}"] }\n')).rejects.toThrow(why);
    await expect(load('teardown:\n  - run: [tool, "--so=${soPin}"]\n')).rejects.toThrow(why);
    await expect(
      load('setup:\n  - write: { path: "${tmp}/pin", content: "${userPin}" }\n  - initToken: { label: x }\n'),
    ).resolves.toMatchObject({ id: "p" });
  });
});

describe("initToken", () => {
  it("names the step and why it failed, and leaves nothing behind", async () => {
    const profile = await softhsm();
    const setup = profile.setup.map((s) => ("initToken" in s ? { initToken: { label: "p11compat", slot: 4242 } } : s));
    await expect(provision({ ...profile, setup }, { runTag: "t" })).rejects.toThrow(
      /^setup step initToken \(C_InitToken "p11compat" in slot 4242\) failed: no token in slot 4242; tokens present: slot \d+ ""$/,
    );
    // This process's run directories (named after it) are gone with the failed set-up.
    expect(readdirSync(os.tmpdir()).filter((n) => n.includes(`-pid${process.pid}.`))).toEqual([]);
  });
});

describe("no PIN in any process's command line", () => {
  it("the sampler finds a PIN on a command line (positive control)", async () => {
    const secret = pin();
    const sampler = startSampler([secret]);
    await sleep(100);
    // Alive for a second: a 0.2 s process was missed under load (the sampler reads /proc in turns).
    const child = spawn("sh", ["-c", "sleep 1", `--pin=${secret}`]);
    await new Promise((r) => child.on("close", r));
    const s = await sampler.stop();
    expect(s.hits).toEqual(["sh -c sleep 1 --pin=<PIN>"]);
  });

  for (const [device, expectSeen] of CASES) {
    it(`${device}: set-up and run`, async () => {
      const profile = await loadDevice(device, DEVICES);
      const usable =
        (await findModule(profile).then(
          () => true,
          () => false,
        )) && !(await missingRequirements(profile)).length;
      // Every CI token is installed by scripts/install-system-deps.sh: one missing is a failure, not a pass.
      if (!usable) throw new Error(`${device} is not usable here (./scripts/install-system-deps.sh ${device})`);
      const dir = tmpDir(`pins-${device}`);
      // The profile as it is, with PINs the test knows (the SO PIN of virtual-yubikey is its management key).
      const yaml = parse(readFileSync(profile.file, "utf8")) as { pins: Record<string, unknown> };
      const user = pin();
      const so = device === "virtual-yubikey" ? (yaml.pins.so as { value: string }).value : pin();
      yaml.pins = { user: { value: user }, so: { value: so } };
      const file = path.join(dir, `${device}.yaml`);
      writeFileSync(file, stringify(yaml));
      const sampler = startSampler([user, so]);
      await sleep(100);
      const r = await runCli([
        "run",
        "--device",
        file,
        "--suite",
        "session",
        "--quiet",
        "--out",
        path.join(dir, "out"),
      ]);
      const s = await sampler.stop();
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(s.hits).toEqual([]);
      for (const name of expectSeen) expect(s.seen.filter((c) => c.includes(name)).length).toBeGreaterThan(0);
      console.log(`${device}: ${s.samples} samples of every command line, ${s.seen.length} seen, no PIN in any`);
    });
  }
});
