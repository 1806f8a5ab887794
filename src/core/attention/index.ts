// ACT (attention calibration): the formula and its ONNX graph rewrite.
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
