// The report's JSON Schema: schema/report.schema.json, generated from the types in src/contract/report.ts
// (so the file cannot drift from the contract; a test compares them), and read back to check reports.
import { readFileSync } from "node:fs";
import path from "node:path";
import type * as SchemaGenerator from "ts-json-schema-generator";
import { ROOT_DIR } from "../tool.js";

export const REPORT_SCHEMA_FILE = path.join(ROOT_DIR, "schema", "report.schema.json");
const CONTRACT = path.join(ROOT_DIR, "src", "contract", "report.ts");
const TSCONFIG = path.join(ROOT_DIR, "tsconfig.json");

let committed: object | undefined;

/** The committed schema (what readReport checks against). */
export function reportSchema(): object {
  return (committed ??= JSON.parse(readFileSync(REPORT_SCHEMA_FILE, "utf8")) as object);
}

/** The schema as the types say it is now: needs the dev dependencies (ts-json-schema-generator, typescript). */
export async function generateReportSchema(): Promise<string> {
  // The type import above is erased: the module loads only here, and only when asked for.
  let generator: typeof SchemaGenerator;
  try {
    generator = await import("ts-json-schema-generator");
  } catch {
    throw new Error(
      "generating schema/report.schema.json needs the dev dependencies (ts-json-schema-generator): run npm ci in a checkout",
    );
  }
  // skipTypeCheck: tsc --noEmit checks the types; the generator only needs their shapes (and is 5x faster).
  const schema = generator
    .createGenerator({
      path: CONTRACT,
      tsconfig: TSCONFIG,
      type: "Report",
      skipTypeCheck: true,
      additionalProperties: false,
      topRef: false,
    })
    .createSchema("Report") as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  const head = {
    $schema,
    title: "p11compat report",
    description: "A p11compat run's JSON report (schemaVersion 1): the token, its mechanisms, and one result per case.",
    $comment: "Generated from src/contract/report.ts by `npm run schema` (p11compat schema --write); do not edit.",
  };
  return `${JSON.stringify({ ...head, ...rest }, null, 2)}\n`;
}
