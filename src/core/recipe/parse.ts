// parseRecipe: JSON (a file, a URL parameter, a worker message) → a complete Recipe (version 2).
// Version-1 documents (one flat pruning recipe; no `version`, or `version: 1`) migrate on the way
// in (migrate.ts). Missing fields take the defaults; unknown fields, wrong types and an unknown
// version are errors that name the field's path, all of them at once. Values that are well-typed
// but impossible on a model (4:4, a pattern that does not fit) are validateRecipe's business.
import { readCalibration } from './calibration.ts';
import { defaultRecipe } from './defaults.ts';
import { readV1 } from './migrate.ts';
import { checkSha256, describeValue, fieldPath, FieldReader, isJsonObject, quoted, RecipeProblems } from './reader.ts';
import { stageKind, stageKindNames } from './stage.ts';
import './stages/index.ts';
import { RECIPE_VERSION, type ModelRef, type Recipe, type StageSpec } from './types.ts';

const MAX_PROBLEMS_SHOWN = 12;
/** More stages than any real recipe uses; a bound so that a hostile document stays small. */
export const MAX_STAGES = 16;

export class RecipeError extends Error {
  override name = 'RecipeError';
  constructor(readonly problems: string[]) {
    const [first, ...rest] = problems;
    const shown = rest.slice(0, MAX_PROBLEMS_SHOWN - 1);
    const more = rest.length > shown.length ? [`and ${rest.length - shown.length} more`] : [];
    super(`invalid recipe: ${first ?? 'no problem given'}${[...shown, ...more].map((p) => `\n  - ${p}`).join('')}`);
  }
}

function readModelRef(fields: FieldReader | undefined): ModelRef | undefined {
  if (fields === undefined) return undefined;
  const id = fields.string('id');
  const sha256 = fields.string('sha256');
  if (sha256 !== undefined) checkSha256(fields, 'sha256', sha256);
  fields.finish();
  return { ...(id === undefined ? {} : { id }), ...(sha256 === undefined ? {} : { sha256 }) };
}

/** One element of `stages`: its kind's parser reads the rest. */
export function readStage(value: unknown, path: string, problems: RecipeProblems): StageSpec | undefined {
  const fields = FieldReader.of(value, path, problems);
  if (fields === undefined) {
    if (value === undefined) problems.add(path, 'must be an object, got undefined');
    return undefined;
  }
  const kind = fields.raw('kind');
  if (typeof kind !== 'string') {
    fields.problem('kind', `required: one of ${stageKindNames().map((k) => `"${k}"`).join(', ')}, got ${describeValue(kind)}`);
    return undefined;
  }
  const definition = stageKind(kind);
  if (definition === undefined) {
    fields.problem('kind', `unknown stage kind ${quoted(kind)} (known: ${stageKindNames().join(', ')})`);
    return undefined;
  }
  const stage = definition.parse(fields);
  fields.finish();
  return stage;
}

function readV2(top: FieldReader): Recipe {
  top.raw('version');
  const model = readModelRef(top.object('model'));
  const seed = top.number('seed', defaultRecipe().seed);
  const calibrationFields = top.object('calibration');
  const calibration = readCalibration(calibrationFields);
  calibrationFields?.finish();
  const raw = top.raw('stages');
  const stages: StageSpec[] = [];
  if (raw === undefined) top.problem('stages', 'required: a list of stages, e.g. [{"kind": "prune", "method": "wanda"}]');
  else if (!Array.isArray(raw)) top.problem('stages', `must be an array of stages, got ${describeValue(raw)}`);
  else if (raw.length === 0) top.problem('stages', 'must hold at least one stage');
  else if (raw.length > MAX_STAGES) top.problem('stages', `holds ${raw.length} stages; a recipe has at most ${MAX_STAGES}`);
  else {
    raw.forEach((value, i) => {
      const stage = readStage(value, fieldPath('stages', i), top.problems);
      if (stage) stages.push(stage);
    });
  }
  top.finish();
  return { version: RECIPE_VERSION, ...(model ? { model } : {}), seed, calibration, stages };
}

/** The version a document declares, or an error naming it. */
function versionOf(json: Record<string, unknown>, problems: RecipeProblems): 1 | 2 | undefined {
  const version = json.version;
  if (version === undefined) return json.stages === undefined ? 1 : 2;
  if (version === 1 || version === 2) return version;
  problems.add('version', `${describeValue(version)} is not supported (this lab reads versions 1 and 2)`);
  return undefined;
}

export function parseRecipe(json: unknown): Recipe {
  const problems = new RecipeProblems();
  if (!isJsonObject(json)) throw new RecipeError([`a recipe must be a JSON object, got ${describeValue(json)}`]);
  const version = versionOf(json, problems);
  if (version === undefined) throw new RecipeError(problems.list);
  const top = new FieldReader(json, '', problems);
  const recipe = version === 1 ? readV1(top) : readV2(top);
  if (problems.list.length > 0) throw new RecipeError(problems.list);
  return recipe;
}

/**
 * A recipe held in another document (an experiment record, a share link) under `key`: read with
 * parseRecipe, its problems filed under the key's path; undefined when absent or invalid.
 */
export function readRecipeField(fields: FieldReader, key: string): Recipe | undefined {
  const raw = fields.raw(key);
  if (raw === undefined) {
    fields.problem(key, 'is required');
    return undefined;
  }
  try {
    return parseRecipe(raw);
  } catch (e) {
    if (!(e instanceof RecipeError)) throw e;
    for (const p of e.problems) fields.problems.add(fields.pathOf(key), p);
    return undefined;
  }
}

/** JSON text → Recipe; a syntax error is a RecipeError too (one line, no file contents quoted). */
export function parseRecipeText(text: string): Recipe {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const where = /at position \d+(?: \(line \d+ column \d+\))?/.exec((e as Error).message)?.[0];
    throw new RecipeError([`not valid JSON${where ? ` (${where})` : ''}`]);
  }
  return parseRecipe(json);
}
