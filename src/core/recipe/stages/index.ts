// The built-in stage kinds, registered once on import (parse.ts and validate.ts import this).
import { registerStageKind } from '../stage.ts';
import { attentionStageKind } from './attention.ts';
import { bitStackStageKind } from './bitstack.ts';
import { lowRankStageKind } from './lowrank.ts';
import { pruneStageKind } from './prune.ts';
import { quantizeStageKind } from './quantize.ts';
import { structuredStageKind } from './structured.ts';
import { sliceStageKind } from './slice.ts';

registerStageKind(pruneStageKind);
registerStageKind(quantizeStageKind);
registerStageKind(attentionStageKind);
registerStageKind(structuredStageKind);
registerStageKind(sliceStageKind);
registerStageKind(lowRankStageKind);
registerStageKind(bitStackStageKind);
