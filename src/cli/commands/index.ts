import type { Command } from '../command'
import { createDemoCommand } from './create-demo'
import { featuresFbankCommand } from './features'
import { pretrainCommand } from './pretrain'

/** Every `equiav` subcommand. Each lives in its own module beside this one. */
export const commands: Command[] = [pretrainCommand, createDemoCommand, featuresFbankCommand]
