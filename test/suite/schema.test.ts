import { describe, expect, it } from "@jest/globals";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Ajv } from "ajv";
import { schemaJson, stepSchema, suiteSchema } from "../../src/suite/schema.js";
import { STEP_OPS } from "../../src/suite/model.js";

type S = Record<string, unknown>;

describe("suite schema", () => {
  it("schema/suite.schema.json is in sync (regenerate with `p11compat schema --write`)", async () => {
    const file = await readFile(path.join(process.cwd(), "schema", "suite.schema.json"), "utf8");
    expect(file).toBe(JSON.stringify(suiteSchema, null, 2) + "\n");
    expect(schemaJson()).toBe(file);
  });

  it("is a valid draft-07 schema that strict ajv compiles", () => {
    const ajv = new Ajv({
      strict: true,
      strictRequired: false,
      strictTypes: false,
      discriminator: true,
      allErrors: true,
    });
    ajv.addVocabulary(["patternErrorMessage", "markdownDescription"]);
    expect(() => ajv.compile(suiteSchema)).not.toThrow();
    expect(() => ajv.compile(stepSchema)).not.toThrow();
  });

  it("every property has a description (editors show them)", () => {
    const defs = suiteSchema.definitions as Record<string, S>;
    const missing: string[] = [];
    const hasDescription = (s: S): boolean => {
      if (typeof s.description === "string") return true;
      const ref = typeof s.$ref === "string" ? defs[s.$ref.replace("#/definitions/", "")] : undefined;
      return ref ? hasDescription(ref) : false;
    };
    const walk = (s: unknown, where: string) => {
      if (!s || typeof s !== "object") return;
      if (Array.isArray(s)) return s.forEach((x, i) => walk(x, `${where}/${i}`));
      const o = s as S;
      if (o.properties && typeof o.properties === "object") {
        for (const [k, v] of Object.entries(o.properties as Record<string, S>)) {
          if (!hasDescription(v)) missing.push(`${where}/properties/${k}`);
        }
      }
      for (const [k, v] of Object.entries(o)) walk(v, `${where}/${k}`);
    };
    walk(suiteSchema, "#");
    expect(missing).toEqual([]);
  });

  it("steps are a discriminated oneOf over every op of the model", () => {
    const defs = suiteSchema.definitions as Record<string, S>;
    const step = defs.step!;
    expect(step.discriminator).toEqual({ propertyName: "op" });
    const ops = (step.oneOf as S[]).map((r) => {
      const def = defs[(r.$ref as string).replace("#/definitions/", "")]!;
      return (def.properties as Record<string, S>).op!.const;
    });
    expect(ops.sort()).toEqual([...STEP_OPS].sort());
  });

  it("typed step fields accept a $param reference in the file schema only", () => {
    const file = (suiteSchema.definitions as Record<string, S>).signStep!.properties as Record<string, S>;
    expect(JSON.stringify(file.parts)).toContain("paramRef");
    const concrete = (stepSchema.definitions as Record<string, S>).signStep!.properties as Record<string, S>;
    expect(JSON.stringify(concrete.parts)).not.toContain("param");
  });
});
