// The reports' JSON Schemas: schema/report.schema.json from the types in src/contract/report.ts and
// schema/speed.schema.json from src/contract/speed.ts (so the files cannot drift from the contract; a
// test compares them), read back to check reports.
import { readFileSync } from "node:fs";
import path from "node:path";
import type * as SchemaGenerator from "ts-json-schema-generator";
import { ROOT_DIR } from "../tool.js";

export const REPORT_SCHEMA_FILE = path.join(ROOT_DIR, "schema", "report.schema.json");
export const SPEED_SCHEMA_FILE = path.join(ROOT_DIR, "schema", "speed.schema.json");
const TSCONFIG = path.join(ROOT_DIR, "tsconfig.json");

/** Each generated schema: its type, the contract file that declares it, and what the schema says about itself. */
const GENERATED = {
  report: {
    type: "Report",
    file: REPORT_SCHEMA_FILE,
    contract: "report.ts",
    title: "p11compat report",
    description: "A p11compat run's JSON report (schemaVersion 1): the token, its mechanisms, and one result per case.",
  },
  speed: {
    type: "SpeedReport",
    file: SPEED_SCHEMA_FILE,
    contract: "speed.ts",
    title: "p11compat speed report",
    description:
      "A `p11compat speed` report (schemaVersion 1, kind speed): operations per second and latency per operation, each result checked, beside a raw pkcs11js loop.",
  },
} as const;

const committed = new Map<string, object>();
const load = (file: string) => {
  let schema = committed.get(file);
  if (!schema) committed.set(file, (schema = JSON.parse(readFileSync(file, "utf8")) as object));
  return schema;
};

/** The committed schema (what readReport checks against). */
export function reportSchema(): object {
  return load(REPORT_SCHEMA_FILE);
}

/** The committed speed schema (what readSpeedReport checks against). */
export function speedSchema(): object {
  return load(SPEED_SCHEMA_FILE);
}

/** The report schema as the types say it is now: needs the dev dependencies (ts-json-schema-generator, typescript). */
export function generateReportSchema(): Promise<string> {
  return generateSchema("report");
}

export function generateSpeedSchema(): Promise<string> {
  return generateSchema("speed");
}

async function generateSchema(which: keyof typeof GENERATED): Promise<string> {
  const g = GENERATED[which];
  // The type import above is erased: the module loads only here, and only when asked for.
  let generator: typeof SchemaGenerator;
  try {
    generator = await import("ts-json-schema-generator");
  } catch {
    throw new Error(
      `generating ${path.relative(ROOT_DIR, g.file)} needs the dev dependencies (ts-json-schema-generator): run npm ci in a checkout`,
    );
  }
  // skipTypeCheck: tsc --noEmit checks the types; the generator only needs their shapes (and is 5x faster).
  const schema = generator
    .createGenerator({
      path: path.join(ROOT_DIR, "src", "contract", g.contract),
      tsconfig: TSCONFIG,
      type: g.type,
      skipTypeCheck: true,
      additionalProperties: false,
      topRef: false,
    })
    .createSchema(g.type) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  const head = {
    $schema,
    title: g.title,
    description: g.description,
    $comment: `Generated from src/contract/${g.contract} by \`npm run schema\` (p11compat schema --write); do not edit.`,
  };
  return `${JSON.stringify({ ...head, ...rest }, null, 2)}\n`;
}
