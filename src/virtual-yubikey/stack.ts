// A virtual YubiKey reachable through PC/SC without touching the machine's own pcscd: the emulator
// (a background process on 127.0.0.1) and a private pcscd that reads its reader configuration from
// DIR and creates its socket under DIR. Clients find it through PCSCLITE_CSOCK_NAME.
//
// pcscd has no option for its socket or pid file (both are /run/pcscd/...), so it runs in a private
// mount namespace (unshare --mount) with DIR/run bound over /run: its socket is DIR/run/pcscd/pcscd.comm
// and nothing under the real /run is created, removed or locked, even when a system pcscd is running.
// /dev/bus/usb is hidden in that namespace, so this pcscd never opens a real reader or YubiKey.
//
// vpcd 0.8 writes each message in two send() calls; with Nagle on pcscd's socket and delayed ACKs
// on ours every APDU waits ~40 ms. A tiny LD_PRELOAD library compiled here with cc sets TCP_NODELAY
// on pcscd's TCP sockets (node cannot set TCP_QUICKACK on its side).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const NODELAY_C = `/* p11compat virtual-yubikey, preloaded into pcscd:
 * 1. TCP_NODELAY on every TCP socket it connects or accepts (vpcd writes length and payload in two
 *    send() calls; with Nagle and delayed ACKs each APDU would wait ~40 ms);
 * 2. vpcd's driver reports two slots per reader; the second would need a second card, and an empty
 *    one makes vpcd 0.8 abort pcscd in client mode. Its IFDHGetCapabilities is wrapped to say one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

static void nodelay(int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int type = 0;
  socklen_t tl = sizeof type;
  if (fd < 0) return;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM) return;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) return;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
  static int (*real)(int, const struct sockaddr *, socklen_t);
  if (!real) real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  int r = real(fd, addr, len);
  nodelay(fd);
  return r;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
  static int (*real)(int, struct sockaddr *, socklen_t *);
  if (!real) real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
  int r = real(fd, addr, len);
  nodelay(r);
  return r;
}

/* pcsc-lite's IFD handler types: RESPONSECODE and DWORD are long and unsigned long. */
#define TAG_IFD_SLOTS_NUMBER 0x0FAE
typedef long (*getcap_fn)(unsigned long, unsigned long, unsigned long *, unsigned char *);
static getcap_fn real_getcap;

static long one_slot(unsigned long lun, unsigned long tag, unsigned long *len, unsigned char *value) {
  long r = real_getcap(lun, tag, len, value);
  if (r == 0 && tag == TAG_IFD_SLOTS_NUMBER && len && *len >= 1 && value && value[0] > 1) value[0] = 1;
  return r;
}

void *dlsym(void *handle, const char *name) {
  static void *(*real)(void *, const char *);
  if (!real) real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
  if (!real) real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
  if (!real) real = (void *(*)(void *, const char *))dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.17");
  if (!real) return 0;
  void *f = real(handle, name);
  if (f && handle != RTLD_NEXT && handle != RTLD_DEFAULT && name && strcmp(name, "IFDHGetCapabilities") == 0) {
    Dl_info info;
    if (dladdr(f, &info) && info.dli_fname && strstr(info.dli_fname, "libifdvpcd")) {
      real_getcap = (getcap_fn)f;
      return (void *)one_slot;
    }
  }
  return f;
}
`;

export interface StartOptions {
  dir: string;
  firmware: string;
  serial?: number;
  /** File holding the PIN to start with (first line); default 123456. */
  pinFile?: string;
  /** Management key to start with, "tdes:HEX" or "aes192:HEX" (default: the factory key). */
  managementKey?: string;
  pcscd?: string;
  /** Skip the TCP_NODELAY library (each APDU then costs ~40 ms). */
  noNodelay?: boolean;
  /** pcscd -x: quit after 60 s without clients (and the card then quits too), so a killed run leaves nothing behind for long. */
  autoExit?: boolean;
  /** Log each APDU (INS, status word) to DIR/card.log. */
  trace?: boolean;
  timeoutMs?: number;
}

export interface StackInfo {
  dir: string;
  socket: string;
  host: string;
  port: number;
  firmware: string;
  serial: number;
  cardPid: number;
  pcscdPid: number;
  nodelay: boolean;
  startMs: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const CLI_ENTRY = path.resolve(here, "../../bin/virtual-yubikey.js");

export const socketPath = (dir: string) => path.join(dir, "run", "pcscd", "pcscd.comm");
const stackFile = (dir: string) => path.join(dir, "stack.json");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  // An exited process waiting for its parent (init, for our detached ones) to reap it is not alive.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return true;
  }
}

/** The command line of a process, to make sure a pid still names what we started. */
function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return "";
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", 'command -v "$0"', cmd], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function compileNodelay(dir: string): string | undefined {
  const cc = which("cc") ?? which("gcc");
  if (!cc) return undefined;
  const src = path.join(dir, "nodelay.c");
  const lib = path.join(dir, "nodelay.so");
  writeFileSync(src, NODELAY_C);
  const r = spawnSync(cc, ["-shared", "-fPIC", "-O2", "-o", lib, src, "-ldl"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`compiling the TCP_NODELAY library failed:\n${r.stderr}`);
  return lib;
}

export interface PcscdOptions {
  /** Private directory: DIR/run is pcscd's /run, so its socket is DIR/run/pcscd/pcscd.comm. */
  dir: string;
  /** Directory of reader configuration files (pcscd -c). */
  readers: string;
  pcscd?: string;
  noNodelay?: boolean;
  autoExit?: boolean;
  /** Where pcscd's output goes (default: inherited). */
  logFile?: string;
}

function findPcscd(given?: string): string {
  const pcscd = given ?? which("pcscd") ?? (existsSync("/usr/sbin/pcscd") ? "/usr/sbin/pcscd" : undefined);
  if (!pcscd) throw new Error("pcscd not found; install it with apt-get install pcscd");
  if (!existsSync("/usr/lib/pcsc/drivers/serial/libifdvpcd.so"))
    throw new Error("vpcd not found; install it with apt-get install vsmartcard-vpcd");
  return pcscd;
}

/**
 * pcscd 2.x built with polkit (Debian 13's 2.3.3) rejects every client when no polkit daemon runs
 * ("Rejected unauthorized PC/SC client"; ykcs11 then answers CKR_DEVICE_ERROR). This pcscd serves
 * only our own card in a namespace of its own, so its polkit check is switched off where it has one.
 */
function polkitFlag(pcscd: string): string[] {
  const help = spawnSync(pcscd, ["--help"], { encoding: "utf8", timeout: 5000 });
  return `${help.stdout ?? ""}${help.stderr ?? ""}`.includes("--disable-polkit") ? ["--disable-polkit"] : [];
}

/**
 * Runs pcscd in the foreground in a private mount namespace (DIR/run bound over /run) with the
 * TCP_NODELAY library preloaded; resolves with its exit code. SIGTERM and SIGINT are passed on.
 */
export async function runPcscd(opts: PcscdOptions): Promise<number> {
  const dir = path.resolve(opts.dir);
  const pcscd = findPcscd(opts.pcscd);
  const unshare = which("unshare");
  if (!unshare) throw new Error("unshare (util-linux) not found: it gives pcscd a private /run");
  mkdirSync(path.join(dir, "run"), { recursive: true });
  const nodelay = opts.noNodelay ? undefined : compileNodelay(dir);
  const privileged = process.getuid?.() === 0;
  // Without root, a user namespace gives the mount privilege (pcscd then runs as root only inside it).
  const ns = privileged
    ? ["--mount", "--propagation", "private"]
    : ["--user", "--map-root-user", "--mount", "--propagation", "private"];
  // USB devices are hidden from this pcscd too: it must serve our reader only, never a real YubiKey
  // (ykcs11 would list it beside ours) nor compete with the system's pcscd for one.
  const script =
    'mount --bind "$0" /run && { [ ! -d /dev/bus/usb ] || mount -t tmpfs -o size=4k,mode=0755 none /dev/bus/usb; } && exec "$1" --foreground --error -c "$2" $3';
  const args = [
    ...ns,
    "--",
    "sh",
    "-c",
    script,
    path.join(dir, "run"),
    pcscd,
    path.resolve(opts.readers),
    [opts.autoExit ? "--auto-exit" : "", ...polkitFlag(pcscd)].join(" "),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, ...(nodelay ? { LD_PRELOAD: nodelay } : {}) };
  delete env.PCSCLITE_CSOCK_NAME;
  const out = opts.logFile ? openSync(opts.logFile, "a") : "inherit";
  const child = spawn(unshare, args, { stdio: ["ignore", out, out], env });
  if (typeof out === "number") closeSync(out);
  const forward = (sig: NodeJS.Signals) => () => void child.kill(sig);
  const onTerm = forward("SIGTERM");
  const onInt = forward("SIGINT");
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", onInt);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      resolve(code ?? (signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1));
    });
  });
}

/**
 * Starts the card and pcscd in the background (for standalone use and tests; p11compat's device
 * profile runs the same two commands as daemons of its own). Resolves once pcscd's socket exists.
 */
export async function startStack(opts: StartOptions): Promise<StackInfo> {
  const t0 = Date.now();
  const dir = path.resolve(opts.dir);
  const timeout = opts.timeoutMs ?? 30_000;
  if (existsSync(stackFile(dir))) {
    const old = JSON.parse(readFileSync(stackFile(dir), "utf8")) as StackInfo;
    if (alive(old.pcscdPid) || alive(old.cardPid))
      throw new Error(
        `a virtual YubiKey already runs from ${dir} (pids ${old.cardPid}, ${old.pcscdPid}); stop it first`,
      );
  }
  findPcscd(opts.pcscd);
  mkdirSync(path.join(dir, "readers"), { recursive: true });

  // 1. The card, in the background, on a free pair of loopback ports; it writes the reader configuration.
  const ready = path.join(dir, "card.json");
  rmSync(ready, { force: true });
  const cardLog = path.join(dir, "card.log");
  const args = [
    CLI_ENTRY,
    "serve",
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--firmware",
    opts.firmware,
    "--ready-file",
    ready,
  ];
  args.push(
    "--reader-conf",
    path.join(dir, "readers", "virtual-yubikey"),
    "--stats-file",
    path.join(dir, "stats.json"),
    "--exit-after-disconnect",
  );
  if (opts.serial !== undefined) args.push("--serial", String(opts.serial));
  if (opts.pinFile) args.push("--pin-file", opts.pinFile);
  if (opts.managementKey) args.push("--management-key", opts.managementKey);
  if (opts.trace) args.push("--trace");
  const cardPid = spawnDetached(process.execPath, args, cardLog);
  let info: { port: number; host: string; serial: number; firmware: string } | undefined;
  for (const deadline = Date.now() + timeout; !info; await sleep(20)) {
    if (existsSync(ready)) info = JSON.parse(readFileSync(ready, "utf8")) as typeof info;
    else if (!alive(cardPid)) throw new Error(`the virtual YubiKey did not start:\n${tail(cardLog)}`);
    else if (Date.now() > deadline) {
      process.kill(cardPid, "SIGKILL");
      throw new Error(`the virtual YubiKey did not start within ${timeout} ms:\n${tail(cardLog)}`);
    }
  }

  // 2. pcscd with only that reader, in a private mount namespace.
  const pcscdLog = path.join(dir, "pcscd.log");
  const pargs = [CLI_ENTRY, "pcscd", "--dir", dir, "--readers", path.join(dir, "readers")];
  if (opts.autoExit) pargs.push("--auto-exit");
  if (opts.noNodelay) pargs.push("--no-nodelay");
  if (opts.pcscd) pargs.push("--pcscd", opts.pcscd);
  const pcscdPid = spawnDetached(process.execPath, pargs, pcscdLog);
  const stack: StackInfo = {
    dir,
    socket: socketPath(dir),
    host: info.host,
    port: info.port,
    firmware: info.firmware,
    serial: info.serial,
    cardPid,
    pcscdPid,
    nodelay: !opts.noNodelay,
    startMs: 0,
  };
  writeFileSync(stackFile(dir), `${JSON.stringify(stack, null, 2)}\n`);
  // pcscd creates its socket once every reader is initialised.
  for (const deadline = Date.now() + timeout; !existsSync(stack.socket); await sleep(10)) {
    if (!alive(pcscdPid) || Date.now() > deadline) {
      const why = alive(pcscdPid) ? `pcscd did not get ready within ${timeout} ms` : "pcscd exited";
      await stopStack(dir).catch(() => {});
      throw new Error(`${why}:\n${tail(pcscdLog)}`);
    }
  }
  stack.startMs = Date.now() - t0;
  writeFileSync(stackFile(dir), `${JSON.stringify(stack, null, 2)}\n`);
  return stack;
}

/** A background process in a process group of its own, output to a log file. */
function spawnDetached(cmd: string, args: string[], log: string): number {
  const out = openSync(log, "a");
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  child.unref();
  return child.pid!;
}

async function terminate(pid: number, marker: string, graceMs: number): Promise<"stopped" | "gone" | "killed"> {
  if (!alive(pid)) return "gone";
  // A recycled pid would name another process: only signal what still looks like ours.
  if (!cmdline(pid).includes(marker)) return "gone";
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig); // its process group: the wrapper and pcscd
    } catch {
      process.kill(pid, sig);
    }
  };
  signal("SIGTERM");
  for (const deadline = Date.now() + graceMs; Date.now() < deadline; await sleep(10)) if (!alive(pid)) return "stopped";
  signal("SIGKILL");
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(10);
  return "killed";
}

/** Stops pcscd first (the card cannot outlive it usefully), then the card. Safe to call twice. */
export async function stopStack(dirArg: string): Promise<{ pcscd: string; card: string; stats?: unknown }> {
  const dir = path.resolve(dirArg);
  if (!existsSync(stackFile(dir))) return { pcscd: "gone", card: "gone" };
  const s = JSON.parse(readFileSync(stackFile(dir), "utf8")) as StackInfo;
  const pcscd = await terminate(s.pcscdPid, "virtual-yubikey.js pcscd", 5000);
  const card = await terminate(s.cardPid, "virtual-yubikey.js serve", 5000);
  let stats: unknown;
  try {
    stats = JSON.parse(readFileSync(path.join(dir, "stats.json"), "utf8"));
  } catch {
    /* no statistics */
  }
  rmSync(stackFile(dir), { force: true });
  return { pcscd, card, stats };
}
