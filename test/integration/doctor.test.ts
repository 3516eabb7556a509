// `p11compat doctor` on real modules and files: each diagnosis of issue 14's list, with its next step
// and exit code. Modules: SoftHSM (tokens made by the test), ykcs11 with the virtual YubiKey and a
// private pcscd (PIN tries counted by yubico-piv-tool, which reads them without spending one), a
// private pcscd with no reader, and shared libraries built here with gcc (one linking a library that
// is not there, one that crashes in C_GetFunctionList).
import { describe, it, expect, beforeAll, afterAll } from "@jest/globals";
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync, rmSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { CLI, tmpDir } from "./helpers.js";
import { requireFiles } from "./devices-helpers.js";

const SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so";
const YKCS11 = "/usr/lib/x86_64-linux-gnu/libykcs11.so";
const VYK = path.join(path.dirname(CLI), "virtual-yubikey.js");

let dir: string;

/** Async, so a socket this test serves can answer the command. */
async function doctor(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, "doctor", ...args], {
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: 120_000,
    });
    return { code: 0, out: r.stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

function gcc(name: string, source: string, args: string[] = []): string {
  const src = path.join(dir, `${name}.c`);
  writeFileSync(src, source);
  const out = path.join(dir, `lib${name}.so`);
  const r = spawnSync("gcc", ["-shared", "-fPIC", "-o", out, src, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gcc: ${r.stderr}`);
  return out;
}

function softhsmDir(name: string, tokens: [label: string, pin: string][]): NodeJS.ProcessEnv {
  const d = path.join(dir, name);
  mkdirSync(path.join(d, "tokens"), { recursive: true });
  writeFileSync(
    path.join(d, "softhsm2.conf"),
    `directories.tokendir = ${d}/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  const env = { ...process.env, SOFTHSM2_CONF: path.join(d, "softhsm2.conf") };
  for (const [label, pin] of tokens) {
    const r = spawnSync(
      "softhsm2-util",
      ["--init-token", "--free", "--label", label, "--so-pin", "11223344", "--pin", pin],
      {
        env,
        encoding: "utf8",
      },
    );
    if (r.status !== 0) throw new Error(`softhsm2-util: ${r.stderr}`);
  }
  return { SOFTHSM2_CONF: env.SOFTHSM2_CONF };
}

beforeAll(() => {
  dir = tmpDir("doctor");
});

describe("doctor: the file", () => {
  it("no such file", async () => {
    const r = await doctor(["--module", path.join(dir, "nothing.so")]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/PROBLEM file +no such file: .*nothing\.so/);
    expect(r.out).toContain("-> give the module's full path");
  });

  it("a text file is not a shared library", async () => {
    const file = path.join(dir, "notes.so");
    writeFileSync(file, "this is not a library, just some text that is long enough to have a header\n".repeat(10));
    const r = await doctor(["--module", file]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/PROBLEM load +.*notes\.so is not a shared library \(.*invalid ELF header\)/);
  });

  it("C_GetInterface, read from the file's dynamic symbols (OpenSC exports it)", async () => {
    const r = await doctor(["--module", "/usr/lib/x86_64-linux-gnu/pkcs11/opensc-pkcs11.so"], {
      PCSCLITE_CSOCK_NAME: path.join(dir, "none.comm"),
    });
    expect(r.out).toMatch(/info +exports +C_GetFunctionList and C_GetInterface \(a PKCS#11 3\.x module/);
  });

  it("a shared library that is not a PKCS#11 module", async () => {
    const r = await doctor(["--module", "/usr/lib/x86_64-linux-gnu/libz.so.1"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("is a shared library but not a PKCS#11 module: it has no C_GetFunctionList");
  });

  it("a module missing a library it links to: named", async () => {
    const dep = gcc("h14dep", "int h14_dep(void) { return 0; }\n");
    const mod = gcc("h14needs", "extern int h14_dep(void);\nint C_GetFunctionList(void **p) { return h14_dep(); }\n", [
      `-L${dir}`,
      "-lh14dep",
    ]);
    rmSync(dep);
    const r = await doctor(["--module", mod]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("the module needs libh14dep.so, which the loader cannot find");
    expect(r.out).toContain("LD_LIBRARY_PATH");
  });

  it("a module that crashes: doctor survives it and names the step", async () => {
    const mod = gcc("h14crash", "int C_GetFunctionList(void **p) { *(volatile int *)0 = 1; return 0; }\n");
    const r = await doctor(["--module", mod]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /PROBLEM load +the module brought down the process during dlopen and C_GetFunctionList: .*SIGSEGV/,
    );
  });
});

describe("doctor on SoftHSM", () => {
  it("a usable token: exit 0, flags in words, login and mechanisms", async () => {
    const env = softhsmDir("one", [["alone", "5555"]]);
    const r = await doctor(["--module", SOFTHSM, "--pin-env", "THE_PIN"], { ...env, THE_PIN: "5555" });
    expect(r.out).toMatch(/ok +token +"alone" \(serial \w+\): login required, user PIN set/);
    expect(r.out).toMatch(/ok +login +C_Login with the given PIN: CKR_OK/);
    expect(r.out).toMatch(/ok +mechanisms +\d+ mechanism\(s\)/);
    expect(r.out).toMatch(/info +exports +C_GetFunctionList, no C_GetInterface/);
    expect(r.out).toContain("The token is usable");
    expect(r.code).toBe(0);
  });

  it("a wrong PIN: tried once, not retried, and what the token says of the tries", async () => {
    const env = softhsmDir("wrong", [["alone", "5555"]]);
    const r = await doctor(["--module", SOFTHSM, "--pin-env", "THE_PIN"], { ...env, THE_PIN: "0000" });
    expect(r.code).toBe(1);
    expect(r.out).toContain("the PIN is wrong: C_Login returned CKR_PIN_INCORRECT (0xa0); not retried");
    expect(r.out.match(/C_Login/g)).toHaveLength(1);
  });

  it("several tokens and none named; an uninitialised token only", async () => {
    const env = softhsmDir("two", [
      ["a", "1111"],
      ["b", "2222"],
    ]);
    const r = await doctor(["--module", SOFTHSM], env);
    expect(r.code).toBe(1);
    expect(r.out).toContain("2 tokens present and none named");
    const blank = await doctor(["--module", SOFTHSM], softhsmDir("blank", []));
    expect(blank.code).toBe(1);
    expect(blank.out).toMatch(/PROBLEM token +the token is not initialised/);
  });
});

describe("doctor with pcscd and ykcs11", () => {
  beforeAll(() => {
    requireFiles(
      "the doctor's pcscd tests",
      [
        ["/usr/lib/pcsc/drivers/serial/libifdvpcd.so", "vsmartcard-vpcd"],
        [YKCS11, "ykcs11"],
        ["/usr/bin/yubico-piv-tool", "yubico-piv-tool"],
        ["/usr/sbin/pcscd", "pcscd"],
      ],
      "virtual-yubikey",
    );
  });

  it("the virtual YubiKey profile (its set-up first): pcscd answers, usable", async () => {
    const r = await doctor(["--device", "virtual-yubikey"]);
    expect(r.out).toMatch(/ok +pcscd +pcscd answers at .*pcscd\.comm \(protocol \d+\.\d+\)/);
    expect(r.out).toMatch(/ok +token +"YubiKey PIV #99000001"/);
    expect(r.out).toMatch(/ok +login +C_Login with the given PIN: CKR_OK/);
    expect(r.code).toBe(0);
  });

  it("pcscd not running", async () => {
    const r = await doctor(["--device", "yubikey"], { PCSCLITE_CSOCK_NAME: path.join(dir, "no-pcscd", "pcscd.comm") });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/PROBLEM pcscd +pcscd is not running: no socket at /);
    expect(r.out).toContain("systemctl start pcscd.socket");
  });

  it("pcscd that closes on its clients: polkit in the way", async () => {
    const socket = path.join(dir, "closing.comm");
    const server = net.createServer((c) => c.destroy());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const r = await doctor(["--device", "yubikey"], { PCSCLITE_CSOCK_NAME: socket });
      expect(r.code).toBe(1);
      expect(r.out).toContain("closed the connection without answering: it rejects this client (polkit in the way");
      expect(r.out).toContain("--disable-polkit");
    } finally {
      server.close();
    }
  });

  it("no token present: a real pcscd with no reader", async () => {
    const d = path.join(dir, "no-reader");
    mkdirSync(path.join(d, "readers"), { recursive: true });
    const pcscd = execFile(process.execPath, [VYK, "pcscd", "--dir", d, "--readers", path.join(d, "readers")]);
    const socket = path.join(d, "run", "pcscd", "pcscd.comm");
    try {
      for (let i = 0; i < 100 && spawnSync("test", ["-S", socket]).status !== 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      const r = await doctor(["--device", "yubikey"], { PCSCLITE_CSOCK_NAME: socket });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/ok +pcscd +pcscd answers/);
      expect(r.out).toMatch(/PROBLEM slots +the module shows no slot at all/);
      expect(r.out).toMatch(/PROBLEM reader +no reader with a YubiKey/);
    } finally {
      pcscd.kill("SIGTERM");
    }
  });

  describe("the virtual YubiKey's PIN", () => {
    const vyk = () => path.join(dir, "vyk");
    const env = () => ({ PCSCLITE_CSOCK_NAME: path.join(vyk(), "run", "pcscd", "pcscd.comm") });
    const triesLeft = () => {
      const r = spawnSync("yubico-piv-tool", ["-a", "status"], { env: { ...process.env, ...env() }, encoding: "utf8" });
      return Number(/PIN tries left:\s*(\d+)/.exec(r.stdout)?.[1]);
    };
    beforeAll(() => {
      const r = spawnSync(process.execPath, [VYK, "start", "--dir", vyk()], { encoding: "utf8", timeout: 60_000 });
      if (r.status !== 0) throw new Error(`virtual YubiKey: ${r.stderr}`);
    });
    afterAll(() => {
      spawnSync(process.execPath, [VYK, "stop", "--dir", vyk()], { encoding: "utf8", timeout: 30_000 });
    });

    it("the right PIN: usable", async () => {
      const r = await doctor(["--module", YKCS11, "--pin-env", "YK_PIN"], { ...env(), YK_PIN: "123456" });
      expect(r.out).toMatch(/ok +login +C_Login with the given PIN: CKR_OK/);
      expect(r.code).toBe(0);
      expect(triesLeft()).toBe(3);
    });

    it("run --module on the card: the existing token, PIN from the environment, no PIN try lost", () => {
      const out = path.join(dir, "vyk-run");
      const r = spawnSync(
        process.execPath,
        [CLI, "run", "--module", YKCS11, "--pin-env", "YK_PIN", "--suite", "digest", "session", "--out", out],
        {
          env: { ...process.env, ...env(), YK_PIN: "123456" },
          encoding: "utf8",
          timeout: 120_000,
        },
      );
      expect(r.stderr).toMatch(/Using token "YubiKey PIV #\d+"/);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/session +\d+ +0 +/);
      expect(triesLeft()).toBe(3);
    });

    it("a wrong PIN with tries left: one try spent, not retried, the tries said", async () => {
      const r = await doctor(["--module", YKCS11, "--pin-env", "YK_PIN"], { ...env(), YK_PIN: "999999" });
      expect(r.code).toBe(1);
      expect(r.out).toContain("the PIN is wrong: C_Login returned CKR_PIN_INCORRECT (0xa0); not retried");
      expect(triesLeft()).toBe(2);
      const again = await doctor(["--module", YKCS11, "--pin-env", "YK_PIN"], { ...env(), YK_PIN: "999999" });
      expect(again.out).toContain("one try is left (CKF_USER_PIN_FINAL_TRY)");
      expect(triesLeft()).toBe(1);
    });

    it("the final try is never spent", async () => {
      const r = await doctor(["--module", YKCS11, "--pin-env", "YK_PIN"], { ...env(), YK_PIN: "123456" });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/PROBLEM pin +the user PIN has one try left/);
      expect(r.out).not.toMatch(/^ {2}\S+ +login /m);
      expect(triesLeft()).toBe(1);
    });

    it("a locked PIN", async () => {
      spawnSync("yubico-piv-tool", ["-a", "verify-pin", "-P", "999999"], { env: { ...process.env, ...env() } });
      expect(triesLeft()).toBe(0);
      const r = await doctor(["--module", YKCS11, "--pin-env", "YK_PIN"], { ...env(), YK_PIN: "123456" });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/ok +token +.*user PIN LOCKED/);
      expect(r.out).toMatch(/PROBLEM pin +the user PIN is locked \(CKF_USER_PIN_LOCKED\)/);
      expect(r.out).toContain("unblock");
      // A run refuses before it logs in.
      const run = spawnSync(process.execPath, [CLI, "run", "--module", YKCS11, "--suite", "digest"], {
        env: { ...process.env, ...env(), P11COMPAT_PIN: "123456" },
        encoding: "utf8",
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain("the user PIN is locked (CKF_USER_PIN_LOCKED)");
    });
  });
});
