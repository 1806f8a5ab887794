// The built-in stage runners, registered once on import (pipeline.ts imports this).
import { attentionStageRunner } from './attentionStage.ts';
import { kvCacheStageRunner } from './kvCacheStage.ts';
import { pruneStageRunner } from './pruneStage.ts';
import { quantizeStageRunner } from './quantizeStage.ts';
import { bitStackStageRunner } from './bitstackStage.ts';
import { lowRankStageRunner } from './lowrankStage.ts';
import { sliceStageRunner } from './sliceStage.ts';
import { registerReshapingStage, registerStageRunner } from './stage.ts';
import { structuredStageRunner } from './structuredStage.ts';

registerStageRunner(pruneStageRunner);
registerStageRunner(quantizeStageRunner);
registerStageRunner(attentionStageRunner);
registerStageRunner(kvCacheStageRunner);
registerReshapingStage(structuredStageRunner);
registerReshapingStage(sliceStageRunner);
registerReshapingStage(lowRankStageRunner);
registerReshapingStage(bitStackStageRunner);
