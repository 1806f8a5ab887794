// Model cards (model.json beside each bundled model) and the bundled-model index.
import type { EvalMetrics } from '../eval/metrics';
import { shortName } from '../onnx/display.ts';
import { folderPathProblem } from '../onnx/paths.ts';

export interface TrainingCurvePoint {
  step: number;
  trainLoss?: number;
  valLoss?: number;
  valAcc?: number;
}

export interface ModelCard {
  id: string;
  name: string;
  task: 'causal-lm' | 'image-classification';
  description?: string;
  parameters: number;
  architecture?: Record<string, unknown>;
  data?: { source?: string; licence?: string; [k: string]: unknown };
  files: { model: string; vocab?: string; eval: string; calib?: string };
  training?: { command?: string; seed?: number; steps?: number; wallSeconds?: number; stopReason?: string; curve?: TrainingCurvePoint[]; [k: string]: unknown };
  /** Reference metrics computed by the training script in PyTorch on files.eval. */
  denseMetrics: Partial<Omit<EvalMetrics, 'task'>> & Record<string, number>;
}

export interface ModelIndex {
  default: string;
  models: string[];
}

/** A model.json that is not a valid model card; the message names the field path. */
export class ModelCardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCardError';
  }
}

const FILE_KEYS = ['model', 'eval', 'vocab', 'calib'] as const;
const REQUIRED_FILES = new Set(['model', 'eval']);

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks the fields the lab reads, with their types, and that every `files.*` path stays inside
 * the model's folder (see folderPathProblem); fields it does not read (architecture, onnx, ...)
 * pass through. Throws ModelCardError naming the field path, e.g. `files.model: must be a
 * string (a path inside the model's folder), not a number`.
 */
export function parseModelCard(json: unknown, where: string): ModelCard {
  const fail = (field: string, problem: string): never => {
    throw new ModelCardError(`${where}: ${field}: ${problem}`);
  };
  if (!isRecord(json)) throw new ModelCardError(`${where}: a model card must be a JSON object, not ${kindOf(json)}`);
  const c = json;
  const requireType = (field: string, value: unknown, type: 'string' | 'number' | 'object', optional = false) => {
    if (value === undefined) return optional ? undefined : fail(field, `required ${type === 'object' ? 'object' : type} is missing`);
    const ok = type === 'object' ? isRecord(value) : typeof value === type && (type !== 'number' || Number.isFinite(value));
    if (!ok) fail(field, `must be ${type === 'object' ? 'an object' : type === 'number' ? 'a finite number' : 'a string'}, not ${kindOf(value)}`);
  };
  requireType('id', c.id, 'string');
  requireType('name', c.name, 'string');
  requireType('task', c.task, 'string');
  if (c.task !== 'causal-lm' && c.task !== 'image-classification') fail('task', 'must be "causal-lm" or "image-classification"');
  requireType('description', c.description, 'string', true);
  requireType('parameters', c.parameters, 'number');
  for (const key of ['architecture', 'data', 'training'] as const) requireType(key, c[key], 'object', true);
  requireType('files', c.files, 'object');
  const files = c.files as Record<string, unknown>;
  for (const key of FILE_KEYS) {
    const value = files[key];
    if (value === undefined && !REQUIRED_FILES.has(key)) continue;
    if (typeof value !== 'string') fail(`files.${key}`, value === undefined ? 'required path is missing' : `must be a string (a path inside the model's folder), not ${kindOf(value)}`);
    const problem = folderPathProblem(value as string);
    if (problem !== undefined) fail(`files.${key}`, problem);
  }
  requireType('denseMetrics', c.denseMetrics, 'object');
  for (const [key, value] of Object.entries(c.denseMetrics as Record<string, unknown>)) {
    if (typeof value !== 'number') fail(`denseMetrics.${shortName(key)}`, `must be a number, not ${kindOf(value)}`);
  }
  return c as unknown as ModelCard;
}

/** The context window a causal LM's card declares (architecture.context), if it declares one. */
export function cardContextLength(card: ModelCard): number | undefined {
  const context = card.architecture?.context;
  return Number.isInteger(context) && (context as number) > 0 ? (context as number) : undefined;
}
