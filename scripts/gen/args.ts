// Command-line numbers of the model generators (gen:gpt2, gen:hf): one rule and one message.

/** A positive integer option, or undefined when it was not given. */
export function positiveArg(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive integer, got ${value}`);
  return n;
}
