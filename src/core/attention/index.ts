// Attention: capture of post-softmax maps and their statistics, ACT (the formula and its ONNX graph rewrite), and ACT's head search.
export { ACT_REFERENCE_PARAMS, actEdit, actEditHead, findSinks, sinkScores, thresholdValue, type ActParams, type HeadSinks, type SinkThreshold } from './act.ts';
export {
  ACT_MIN_OPSET,
  ActGraphError,
  applyActToGraph,
  type ActGraphOptions,
  type ActGraphResult,
  type ActGraphSite,
  type ActSiteSelection,
} from './actGraph.ts';
export { attentionFeeds, captureAttention, captureModel, fusedAttentionNotice, noAttentionReason, UNFUSED_EXPORT_HINT, type AttentionInput, type CapturedAttention, type CaptureModel, type SiteAttention } from './capture.ts';
export { attentionStats, averageStats, headStats, layerStats, REFERENCE_THRESHOLD, type AveragedHeadStats, type AveragedLayerStats, type HeadStats, type LayerStats } from './stats.ts';
export {
  attentionLayers,
  HEAD_GUARDS,
  maxTogetherEvaluations,
  referenceSkipLayers,
  searchHeads,
  siteSelections,
  type AttentionLayer,
  type ChangeInterval,
  type HeadGuard,
  type HeadIntervalOptions,
  type HeadAlone,
  type HeadDrop,
  type HeadId,
  type HeadScore,
  type HeadSearchOptions,
  type HeadSearchResult,
  type SetScore,
} from './headSearch.ts';
