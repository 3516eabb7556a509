// Templates as a trace shows them: attribute names, values by type, secrets redacted.
import { decodeAttribute, isSensitiveAttribute, type Attr } from "./attributes.js";

export interface ShownAttribute {
  name: string;
  value: string;
}

export function describeTemplate(template: Attr[]): ShownAttribute[] {
  return template.map(({ type, value }) => {
    const name = decodeAttribute(type, Buffer.alloc(0)).name;
    if (isSensitiveAttribute(type) && Buffer.isBuffer(value) && value.length)
      return { name, value: `<redacted ${value.length} bytes>` };
    if (typeof value === "boolean") return { name, value: String(value) };
    if (typeof value === "number") {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(value));
      return { name, value: decodeAttribute(type, b).display };
    }
    return { name, value: value.length ? decodeAttribute(type, value).display : "" };
  });
}
