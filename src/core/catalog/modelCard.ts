// Model cards (model.json beside each bundled model) and the bundled-model index.
import type { EvalMetrics } from '../eval/metrics';

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

export function parseModelCard(json: unknown, where: string): ModelCard {
  const c = json as Partial<ModelCard> | null;
  if (!c || typeof c !== 'object') throw new Error(`${where}: not a JSON object`);
  for (const key of ['id', 'name', 'task', 'files', 'denseMetrics'] as const)
    if (c[key] === undefined) throw new Error(`${where}: model card lacks "${key}"`);
  if (c.task !== 'causal-lm' && c.task !== 'image-classification') throw new Error(`${where}: unknown task ${JSON.stringify(c.task)}`);
  if (!c.files?.model || !c.files.eval) throw new Error(`${where}: files.model and files.eval are required`);
  return c as ModelCard;
}
