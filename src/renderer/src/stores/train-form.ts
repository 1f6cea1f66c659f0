/**
 * The Pretrain form's typed state, kept while the user visits other views: every field at the request
 * schema's default (src/shared/requests.ts, the defaults `equiav pretrain` has), an empty number box
 * leaving its default to the schema; and the workspace's datasets to train on, with the presets each is
 * prepared for.
 */
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import { type DatasetSummary, type INPUT_NORMS, PretrainRequestSchema } from '../../../shared/contract'
import { api } from '../api'

const defaults = PretrainRequestSchema.parse({ run: 'r' })

/** the number boxes' values; '' leaves the field to the schema (its placeholder in the form says what that is) */
export type NumberField =
  | 'steps' | 'epochs' | 'batchSize' | 'lr' | 'cenNum' | 'imgSize' | 'warmupSteps' | 'clipNorm' | 'tau'
  | 'seed' | 'checkpointEvery' | 'keepCheckpoints' | 'syntheticClips'

export const useTrainFormStore = defineStore('train-form', () => {
  const form = reactive({
    run: `run-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '')}`,
    preset: defaults.preset,
    objective: defaults.objective,
    timeRoll: defaults.timeRoll,
    resume: defaults.resume,
    initModalities: defaults.initModalities,
    /** '' : the synthetic task (the schema's default: no dataset) */
    dataset: '',
    inputNorm: '' as '' | (typeof INPUT_NORMS)[number],
    initFrom: '',
    /** engine worker threads; empty: the engine's default (every core on wasm) */
    workers: '' as number | '',
    allowPartial: false
  })
  const numbers = reactive<Record<NumberField, number | ''>>({
    steps: '',
    epochs: '',
    batchSize: defaults.batchSize,
    // the preset's default, which changes with it (DEFAULT_LR), is the placeholder
    lr: '',
    cenNum: '',
    imgSize: '',
    warmupSteps: '',
    clipNorm: defaults.clipNorm,
    tau: defaults.tau,
    seed: defaults.seed,
    checkpointEvery: defaults.checkpointEvery,
    keepCheckpoints: defaults.keepCheckpoints,
    syntheticClips: ''
  })
  const datasets = ref<DatasetSummary[]>([])
  const error = ref<string | null>(null)

  async function refreshDatasets(): Promise<void> {
    try {
      datasets.value = await api.call('datasets.list', {})
      error.value = null
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err)
    }
  }
  // a prepare or an import that finished changes what can be trained on
  api.on('job.state', (j) => {
    if ((j.kind === 'prepare' || j.kind === 'import') && j.state === 'done') void refreshDatasets()
  })

  return { form, numbers, datasets, error, refreshDatasets }
})
