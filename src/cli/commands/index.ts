import type { Command } from '../command'
import { createDemoCommand } from './create-demo'
import { datasetEditCommand, datasetExportCommand, datasetImportCommand, datasetInfoCommand } from './dataset'
import { embedCommand, evalProbeCommand, evalRetrievalCommand } from './eval'
import { demoCommand } from './demo'
import { evalClassifyCommand } from './classify'
import { finetuneCommand } from './finetune'
import { evalEquivarianceCommand } from './equivariance'
import { experimentAblationCommand } from './experiment'
import { featuresFbankCommand } from './features'
import { pretrainCommand } from './pretrain'
import { serveCommand } from './serve'
import { datasetPrepareCommand } from './prepare'
import { datasetNormStatsCommand } from './norm-stats'
import { datasetPruneCacheCommand } from './prune-cache'
import { clusterAttachCommand, clusterExportCommand } from './cluster'

/** Every `equiav` subcommand. Each lives in its own module beside this one. */
export const commands: Command[] = [pretrainCommand, createDemoCommand, datasetImportCommand, datasetInfoCommand, datasetEditCommand, datasetExportCommand, datasetNormStatsCommand, datasetPrepareCommand, datasetPruneCacheCommand, featuresFbankCommand, evalRetrievalCommand, evalProbeCommand, finetuneCommand, evalClassifyCommand, evalEquivarianceCommand, embedCommand, experimentAblationCommand, demoCommand, serveCommand, clusterExportCommand, clusterAttachCommand]
