// Daemons a device profile starts (`start` in setup, `stop` in teardown): p11compat's own children in
// their own process group, stopped at tear-down (also after a failed set-up), SIGKILL for one that
// ignores SIGTERM, and gone with p11compat even when it is killed (setpriv --pdeathsig).
import { describe, expect, it } from "@jest/globals";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { spawn } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadDevice } from "../../src/device/load.js";
import { provision } from "../../src/device/provision.js";
import type { DeviceProfile, SetupStep } from "../../src/device/model.js";
import { DEVICES, ROOT, tmpDir } from "./helpers.js";

const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
};
const waitFor = async (what: () => boolean, ms: number) => {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
};

/** A profile with no token: only its set-up and tear-down matter here. */
function profile(setup: SetupStep[], teardown: SetupStep[] = []): DeviceProfile {
  return {
    id: "daemons",
    title: "daemons",
    file: "daemons.yaml",
    module: { paths: [process.execPath] },
    requires: [],
    token: {},
    pins: {},
    env: { P11COMPAT_TEST_VAR: "from-the-profile" },
    setup,
    teardown,
    objects: "session",
    throwaway: true,
    workers: 1,
    timeouts: { caseSeconds: 10, startSeconds: 10 },
  };
}

/** A daemon that writes its pid (and the profile's environment) into ${tmp}, then waits. */
const sleeper = (name: string, extra = ""): SetupStep => ({
  start: {
    name,
    run: ["sh", "-c", `${extra}echo $$ "$P11COMPAT_TEST_VAR" > "$0/${name}.pid"; exec sleep 60`, "${tmp}"],
    ready: ["test", "-s", `\${tmp}/${name}.pid`],
  },
});

describe("daemons started by a device profile", () => {
  it("start in order, see the profile's environment, and are stopped at tear-down", async () => {
    const out = path.join(tmpDir("daemons"), "seen");
    const prov = await provision(
      profile(
        [sleeper("one"), sleeper("two")],
        [{ run: ["sh", "-c", 'cat "$0/one.pid" "$0/two.pid" > "$1"', "${tmp}", out] }],
      ),
      { runTag: "t" },
    );
    await prov.teardown();
    const lines = readFileSync(out, "utf8").trim().split("\n");
    expect(lines.map((l) => l.split(" ")[1])).toEqual(["from-the-profile", "from-the-profile"]);
    const pids = lines.map((l) => Number(l.split(" ")[0]));
    expect(pids.filter(alive)).toEqual([]);
  });

  it("`stop` in tear-down stops one before the steps after it", async () => {
    const out = path.join(tmpDir("daemons"), "state");
    const prov = await provision(
      profile(
        [sleeper("d")],
        [
          { stop: "d" },
          {
            run: [
              "sh",
              "-c",
              'if kill -0 $(cut -d" " -f1 "$0/d.pid"); then echo running; else echo stopped; fi > "$1"',
              "${tmp}",
              out,
            ],
          },
        ],
      ),
      { runTag: "t" },
    );
    await prov.teardown();
    expect(readFileSync(out, "utf8").trim()).toBe("stopped");
  });

  it("a daemon that exits at once fails set-up with its output, and the ones before it are stopped", async () => {
    const keep = path.join(tmpDir("daemons"), "first.pid");
    const failing: SetupStep = {
      start: {
        name: "bad",
        run: ["sh", "-c", 'cp "$0/first.pid" "$1"; echo "cannot bind: address in use" >&2; exit 3', "${tmp}", keep],
      },
    };
    await expect(provision(profile([sleeper("first"), failing]), { runTag: "t" })).rejects.toThrow(
      /daemon bad \(`sh -c .*`\) exited with 3:\n\s+cannot bind: address in use/,
    );
    const pid = Number(readFileSync(keep, "utf8").split(" ")[0]);
    expect(await waitFor(() => !alive(pid), 2000)).toBe(true);
  });

  it("a daemon that never gets ready fails set-up after readySeconds, with what the probe said", async () => {
    const step: SetupStep = {
      start: { name: "slow", run: ["sleep", "60"], ready: ["sh", "-c", "echo not yet >&2; exit 1"], readySeconds: 1 },
    };
    const t0 = Date.now();
    await expect(provision(profile([step]), { runTag: "t" })).rejects.toThrow(
      /daemon slow \(`sleep 60`\) was not ready within 1 s: .* kept failing:\n\s+not yet/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("a daemon that ignores SIGTERM gets SIGKILL after 5 s", async () => {
    const dir = tmpDir("daemons");
    const prov = await provision(
      profile([
        {
          start: {
            name: "stubborn",
            run: ["sh", "-c", `trap "" TERM; echo $$ > ${dir}/pid; while :; do sleep 0.1; done`],
          },
        },
      ]),
      { runTag: "t" },
    );
    expect(await waitFor(() => existsSync(`${dir}/pid`), 2000)).toBe(true);
    const pid = Number(readFileSync(`${dir}/pid`, "utf8"));
    const t0 = Date.now();
    await prov.teardown();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(4900);
    expect(alive(pid)).toBe(false);
  }, 20_000);

  it("die with p11compat when it is killed before it could tear down", async () => {
    const dir = tmpDir("daemons");
    // Plain node on the compiled provision.js (jest's global set-up keeps dist/ current).
    const script = path.join(dir, "provision.mjs");
    writeFileSync(
      script,
      [
        `import { provision } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/device/provision.js")).href)};`,
        `const d = { id: "x", title: "x", file: "x", module: { paths: [process.execPath] }, requires: [], token: {}, pins: {}, env: {},`,
        `  setup: [{ start: { name: "orphan", run: ["sh", "-c", "echo $$ > ${dir}/pid; exec sleep 60"] } }], teardown: [],`,
        `  objects: "session", throwaway: true, timeouts: { caseSeconds: 10, startSeconds: 10 } };`,
        `await provision(d, { runTag: "k" });`,
        `console.log("up");`,
        `setInterval(() => {}, 1000);`,
      ].join("\n"),
    );
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    expect(await waitFor(() => existsSync(`${dir}/pid`), 2000)).toBe(true);
    const pid = Number(readFileSync(`${dir}/pid`, "utf8"));
    expect(alive(pid)).toBe(true);
    child.kill("SIGKILL");
    expect(await waitFor(() => !alive(pid), 3000)).toBe(true);
    // The killed provision could not remove its directory.
    for (const d of readdirSync(os.tmpdir()).filter((x) => x.startsWith("p11compat-x-")))
      rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
  }, 30_000);
});

describe("run steps in a device profile", () => {
  it("say which step failed, how, and its last output; a missing command, a time-out and a missing requirement too", async () => {
    await expect(
      provision(profile([{ run: ["sh", "-c", "echo made >&1; echo oops >&2; exit 4"] }]), { runTag: "r" }),
    ).rejects.toThrow(/setup step `sh -c echo made >&1; echo oops >&2; exit 4` exited with 4:\n {2}oops\n {2}made/);
    await expect(provision(profile([{ run: ["no-such-command-p11compat"] }]), { runTag: "r" })).rejects.toThrow(
      /setup step `no-such-command-p11compat` no-such-command-p11compat: spawn no-such-command-p11compat ENOENT/,
    );
    await expect(provision(profile([{ run: ["sleep", "5"], timeoutSeconds: 0.2 }]), { runTag: "r" })).rejects.toThrow(
      /setup step `sleep 5` timed out/,
    );
    await expect(
      provision({ ...profile([]), requires: [{ command: "no-such-command-p11compat" }] }, { runTag: "r" }),
    ).rejects.toThrow(/no-such-command-p11compat not found/);
  });
});

describe("start and stop in device profiles are checked when loading", () => {
  const load = (body: string) => {
    const file = path.join(tmpDir("daemons"), "p.yaml");
    writeFileSync(file, `device: p\ntitle: p\nmodule: { paths: [/x.so] }\n${body}`);
    return loadDevice(file, DEVICES);
  };

  it("names the line of a stop in setup, a start in teardown, an unknown or duplicate name", async () => {
    await expect(load("setup:\n  - stop: a\n")).rejects.toThrow(/p\.yaml:5:\d+: `stop` belongs in teardown/);
    await expect(load('teardown:\n  - start: { name: a, run: ["true"] }\n')).rejects.toThrow(
      /p\.yaml:5:\d+: `start` belongs in setup/,
    );
    await expect(
      load("setup:\n  - start: { name: swtpm, run: [swtpm] }\nteardown:\n  - stop: swtmp\n"),
    ).rejects.toThrow(
      /p\.yaml:7:\d+: no daemon named "swtmp" is started in setup; started: swtpm; did you mean 'swtpm'\?/,
    );
    await expect(load("setup:\n  - start: { name: a, run: [x] }\n  - start: { name: a, run: [y] }\n")).rejects.toThrow(
      /a daemon named "a" is already started/,
    );
  });
});
