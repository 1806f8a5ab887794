// Names from a model file as they appear in messages: one line, a readable length. A hostile
// file can name a tensor with 10⁵ characters or embed newlines; a message quoting it must stay
// one line of a few hundred characters at most.

/** Longest name quoted whole; longer ones keep their start and end around an ellipsis. */
export const MAX_SHOWN_NAME = 80;

const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/g;

/** `name` with control characters escaped and the middle of a long name cut out. */
export function shortName(name: string, max = MAX_SHOWN_NAME): string {
  const oneLine = name.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (oneLine.length <= max) return oneLine;
  const tail = Math.floor(max / 4);
  const head = max - tail - 1;
  return `${oneLine.slice(0, head)}…${oneLine.slice(-tail)} (${name.length.toLocaleString('en-US')} characters)`;
}

/** `name` in double quotes, shortened as by shortName. */
export function quoteName(name: string): string {
  return `"${shortName(name.replace(/["\\]/g, (c) => `\\${c}`))}"`;
}
