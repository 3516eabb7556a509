// `run --module PATH` without a device profile, on SoftHSM tokens that exist before the run (made by
// the test, with objects of their own): which token is used, that the run makes no token object
// (unless --allow-token-objects) and that every object that was there is there afterwards, unchanged.
import { describe, it, expect, beforeAll } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { CLI, ROOT, tmpDir } from "./helpers.js";
import { readReport } from "../../src/report/read.js";

const MODULE = "/usr/lib/softhsm/libsofthsm2.so";
const PIN = "2468";
const OTHER_PIN = "1357";

let dir: string;
let env: NodeJS.ProcessEnv;

function cli(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...env, ...extra },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 240_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// SoftHSM reads SOFTHSM2_CONF with getenv(), which jest's copy of process.env does not reach: the
// test's own PKCS#11 calls run in a child process.
const TOKEN_SCRIPT = `
const p = require("pkcs11js");
const [mode, label, pin] = process.argv.slice(1);
const lib = new p.PKCS11();
lib.load(${JSON.stringify(MODULE)});
lib.C_Initialize();
const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === label);
const session = lib.C_OpenSession(slot, p.CKF_SERIAL_SESSION | p.CKF_RW_SESSION);
lib.C_Login(session, p.CKU_USER, pin);
if (mode === "populate") {
  lib.C_GenerateKey(session, { mechanism: p.CKM_AES_KEY_GEN }, [
    { type: p.CKA_TOKEN, value: true }, { type: p.CKA_LABEL, value: "keep-me" },
    { type: p.CKA_ID, value: Buffer.from("01", "hex") }, { type: p.CKA_VALUE_LEN, value: 32 },
  ]);
  lib.C_CreateObject(session, [
    { type: p.CKA_CLASS, value: p.CKO_DATA }, { type: p.CKA_TOKEN, value: true }, { type: p.CKA_PRIVATE, value: true },
    { type: p.CKA_LABEL, value: "notes" }, { type: p.CKA_VALUE, value: Buffer.from("precious") },
  ]);
} else {
  lib.C_FindObjectsInit(session, []);
  const handles = lib.C_FindObjects(session, 1000);
  lib.C_FindObjectsFinal(session);
  const out = handles.map((h) => {
    const get = (type) => { try { return lib.C_GetAttributeValue(session, h, [{ type }])[0].value; } catch { return Buffer.alloc(0); } };
    const c = get(p.CKA_CLASS).readUInt32LE(0);
    const value = c === p.CKO_DATA ? get(p.CKA_VALUE).toString("hex") : "";
    return c + " " + get(p.CKA_LABEL).toString() + " " + get(p.CKA_ID).toString("hex") + " " + value;
  });
  console.log(JSON.stringify(out.sort()));
}
lib.C_Finalize();
`;

function onToken(mode: "populate" | "list", label: string, pin: string): string {
  const r = spawnSync(process.execPath, ["-e", TOKEN_SCRIPT, mode, label, pin], { env, cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${mode} ${label}: ${r.stderr}`);
  return r.stdout;
}

/** Every object on a token as the user sees it: class, label, id and (for a data object) value. */
const objectsOn = (label: string, pin: string): string[] => JSON.parse(onToken("list", label, pin)) as string[];

/** Objects that must survive: an AES key and a data object (token objects). */
const populate = (label: string, pin: string) => void onToken("populate", label, pin);

/** Successful calls whose template asked for a token object. */
function tokenObjectCalls(reportPath: string): string[] {
  const report = readReport(reportPath);
  return report.cases.flatMap((c) =>
    (c.trace ?? [])
      .filter((t) => t.rv === "CKR_OK" && /"name":"CKA_TOKEN","value":"true"/.test(JSON.stringify(t.args ?? {})))
      .map((t) => `${c.id} ${t.fn}`),
  );
}

const reportOf = (out: string) => /^report: (.+)$/m.exec(out)![1]!;

beforeAll(() => {
  dir = tmpDir("existing");
  mkdirSync(path.join(dir, "tokens"));
  writeFileSync(
    path.join(dir, "softhsm2.conf"),
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  env = { ...process.env, SOFTHSM2_CONF: path.join(dir, "softhsm2.conf") };
  for (const [label, pin] of [
    ["mine", PIN],
    ["other token", OTHER_PIN],
  ]) {
    const r = spawnSync(
      "softhsm2-util",
      ["--init-token", "--free", "--label", label!, "--so-pin", "11223344", "--pin", pin!],
      {
        env,
        encoding: "utf8",
      },
    );
    if (r.status !== 0) throw new Error(`softhsm2-util: ${r.stderr}`);
    populate(label!, pin!);
  }
});

describe("run --module on an existing token", () => {
  it("makes session objects only, skips what needs token objects with the reason, and leaves every object as it was", () => {
    const before = objectsOn("mine", PIN);
    const other = objectsOn("other token", OTHER_PIN);
    const r = cli(
      [
        "run",
        "--module",
        MODULE,
        "--token",
        "mine",
        "--pin-env",
        "MY_PIN",
        "--suite",
        "keys",
        "objects",
        path.join("suites", "clients", "p11tool.yaml"),
        "--trace",
        "all",
        "--out",
        path.join(dir, "r1"),
      ],
      { MY_PIN: PIN },
    );
    expect(r.err).toContain('Using token "mine"');
    expect(r.err).toContain("Session objects only");
    expect(r.code).toBe(0);
    const report = readReport(reportOf(r.out));
    expect(report.device.profile).toBe("libsofthsm2");
    expect(report.token.token.label).toBe("mine");
    expect(report.summary.pass).toBeGreaterThan(20);
    const refused = report.cases.filter(
      (c) => c.outcome === "skipped" && /--allow-token-objects/.test(c.message ?? ""),
    );
    expect(refused.map((c) => c.id)).toContain("p11tool/generate-rsa");
    expect(tokenObjectCalls(reportOf(r.out))).toEqual([]);
    expect(objectsOn("mine", PIN)).toEqual(before);
    expect(objectsOn("other token", OTHER_PIN)).toEqual(other);
    expect(before.some((o) => o.includes("keep-me"))).toBe(true);
    expect(`${r.out}${r.err}`).not.toContain(PIN);
  });

  it("with --allow-token-objects says so first, makes them, and destroys only those", () => {
    const before = objectsOn("mine", PIN);
    const r = cli(
      [
        "run",
        "--module",
        MODULE,
        "--token",
        "mine",
        "--allow-token-objects",
        "--suite",
        path.join("suites", "clients", "p11tool.yaml"),
        "--trace",
        "all",
        "--out",
        path.join(dir, "r2"),
      ],
      { P11COMPAT_PIN: PIN },
    );
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/--allow-token-objects: \d+ case\(s\) will create token objects/);
    expect(tokenObjectCalls(reportOf(r.out)).length).toBeGreaterThan(0);
    expect(objectsOn("mine", PIN)).toEqual(before);
  });

  it("refuses to guess among several tokens, and lists them", () => {
    const r = cli(["run", "--module", MODULE, "--suite", "digest", "--out", path.join(dir, "r3")], {
      P11COMPAT_PIN: PIN,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain("2 tokens present and none named");
    expect(r.err).toContain('token "mine"');
    expect(r.err).toContain('token "other token"');
    // The output directory is settled before the token is chosen; a refused run writes nothing into it.
    expect(existsSync(path.join(dir, "r3")) ? readdirSync(path.join(dir, "r3")) : []).toEqual([]);
  });

  it("says when no token matches, and lists those present", () => {
    const r = cli(["run", "--module", MODULE, "--token", "nope", "--suite", "digest"], { P11COMPAT_PIN: PIN });
    expect(r.code).toBe(1);
    expect(r.err).toContain('no token matches label "nope"; tokens present:');
    expect(r.err).toContain('token "other token"');
    const serial = cli(["run", "--module", MODULE, "--serial", "0000", "--suite", "digest"], { P11COMPAT_PIN: PIN });
    expect(serial.err).toContain('no token matches serial "0000"');
  });

  it("takes an RFC 7512 URI (percent-decoded) for the token and for the module", () => {
    const r = cli(
      [
        "run",
        "--module",
        `pkcs11:?module-path=${encodeURIComponent(MODULE)}`,
        "--token",
        "pkcs11:token=other%20token",
        "--suite",
        "digest",
        "--filter",
        "sha256",
        "--quiet",
        "--out",
        path.join(dir, "r4"),
      ],
      { P11COMPAT_PIN: OTHER_PIN },
    );
    expect(r.err).not.toContain("p11compat:");
    expect(r.code).toBe(0);
    expect(readReport(reportOf(r.out)).token.token.label).toBe("other token");
    const pin = cli(["run", "--module", MODULE, "--token", "pkcs11:token=mine?pin-value=2468"]);
    expect(pin.code).toBe(1);
    expect(pin.err).toContain("takes no PIN from the command line");
  });

  it("names the variable when the PIN is not given and there is no terminal", () => {
    const r = cli(["run", "--module", MODULE, "--token", "mine", "--pin-env", "NOT_SET_H14", "--suite", "digest"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("set $NOT_SET_H14");
  });

  it("asks for the PIN at a terminal after choosing the token, and does not echo it", async () => {
    // script(1) gives the command a terminal; the PIN is typed only once the prompt is up.
    const command = [
      process.execPath,
      CLI,
      "run",
      "--module",
      MODULE,
      "--token",
      "mine",
      "--suite",
      "digest",
      "--filter",
      "sha256",
      "--out",
      path.join(dir, "r6"),
    ]
      .map((a) => `'${a}'`)
      .join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let typedAt = -1;
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (typedAt < 0 && out.includes("user PIN: ")) {
        typedAt = out.length;
        child.stdin.write(`${PIN}\r`);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(typedAt).toBeGreaterThan(0);
    expect(out.indexOf('Using token "mine"')).toBeLessThan(out.indexOf("user PIN: "));
    expect(out.slice(typedAt)).not.toContain(PIN);
    expect(out).toMatch(/digest +3 +0 +0 +0 +0 +3/);
    expect(code).toBe(0);
  });

  it("uses a module registered with p11-kit by name (--device p11-kit:softhsm2)", () => {
    const r = cli(
      [
        "run",
        "--device",
        "p11-kit:softhsm2",
        "--token",
        "mine",
        "--suite",
        "digest",
        "--filter",
        "sha256",
        "--quiet",
        "--out",
        path.join(dir, "r5"),
      ],
      {
        P11COMPAT_PIN: PIN,
      },
    );
    expect(r.code).toBe(0);
    expect(readReport(reportOf(r.out)).device.profile).toBe("p11-kit-softhsm2");
    const devices = cli(["devices"]);
    expect(devices.out).toContain("p11-kit:softhsm2: /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so");
  });
});
