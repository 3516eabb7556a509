// The validators the build compiles ahead of time (dist/input/validators/) are the ones a run uses for
// suites, steps, device profiles and reports, and they report exactly what a fresh compile reports.
import { describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ErrorObject, ValidateFunction } from "ajv";
import { newAjv, schemaKey } from "../../src/input/yamlSchema.js";
import { stepSchema, suiteSchema } from "../../src/suite/schema.js";
import { deviceSchema } from "../../src/device/schema.js";
import { reportSchema } from "../../src/report/schema.js";

const require = createRequire(import.meta.url);
const dir = fileURLToPath(new URL("../../dist/input/validators/", import.meta.url));
const shown = (errors: ErrorObject[] | null | undefined) =>
  JSON.stringify(
    (errors ?? []).map(({ instancePath, schemaPath, keyword, params, message, schema, parentSchema }) => ({
      instancePath,
      schemaPath,
      keyword,
      params,
      message,
      schema,
      parentSchema,
    })),
  );

const cases: [string, object, unknown[]][] = [
  [
    "suite",
    suiteSchema,
    [
      { suite: "X Y", cases: "none" },
      { suite: "x", cases: [{ id: "a", stepz: [] }], extra: true },
      { suite: 3, keys: { k: { type: "RSA", bits: "many" } }, cases: [], client: { login: "ROOT" } },
    ],
  ],
  [
    "step",
    stepSchema,
    [{ op: "sign", mechanism: { name: "CKM_X", params: { hash: 1 } } }, { op: "nope" }, { op: "key", spec: 2 }],
  ],
  ["device", deviceSchema, [{ device: "d" }, { device: "d", title: 1, module: { paths: "x" }, setup: [{ run: 3 }] }]],
  ["report", reportSchema(), [{ schemaVersion: 2 }, { schemaVersion: 1, cases: [{ id: 3, outcome: "maybe" }] }]],
];

describe("precompiled validators", () => {
  it.each(cases)("the %s schema's is built and agrees with a fresh compile", (_name, schema, samples) => {
    const file = `${dir}${schemaKey(schema)}.cjs`;
    expect(existsSync(file)).toBe(true);
    const built = require(file) as ValidateFunction;
    const fresh = newAjv().compile(schema);
    for (const data of samples) {
      expect(built(data)).toBe(false);
      expect(fresh(data)).toBe(false);
      expect(shown(built.errors)).toBe(shown(fresh.errors));
    }
  });
});
