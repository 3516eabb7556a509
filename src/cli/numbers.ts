// Numeric command-line options, parsed by commander (argParser): a bad value stops the command before
// any work, with commander's usual message naming the option and the value.
import { InvalidArgumentError } from "commander";

/** A parser of whole numbers of at least `min` (digits only: no 1e3, 0x10, -1 or 2.5). */
export function wholeNumber(min: number, hint = ""): (text: string) => number {
  return (text) => {
    const n = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`it takes a whole number of at least ${min}${hint}.`);
    return n;
  };
}
