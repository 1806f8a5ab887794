// The kvcache stage in the pipeline: nothing per step (no weight changes); at the end it reports
// where each site's K and V are quantized and what the cache would take per token (ANALYTIC), and
// its exportGraph writes the Q/DQ nodes into the file (quant/kvcache/writeKvCache.ts). SIMULATED:
// ONNX Runtime computes in float32 and present.* stays a float32 tensor holding quantized values.
import type { AttentionSite } from '../model/types.ts';
import type { ModelProto } from '../onnx/types.ts';
import { cacheTensor, producersOf, type KvTensorKind } from '../quant/kvcache/cacheTensors.ts';
import { writeKvCacheQuant, type KvQuantOptions, type KvSiteWrite } from '../quant/kvcache/writeKvCache.ts';
import { activationLayers, describeKvCacheStage, type KvCacheStage } from '../recipe/stages/kvcache.ts';
import type { StageReport } from './report.ts';
import type { StageContext, StageRun, StageRunner } from './stage.ts';

export interface KvCacheStageReport extends StageReport {
  kind: 'kvcache';
  simulated: true;
  /** Each quantized K/V tensor; `present` names the cache output that holds quantized values. */
  sites: KvSiteWrite[];
  /**
   * ANALYTIC cache bytes per token, all layers: float32 as the graph keeps it, and in the stage's
   * format (codes, plus per-token scales and zero points; per-head scales, one per call, left out).
   */
  cacheBytesPerToken: { float: number; quantized: number };
  /** Linear layers whose inputs are fake-quantized per token (0 without `activations`). */
  activationLayers: number;
}

/** "12 K/V tensors (12 of them present.*); 3,072 → 432 bytes per token (ANALYTIC); SIMULATED". */
export function kvCacheLine(report: KvCacheStageReport): string {
  const cached = report.sites.filter((s) => s.present !== undefined).length;
  const { float, quantized } = report.cacheBytesPerToken;
  return `${report.sites.length} K/V tensors${cached > 0 ? ` (${cached} stored as present.*)` : ''}; cache ${float.toLocaleString('en')} → ${quantized.toLocaleString('en')} bytes per token (ANALYTIC)${report.activationLayers > 0 ? `; ${report.activationLayers} layer inputs per-token` : ''}; SIMULATED in float32`;
}

export const isKvCacheStageReport = (report: StageReport): report is KvCacheStageReport => report.kind === 'kvcache';

export const kvTensorKinds = (stage: KvCacheStage): KvTensorKind[] => (stage.tensors === 'kv' ? ['k', 'v'] : [stage.tensors]);

export function kvOptions(stage: KvCacheStage): KvQuantOptions {
  return { bits: stage.bits, symmetric: stage.symmetric, granularity: stage.granularity, keepSinks: stage.keepSinks, tensors: kvTensorKinds(stage) };
}

/** Bytes per token of one site's cached tensors: float32, and codes + per-token scale (and zero point). */
export function cacheBytesPerToken(sites: readonly AttentionSite[], stage: KvCacheStage): { float: number; quantized: number } {
  let float = 0;
  let quantized = 0;
  const tensors = kvTensorKinds(stage).length;
  for (const site of sites) {
    const heads = site.kvHeads ?? site.heads ?? 0;
    const values = heads * (site.headDim ?? 0);
    float += tensors * values * 4;
    const perToken = stage.granularity === 'per-token' ? heads * (4 + (stage.symmetric ? 0 : stage.bits / 8)) : 0;
    quantized += tensors * ((values * stage.bits) / 8 + perToken);
  }
  return { float, quantized: Math.ceil(quantized) };
}

class KvCacheRun implements StageRun {
  constructor(
    private readonly stage: KvCacheStage,
    private readonly context: StageContext,
  ) {}

  async apply(): Promise<void> {}

  finish(): KvCacheStageReport {
    const start = performance.now();
    const { analysis, working } = this.context;
    const graph = working.model.graph!;
    const producers = producersOf(graph);
    // Where the export will put the quantization (the same walk writeKvCacheQuant does).
    const sites = analysis.attention.flatMap((site) =>
      kvTensorKinds(this.stage).map((kind) => {
        const t = cacheTensor(graph, producers, site, kind);
        return { site: site.softmaxNode, block: site.block, kind, tensor: t.tensor, ...(t.cache ? { present: t.cache.present } : {}) };
      }),
    );
    const acts = this.stage.activations ? activationLayers(this.context.recipe, this.stage, analysis).length : 0;
    return {
      kind: 'kvcache',
      index: this.context.index,
      summary: describeKvCacheStage(this.stage),
      layers: [],
      ms: performance.now() - start,
      simulated: true,
      sites,
      cacheBytesPerToken: cacheBytesPerToken(analysis.attention, this.stage),
      activationLayers: acts,
    };
  }

  exportGraph(model: ModelProto): { model: ModelProto; notes: string[] } {
    const { stage, context } = this;
    const activations = stage.activations ? { ...stage.activations, layers: activationLayers(context.recipe, stage, context.analysis) } : undefined;
    const written = writeKvCacheQuant(model, context.analysis.attention, kvOptions(stage), activations);
    const cached = written.sites.filter((s) => s.present !== undefined).length;
    const notes = [
      ...written.notes,
      `KV cache SIMULATED: ${written.sites.length} K/V tensors fake-quantized to ${stage.bits} bits with QuantizeLinear/DequantizeLinear (dynamic ${stage.granularity} scales computed in the graph)${cached > 0 ? `, ${cached} of them what present.* stores` : ''}; ONNX Runtime computes in float32`,
    ];
    if (activations) notes.push(`activations SIMULATED: the inputs of ${written.activationLayers} linear layers (${written.activationTensors} tensors) fake-quantized per token to ${activations.bits} bits`);
    return { model: written.model, notes };
  }
}

export const kvCacheStageRunner: StageRunner<KvCacheStage> = {
  kind: 'kvcache',
  async start(stage, context) {
    return new KvCacheRun(stage, context);
  },
};
