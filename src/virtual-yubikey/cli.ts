// virtual-yubikey: a YubiKey PIV card without hardware, for PC/SC clients (ykcs11, yubico-piv-tool,
// OpenSC, ykman) through vpcd and a private pcscd.
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { ALG, FAMILY_DEFAULTS, firmwareProfile } from "./firmware.js";
import { readerConf, startCard } from "./server.js";
import { runPcscd, socketPath, startStack, stopStack } from "./stack.js";
import { capture } from "./capture.js";
import { formatReplay, replay } from "./replay.js";

const firmwareHelp = `firmware to emulate: ${Object.values(FAMILY_DEFAULTS).join(", ")} or any patch level of 4.3, 5.2, 5.4, 5.7`;
const defaultFirmware = process.env.VIRTUAL_YUBIKEY_FIRMWARE || FAMILY_DEFAULTS["5.4"];

function readPin(file: string | undefined): string | undefined {
  if (!file) return undefined;
  const pin = readFileSync(file, "utf8").split("\n")[0]!.trim();
  if (pin.length < 6 || pin.length > 8) throw new Error(`the PIN in ${file} must be 6 to 8 characters`);
  return pin;
}

const KEY_ALGORITHMS: Record<string, { alg: number; bytes: number }> = {
  tdes: { alg: ALG.TDES, bytes: 24 },
  aes128: { alg: ALG.AES128, bytes: 16 },
  aes192: { alg: ALG.AES192, bytes: 24 },
  aes256: { alg: ALG.AES256, bytes: 32 },
};

/** "tdes:0102...", "aes192:..." */
function parseManagementKey(v: string): { algorithm: number; key: Buffer } {
  const m = /^(tdes|aes128|aes192|aes256):([0-9a-fA-F]+)$/.exec(v);
  const spec = m ? KEY_ALGORITHMS[m[1]!] : undefined;
  if (!m || !spec || m[2]!.length !== spec.bytes * 2)
    throw new Error(`--management-key takes ALG:HEX with ALG tdes (24 bytes), aes128, aes192 or aes256`);
  return { algorithm: spec.alg, key: Buffer.from(m[2]!, "hex") };
}

function checkFirmware(v: string): string {
  firmwareProfile(v);
  return v;
}

interface ServeFlags {
  host: string;
  port: number;
  firmware: string;
  serial?: number;
  pinFile?: string;
  managementKey?: ReturnType<typeof parseManagementKey>;
  readyFile?: string;
  readerConf?: string;
  statsFile?: string;
  exitAfterDisconnect?: boolean;
  trace?: boolean;
}

const program = new Command()
  .name("virtual-yubikey")
  .description(
    "A virtual YubiKey (PIV application, firmware 4.3 to 5.7) that PC/SC clients reach through vpcd and pcscd.\n" +
      "Factory state: PIN 123456, PUK 12345678, management key 010203040506070801020304050607080102030405060708\n" +
      "(3DES; AES-192 on 5.7). Keys and objects live in memory and vanish when the card stops.",
  )
  .showHelpAfterError();

program
  .command("start")
  .description(
    "start the card and a private pcscd (socket DIR/run/pcscd/pcscd.comm; the system's pcscd is not touched), " +
      "then print the environment clients need",
  )
  .requiredOption("--dir <dir>", "private directory for the reader configuration, sockets, logs and pids")
  .addOption(new Option("--firmware <version>", firmwareHelp).default(defaultFirmware).argParser(checkFirmware))
  .option("--serial <n>", "serial number (default: random)", (v) => Number(v))
  .option("--pin-file <file>", "start with the PIN in this file instead of 123456")
  .option(
    "--management-key <alg:hex>",
    "start with this management key, e.g. tdes:0102...08 (ykcs11 2.2.0 logs in as SO with 3DES only; 5.7's factory key is AES-192)",
  )
  .option(
    "--auto-exit",
    "let pcscd quit after 60 s without clients (the card follows), so nothing outlives a killed run",
  )
  .option("--no-nodelay", "do not compile the TCP_NODELAY preload library (every APDU then takes ~40 ms)")
  .option("--trace", "log every APDU's INS and status word to DIR/card.log")
  .action(
    async (o: {
      dir: string;
      firmware: string;
      serial?: number;
      pinFile?: string;
      managementKey?: string;
      autoExit?: boolean;
      nodelay: boolean;
      trace?: boolean;
    }) => {
      if (o.managementKey) parseManagementKey(o.managementKey);
      const s = await startStack({
        dir: o.dir,
        firmware: o.firmware,
        serial: o.serial,
        pinFile: o.pinFile,
        managementKey: o.managementKey,
        autoExit: o.autoExit,
        noNodelay: !o.nodelay,
        trace: o.trace,
      });
      process.stdout.write(`PCSCLITE_CSOCK_NAME=${s.socket}\n`);
      process.stderr.write(
        `virtual YubiKey ${s.firmware} serial ${s.serial} on ${s.host}:${s.port}, pcscd pid ${s.pcscdPid}, card pid ${s.cardPid}, ` +
          `ready in ${s.startMs} ms${s.nodelay ? "" : " (no TCP_NODELAY: slow)"}\n`,
      );
    },
  );

program
  .command("stop")
  .description("stop the pcscd and the card started with --dir DIR (and nothing else)")
  .requiredOption("--dir <dir>", "the directory given to start")
  .option("--stats", "print the card's APDU statistics")
  .action(async (o: { dir: string; stats?: boolean }) => {
    const r = await stopStack(o.dir);
    process.stderr.write(`pcscd ${r.pcscd}, card ${r.card}\n`);
    if (o.stats && r.stats) process.stdout.write(`${JSON.stringify(r.stats, null, 2)}\n`);
  });

program
  .command("env")
  .description("print the environment for clients of the card started with --dir DIR")
  .requiredOption("--dir <dir>", "the directory given to start")
  .action((o: { dir: string }) => void process.stdout.write(`PCSCLITE_CSOCK_NAME=${socketPath(o.dir)}\n`));

program
  .command("serve")
  .description("run the card in the foreground, listening for vpcd (DEVICENAME host:PORT) on PORT and PORT+1")
  .option("--host <host>", "address to listen on", "127.0.0.1")
  .option("--port <port>", "first of two ports (0: pick free ones)", (v) => Number(v), 35963)
  .addOption(new Option("--firmware <version>", firmwareHelp).default(defaultFirmware).argParser(checkFirmware))
  .option("--serial <n>", "serial number (default: random)", (v) => Number(v))
  .option("--pin-file <file>", "start with the PIN in this file instead of 123456")
  .option(
    "--management-key <alg:hex>",
    "start with this management key, e.g. tdes:0102...08 (default: the factory key, 3DES; AES-192 on 5.7)",
    parseManagementKey,
  )
  .option("--ready-file <file>", "write {pid, host, port, firmware, serial} here once listening")
  .option("--reader-conf <file>", "write the pcscd reader configuration for this card here (before the ready file)")
  .option("--stats-file <file>", "write APDU statistics here on exit and on SIGUSR2")
  .option("--exit-after-disconnect", "exit when pcscd disconnects (vpcd in host:port mode cannot reconnect)")
  .option("--trace", "log every APDU's INS and status word (never data)")
  .action(async (o: ServeFlags) => {
    const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const running = await startCard({
      host: o.host,
      port: o.port,
      firmware: o.firmware,
      serial: o.serial,
      pin: readPin(o.pinFile),
      managementKey: o.managementKey,
      readyFile: o.readyFile,
      readerConfFile: o.readerConf,
      statsFile: o.statsFile,
      exitAfterDisconnect: o.exitAfterDisconnect,
      trace: o.trace,
      log,
    });
    log(
      `virtual YubiKey ${running.card.firmware.version.join(".")} serial ${running.card.piv.serial} listening on ${running.host}:${running.port} (+1: blank card)`,
    );
    if (!o.readyFile && !o.readerConf)
      process.stdout.write(`# reader.conf for pcscd:\n${readerConf(running.host, running.port)}`);
    const stop = () => {
      void running.close();
      setTimeout(() => process.exit(0), 50).unref();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });

program
  .command("pcscd")
  .description(
    "run pcscd in the foreground with only the readers in --readers, in a private mount namespace whose /run is DIR/run " +
      "(socket DIR/run/pcscd/pcscd.comm), with TCP_NODELAY on its sockets (a preload library compiled with cc)",
  )
  .requiredOption("--dir <dir>", "private directory (pcscd's /run, the compiled library)")
  .requiredOption("--readers <dir>", "directory of reader configuration files (as written by serve --reader-conf)")
  .option("--pcscd <path>", "pcscd binary")
  .option("--auto-exit", "quit after 60 s without clients")
  .option("--no-nodelay", "do not compile and preload the TCP_NODELAY library")
  .action(async (o: { dir: string; readers: string; pcscd?: string; autoExit?: boolean; nodelay: boolean }) => {
    const code = await runPcscd({
      dir: o.dir,
      readers: o.readers,
      pcscd: o.pcscd,
      autoExit: o.autoExit,
      noNodelay: !o.nodelay,
    });
    process.exit(code);
  });

program
  .command("capture")
  .description(
    "run COMMAND with pcsc-lite's spy (libpcsclite-dev) in front of PC/SC and write its trace to --out, " +
      "with PINs, PUKs, management keys and imported keys redacted before anything is written",
  )
  .requiredOption("--out <file>", "the trace file to write (mode 0600)")
  .argument("<command...>", "the client to run, after --, e.g. -- p11compat run --device yubikey")
  .action(async (command: string[], o: { out: string }) => {
    const r = await capture(o.out, command);
    process.stderr.write(
      `${o.out}: ${r.lines} lines, ${r.redactions} buffers redacted; the command exited with ${r.code}\n`,
    );
    process.exit(r.code);
  });

program
  .command("replay")
  .description(
    "replay a pcsc-spy trace (from `capture`, or pcsc-spy's raw stream) against a virtual YubiKey of the trace's firmware " +
      "and list every status word and response shape that differs; exit code 1 when something differs",
  )
  .argument("<trace>", "the trace file")
  .addOption(
    new Option(
      "--firmware <version>",
      "firmware to replay against (default: what the trace's GET VERSION answered)",
    ).argParser(checkFirmware),
  )
  .option("--json", "print the result as JSON")
  .action((trace: string, o: { firmware?: string; json?: boolean }) => {
    const r = replay(readFileSync(trace, "utf8"), { firmware: o.firmware });
    process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatReplay(r));
    process.exit(r.differences.length ? 1 : 0);
  });

program.parseAsync().catch((err: Error) => {
  process.stderr.write(`virtual-yubikey: ${err.message}\n`);
  process.exit(1);
});
