// `lab export-llmcompressor <recipe.json> [--script]`: the recipe as an llm-compressor oneshot
// recipe (src/core/experiments/llmCompressor.ts). The YAML goes to stdout, headed by comments that
// list what is not exported and what differs, so a saved file keeps them; the not-exported list is
// repeated on stderr, so a redirect to a file still shows it. --script prints, instead of the YAML,
// the Python script that runs it: each output is one file to save (`> recipe.yaml`, `> run.py`).
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { llmCompressorRecipe } from '../core/experiments/llmCompressor';
import { readRecipeFile } from './run';

/** `lab export-llmcompressor …` (its arguments after the command name); parses its own options. */
export function exportLlmCompressorMain(args: string[], usage: string): number {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { script: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const [recipePath, extra] = positionals;
  if (!recipePath) throw new Error(`export-llmcompressor: <recipe.json> is required\n\n${usage}`);
  if (extra !== undefined) throw new Error(`export-llmcompressor: unexpected argument "${extra.slice(0, 80)}"\n\n${usage}`);
  const out = llmCompressorRecipe(readRecipeFile(resolve(recipePath)));
  process.stdout.write(values.script ? out.script : out.yaml);
  if (out.stages.length === 0) console.error('export-llmcompressor: nothing in this recipe has an llm-compressor equivalent; the recipe is empty');
  for (const line of out.notExported) console.error(`not exported: ${line}`);
  return 0;
}
