// The built-in stage runners, registered once on import (pipeline.ts imports this).
import { attentionStageRunner } from './attentionStage.ts';
import { pruneStageRunner } from './pruneStage.ts';
import { quantizeStageRunner } from './quantizeStage.ts';
import { registerReshapingStage, registerStageRunner } from './stage.ts';
import { structuredStageRunner } from './structuredStage.ts';
import { sliceStageRunner } from './sliceStage.ts';
import { bitStackStageRunner } from './bitstackStage.ts';
import { lowRankStageRunner } from './lowrankStage.ts';

registerStageRunner(pruneStageRunner);
registerStageRunner(quantizeStageRunner);
registerStageRunner(attentionStageRunner);
registerReshapingStage(structuredStageRunner);
registerReshapingStage(sliceStageRunner);
registerReshapingStage(lowRankStageRunner);
registerReshapingStage(bitStackStageRunner);
