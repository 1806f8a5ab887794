// Experiments: run records, their file format, share links, sweeps and the trade-off frontier.
export { EXPERIMENTS_FORMAT, EXPERIMENTS_VERSION, experimentsFile, readExperimentsFile, readExperimentsText, recordInterval, RECORD_STATUSES, type ExperimentRecord, type ExperimentsFile, type RecordInterval, type RecordModel, type RecordModelSource, type RecordStatus } from './record.ts';
export { decodeShareToken, encodeShareToken, readSharePayload, shareTokenOf, shareUrl, SHARE_LINK_VERSION, SHARE_PARAM, type ShareDecode, type SharedModel, type SharedResult, type SharedView, type SharePayload } from './shareLink.ts';
export { reproduction, type Reproduction } from './reproduction.ts';
export { parsePath, parseSweepValues, sweepOptions, sweepProblems, sweepRecipes, withValue, MAX_SWEEP_POINTS, type SweepOption, type SweepValue } from './sweep.ts';
export { paretoFront, type TradeoffPoint } from './pareto.ts';
export { LAB_VERSION } from './version.ts';
