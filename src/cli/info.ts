// The informational commands: suites, devices, summary, schema, explain.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { listDevices, loadDevice } from "../device/load.js";
import { findModule, missingRequirements } from "../device/provision.js";
import { DeviceError } from "../device/model.js";
import { p11kitModules } from "../device/p11kit.js";
import { loadSuites } from "../suite/load.js";
import { expandSuite } from "../suite/expand.js";
import { schemaJson } from "../suite/schema.js";
import { deviceSchemaJson } from "../device/schema.js";
import { readReport } from "../report/read.js";
import { writeMarkdown } from "../report/markdown.js";
import { REPORT_SCHEMA_FILE, SPEED_SCHEMA_FILE, generateReportSchema, generateSpeedSchema } from "../report/schema.js";
import { summaryTable } from "../report/summary.js";
import { ROOT } from "../tool.js";
import { explainCase } from "../report/explain.js";
import { UsageError } from "./output.js";
import { describeDevice } from "../runner/preflight.js";
import { DEVICES_DIR, SUITES_DIR } from "./run.js";

export async function suitesCommand(flags: { suite?: string[]; ids?: boolean; maxCases: number }): Promise<void> {
  const suites = await loadSuites(flags.suite ?? [], SUITES_DIR, { maxCases: flags.maxCases });
  let total = 0;
  const width = Math.max(...suites.map((s) => s.id.length));
  for (const suite of suites) {
    const cases = expandSuite(suite);
    total += cases.length;
    process.stdout.write(`${suite.id.padEnd(width)}  ${String(cases.length).padStart(5)}  ${suite.title}\n`);
    if (flags.ids) for (const c of cases) process.stdout.write(`    ${c.id}\n`);
  }
  process.stdout.write(`${"total".padEnd(width)}  ${String(total).padStart(5)}\n`);
}

export async function devicesCommand(): Promise<void> {
  for (const file of await listDevices(DEVICES_DIR)) {
    const profile = await loadDevice(file, DEVICES_DIR);
    const problems = await missingRequirements(profile);
    let module = "";
    try {
      module = await findModule(profile);
    } catch (err) {
      problems.unshift((err as Error).message);
    }
    const status = problems.length ? `not usable: ${problems.join("; ")}` : `usable (${module})`;
    process.stdout.write(`${profile.id}: ${profile.title}\n    ${status}\n`);
  }
  // Read from p11-kit's configuration, not `p11-kit list-modules`, which loads (and initialises) every module.
  const registered = p11kitModules();
  process.stdout.write(
    `\nModules registered with p11-kit (an existing token: --device p11-kit:NAME):${registered.length ? "" : " none"}\n`,
  );
  for (const m of registered)
    process.stdout.write(
      `p11-kit:${m.name}: ${m.path}${existsSync(m.path) ? "" : " (not installed)"}\n    from ${m.file}\n`,
    );
  process.stdout.write(
    "\nAny other module: p11compat run --module PATH (its existing token); p11compat doctor --module PATH\n",
  );
}

export async function yubikeyCommand(flags: { device: string; module?: string; serial?: string }): Promise<void> {
  const profile = await loadDevice(flags.device, DEVICES_DIR);
  const listing = await describeDevice(profile, { modulePath: flags.module, serial: flags.serial });
  if (listing === undefined)
    throw new DeviceError(`${profile.id} is not a YubiKey profile (it has no yubikey section); try --device yubikey`);
  process.stdout.write(`${listing}\n`);
}

export async function summaryCommand(file: string): Promise<void> {
  const report = readReport(file);
  const markdownPath = writeMarkdown(report, file);
  const note =
    report.status === "complete"
      ? ""
      : ` (run ${report.status}: ${report.cases.length} of ${report.run.caseCount} cases)`;
  process.stdout.write(`${report.device.profile}${note}\n\n${summaryTable(report)}\n\nsummary: ${markdownPath}\n`);
}

export async function schemaCommand(flags: { write?: boolean }): Promise<void> {
  // The report's schema is generated from its TypeScript types, which needs the dev dependencies: only to write it.
  const generated = (make: () => Promise<string>, file: string) =>
    flags.write
      ? make().catch((err: Error) => Promise.reject(new UsageError(err.message)))
      : readFileSync(file, "utf8");
  const files = {
    "suite.schema.json": schemaJson(),
    "device.schema.json": deviceSchemaJson(),
    "report.schema.json": await generated(generateReportSchema, REPORT_SCHEMA_FILE),
    "speed.schema.json": await generated(generateSpeedSchema, SPEED_SCHEMA_FILE),
  };
  for (const [name, json] of Object.entries(files)) {
    if (flags.write) {
      const target = fileURLToPath(new URL(`schema/${name}`, ROOT));
      writeFileSync(target, json);
      process.stdout.write(`wrote ${target}\n`);
    } else process.stdout.write(json);
  }
}

export async function explainCommand(file: string, id: string): Promise<void> {
  const report = readReport(file);
  const exact = report.cases.find((c) => c.id === id);
  const matches = exact ? [exact] : report.cases.filter((c) => c.id.includes(id));
  if (matches.length !== 1) {
    const listed = matches
      .slice(0, 10)
      .map((c) => `  ${c.id}`)
      .join("\n");
    throw new UsageError(
      matches.length
        ? `"${id}" matches ${matches.length} cases:\n${listed}`
        : `no case "${id}" in ${file}; \`p11compat summary ${file}\` lists them`,
    );
  }
  process.stdout.write(explainCase(report, matches[0]!));
}
