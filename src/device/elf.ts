// Which of some function names a shared library exports (its ELF .dynsym), read from the file
// without loading it: whether a module offers C_GetInterface (PKCS#11 3.x) besides C_GetFunctionList.
import { readFileSync } from "node:fs";

const SHT_DYNSYM = 11;

/** The names among `wanted` the file defines in its dynamic symbol table; undefined when it is not a 64-bit little-endian ELF file with one. */
export function exportedSymbols(file: string, wanted: string[]): Set<string> | undefined {
  const b = readFileSync(file);
  // ELF magic, ELFCLASS64, little-endian: the layout read below.
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return undefined;
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shentsize = b.readUInt16LE(0x3a);
  const shnum = b.readUInt16LE(0x3c);
  if (!shoff || shoff + shnum * shentsize > b.length) return undefined;
  const section = (i: number) => {
    const at = shoff + i * shentsize;
    return {
      type: b.readUInt32LE(at + 4),
      offset: Number(b.readBigUInt64LE(at + 24)),
      size: Number(b.readBigUInt64LE(at + 32)),
      link: b.readUInt32LE(at + 40),
    };
  };
  const dynsym = Array.from({ length: shnum }, (_, i) => section(i)).find((s) => s.type === SHT_DYNSYM);
  if (!dynsym || dynsym.link >= shnum) return undefined;
  const strtab = section(dynsym.link);
  const found = new Set<string>();
  for (let at = dynsym.offset; at + 24 <= dynsym.offset + dynsym.size && at + 24 <= b.length; at += 24) {
    if (b.readUInt16LE(at + 6) === 0) continue; // undefined here: imported, not exported
    const start = strtab.offset + b.readUInt32LE(at);
    const end = b.indexOf(0, start);
    const name = b.toString("latin1", start, end < 0 ? start : end);
    if (wanted.includes(name)) found.add(name);
  }
  return found;
}
