// The command line: parses options and hands over to the modules that do the work.
import { Command, Option } from "commander";
import { TOOL } from "../tool.js";
import { wholeNumber } from "./numbers.js";
import { MAX_SUITE_CASES } from "../suite/limits.js";

/**
 * A command's module loads only when the command runs: `--help` (of any command) needs only this table,
 * and each command pays only for what it uses (pkcs11js, ajv, the schemas ...).
 */
function lazy<M, K extends keyof M>(load: () => Promise<M>, name: K): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    await ((await load())[name] as (...a: unknown[]) => unknown)(...args);
  };
}
const info = () => import("./info.js");
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** --max-cases, for the commands that load suites. */
const maxCases = [
  "--max-cases <n>",
  `refuse a suite that expands to more cases than this (counted before exclude; default ${MAX_SUITE_CASES.toLocaleString("en-US")})`,
  wholeNumber(1),
  MAX_SUITE_CASES,
] as const;

const program = new Command()
  .name("p11compat")
  .description(
    "Tells whether a PKCS#11 token works for you, and when it does not, which call, mechanism and attribute fails and why.",
  )
  .version(TOOL.version)
  .showHelpAfterError();

program
  .command("run")
  .description(
    "run suites against a token and write a JSON + Markdown report (default: every suite on a fresh SoftHSM token)",
  )
  .option(
    "-d, --device <name|file>",
    "device profile: a name from devices/, a YAML file, or p11-kit:NAME (a module registered with p11-kit, its existing token); default softhsm, or with --module the module's existing token",
  )
  .option("-s, --suite <name|file...>", "suites to run: names from suites/ or YAML files (default: all)")
  .option("-f, --filter <text>", "only cases whose id contains this text")
  .option("-o, --out <dir>", "directory for the report", "reports")
  .option(
    "-m, --module <path|uri>",
    "PKCS#11 module (a path, or pkcs11:?module-name=NAME / module-path=PATH); without --device: test the token already in it (no set-up, session objects only)",
  )
  .option("--slot <id>", "the token in this slot (CK_SLOT_ID, as pkcs11-tool -L shows it)")
  .option("--token <label|uri>", "the token with this label, or an RFC 7512 URI: 'pkcs11:token=Foo;serial=1234'")
  .option(
    "--pin-env <var>",
    "existing token: the user PIN is in this environment variable (default $P11COMPAT_PIN, else a hidden prompt)",
  )
  .option(
    "--allow-token-objects",
    "existing token: let cases create token objects (CKA_TOKEN true) on it; each is destroyed afterwards",
  )
  .addOption(
    new Option("--trace <which>", "which cases keep their PKCS#11 call trace")
      .choices(["failed", "all", "none"])
      .default("failed"),
  )
  .option("--junit <file>", "also write the results as JUnit XML")
  .option(
    "--diagnose <calls>",
    "extra calls diagnosis may spend on each failed template call (0: off)",
    wholeNumber(0, " (0 turns diagnosis off)"),
    64,
  )
  .option("-q, --quiet", "no progress, only the summary")
  .option(
    "--serial <n>",
    "use the token with this serial (a YubiKey profile refuses to guess among several); also confirms --allow-overwrite",
  )
  .option(
    "--allow-overwrite <slots>",
    "YubiKey: slots (e.g. 82,9a) that may be written although they hold a key or certificate; needs the YubiKey's serial (--serial or token.serial)",
  )
  .option(
    "--workers <n>",
    "run independent suites in up to this many workers at once (never more than the device profile's workers; 1: one at a time)",
    wholeNumber(1),
  )
  .option(...maxCases)
  .option("--plan", "list the keys the run would make and the slots it would write, then exit without writing anything")
  .action(lazy(() => import("./run.js"), "runCommand"));

program
  .command("record")
  .description(
    "run a client (any program that loads a PKCS#11 module) on a fresh throwaway token with OpenSC's pkcs11-spy in between, and write what it did as a client profile (suites/clients/ format); PINs and secret values never reach any file",
  )
  .usage("[options] -- <command> [args...]   ({module}: the module path to give the client, {pin}: the token's PIN)")
  .argument("<command>", "the client program")
  .argument("[args...]", "its arguments; {module} and {pin} are filled in")
  .option("-d, --device <name|file>", "a throwaway device profile (the token is created for the recording)", "softhsm")
  .option("-o, --out <file>", "the profile to write (never over an existing file)", "recorded.yaml")
  .option("-m, --module <path>", "PKCS#11 module the spy forwards to, instead of the profile's")
  .option(
    "--module-env <var>",
    "also set this environment variable to the module path (for clients that read it from there)",
  )
  .option(
    "--twice",
    "record twice, each on a fresh token, and replay values that differ (random ids, times) as fresh random bytes",
  )
  .option("--timeout <seconds>", "kill the client after this long", "300")
  .action(lazy(() => import("./record.js"), "recordCommand"));

program
  .command("exec")
  .description(
    "run a client on a fresh throwaway token of a device profile (set up, the client, torn down): does my program work with this token? The exit code is the client's",
  )
  .usage("[options] -- <command> [args...]   ({module}: the token's module path, {pin}: its PIN)")
  .argument("<command>", "the client program")
  .argument("[args...]", "its arguments; {module} and {pin} are filled in")
  .option("-d, --device <name|file>", "a throwaway device profile", "softhsm")
  .option("-m, --module <path>", "PKCS#11 module to load instead of the profile's")
  .option("--module-env <var>", "also set this environment variable to the module path")
  .option("--timeout <seconds>", "kill the client after this long", "300")
  .action(lazy(() => import("./record.js"), "execCommand"));

program
  .command("doctor")
  .description(
    "what stands between a module and a usable token, in one screen: the file, its loading, C_Initialize, slots and tokens, PIN state, a login with the given PIN (once, never on a final try), mechanisms, pcscd for a YubiKey; exit 0 when the token is usable",
  )
  .option("-m, --module <path|uri>", "the PKCS#11 module (a path, or pkcs11:?module-name=NAME / module-path=PATH)")
  .option("-d, --device <name|file>", "a device profile (its set-up runs first), or p11-kit:NAME")
  .option("--pin-env <var>", "try a login with the user PIN in this environment variable (once; never on a final try)")
  .option("--slot <id>", "the token in this slot (CK_SLOT_ID)")
  .option("--token <label|uri>", "the token with this label, or an RFC 7512 pkcs11: URI")
  .option("--serial <s>", "the token with this serial")
  .action(lazy(() => import("./doctor.js"), "doctorCommand"));

program
  .command("yubikey")
  .description(
    "list the YubiKeys ykcs11 sees: serial, firmware, model, PIN and management key state, and which PIV slots are free (reads only)",
  )
  .option("-d, --device <name|file>", "a YubiKey device profile", "yubikey")
  .option("-m, --module <path>", "PKCS#11 module to load instead of the profile's")
  .option("--serial <n>", "only this YubiKey")
  .action(lazy(info, "yubikeyCommand"));

program
  .command("suites")
  .description("validate and list suites with how many cases each expands to")
  .option("-s, --suite <name|file...>", "only these suites")
  .option("--ids", "also list every case id")
  .option(...maxCases)
  .action(lazy(info, "suitesCommand"));

program
  .command("devices")
  .description("list device profiles and whether each is usable on this machine (and if not, why)")
  .action(lazy(info, "devicesCommand"));

program
  .command("summary")
  .description("print the summary of a report (also of an interrupted one) and rewrite its Markdown")
  .argument("<report>", "a report JSON file")
  .action(lazy(info, "summaryCommand"));

program
  .command("diff")
  .description(
    "compare two reports case by case and mechanism by mechanism; with --baseline, exit 1 when a case that passed in OLD does not pass in NEW",
  )
  .argument("<old>", "a report JSON file (the baseline)")
  .argument("<new>", "a report JSON file")
  .option("--baseline", "regression gate: list and fail on cases that passed in <old> and do not pass in <new>")
  .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json"]).default("text"))
  .option("--out <file>", "write the output to a file")
  .action(lazy(() => import("./diff.js"), "diffCommand"));

program
  .command("report")
  .description(
    "the matrix across reports (tokens), matched by case id: a short text summary, or with --html one self-contained page with filters and each cell's evidence",
  )
  .argument("[reports...]", "report JSON files, one per token (column)")
  .option("--html <file>", "write the matrix as one self-contained HTML file (works offline)")
  .option("--speed <reports...>", "p11compat speed reports for the page's Speed view (ops/s per token, side by side)")
  .option(
    "--clients <reports...>",
    "reports of client profile runs for the page's Clients view (default: the client profiles in <reports>)",
  )
  .action(lazy(() => import("./report.js"), "reportCommand"));

program
  .command("clients")
  .description(
    "will each client work with each token? The client x token verdicts (works / works with caveats / does not work) of reports that ran client profiles (suites/clients/), with blocking steps, attributes, login and the smallest change",
  )
  .argument("<reports...>", "report JSON files, one per token (column)")
  .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json"]).default("text"))
  .option("--out <file>", "write the output to a file")
  .option(
    "--expect <file>",
    "exit 1 when a verdict differs from this file's (the JSON of --format json, e.g. reports/reference/clients.json)",
  )
  .action(lazy(() => import("./clients.js"), "clientsCommand"));

program
  .command("explain")
  .description("print one case of a report in full: outcome, diagnosis, what the CK_RV means, call trace")
  .argument("<report>", "a report JSON file")
  .argument("<case-id>", "the case id (or a unique part of it)")
  .action(lazy(info, "explainCommand"));

program
  .command("schema")
  .description(
    "print the JSON Schemas for suites, devices and reports, or --write them to schema/ (the report's is generated from src/contract/report.ts)",
  )
  .option("--write", "write schema/*.schema.json")
  .action(lazy(info, "schemaCommand"));

program
  .command("speed")
  .description(
    "how fast is this token: operations per second and latency (median, p99) per mechanism and key, each result checked, beside a raw pkcs11js loop on the same operation",
  )
  .option("-d, --device <name|file>", "device profile: a name from devices/ or a YAML file", "softhsm")
  .option("-m, --module <path>", "PKCS#11 module to load instead of the profile's")
  .option("--mechanism <CKM_...>", "only this mechanism (repeat for more; default: all measured ones)", collect)
  .option(
    "--sessions <n>",
    "also measure this many sessions at once, one worker process each (default and most: the profile's workers)",
  )
  .option("--seconds <s>", "seconds of measuring per operation and setting", "1")
  .option("-o, --out <dir>", "directory for the report", "reports")
  .option("--key-generations <n>", "YubiKey: key generations per key type to time (flash wear; default 2)")
  .option("--serial <n>", "use the token with this serial (as for run)")
  .option("--allow-overwrite <slots>", "YubiKey: slots that may be written although occupied (as for run)")
  .option("-q, --quiet", "no progress, only the notices, the table and the report's path")
  .action(lazy(() => import("./speed.js"), "speedCommand"));

program
  .command("bench")
  .description(
    "measure the harness against raw pkcs11js on SoftHSM: per operation, start-up, and the default run as a whole process",
  )
  .option("-n, --iterations <n>", "iterations per operation", wholeNumber(1), 200)
  .option(
    "-r, --runs <n>",
    "rounds of a default run, a one-worker run and a raw pkcs11js process making the same calls",
    wholeNumber(1),
    3,
  )
  .option("--startup-runs <n>", "runs of node -e 0 and of p11compat --help", wholeNumber(1), 15)
  .option("--no-suites", "skip the default runs; time only the per-operation comparison and start-up")
  .option("--json", "print the figures as JSON instead of tables")
  .action(lazy(() => import("./bench.js"), "benchCommand"));

try {
  await program.parseAsync();
} catch (err) {
  (await import("./output.js")).fail(err);
}
