// Entry point of `npm run lab`: see src/cli/main.ts. Every failure ends here as one line on
// stderr — `error: <what is wrong, where>` — and exit status 1: never a stack trace (set
// LAB_DEBUG=1 to see one), never a message of unbounded length. A usage text after the first
// line is kept.
import { main } from '../src/cli/main';

/** Longest first line printed; longer ones (a huge name in a message) keep their start and end. */
const MAX_MESSAGE = 400;

function oneLine(text: string): string {
  const flat = text.replace(/[\r\n\t]+/g, ' ');
  return flat.length <= MAX_MESSAGE ? flat : `${flat.slice(0, MAX_MESSAGE - 81)} … ${flat.slice(-60)} (${flat.length.toLocaleString('en-US')} characters)`;
}

/** Errors of the lab's own code (a bug), as opposed to messages about the input. */
const INTERNAL = [TypeError, RangeError, ReferenceError, SyntaxError];

function fail(error: unknown): never {
  let message = error instanceof Error ? error.message : String(error);
  // node:util parseArgs reports a bad command line as a TypeError with an ERR_PARSE_ARGS_* code.
  const argumentError = String((error as { code?: unknown })?.code ?? '').startsWith('ERR_PARSE_ARGS');
  if (!argumentError && INTERNAL.some((kind) => error instanceof kind)) {
    message = `internal error (${(error as Error).name}: ${message}); please report it with the command line (LAB_DEBUG=1 shows where)`;
  }
  const usage = message.indexOf('\n\nUsage:');
  const first = usage >= 0 ? message.slice(0, usage) : message;
  console.error(`error: ${oneLine(first || (error instanceof Error ? error.name : 'unknown error'))}`);
  if (usage >= 0) console.error(message.slice(usage));
  if (process.env.LAB_DEBUG && error instanceof Error) console.error(error.stack);
  process.exit(1);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
main(process.argv.slice(2)).then((code) => process.exit(code), fail);
