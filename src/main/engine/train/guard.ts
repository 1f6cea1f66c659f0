/**
 * The training guard: after every update it decides whether the run may go on. Pure: the loops measure
 * (loss, parameter health, spread) and act on the verdict (stop without checkpointing, or log a warning),
 * so a diverged or exploded state is never written as a checkpoint.
 *
 * - diverged: the loss or any parameter is not finite;
 * - exploded: one update grew the global parameter norm by more than `maxNormGrowth` times;
 * - collapsed (pretraining): for `window` consecutive steps the inter-modal loss sat at ln B (within
 *   `tolerance` nats) while the inter-modal embeddings of different clips had a mean cosine (spread) above
 *   `spread` in either modality: every clip gets the same embedding and the gradients vanish.
 */

export type CollapseAction = 'stop' | 'warn' | 'off'

export interface GuardSettings {
  /** an update growing the parameter norm by more than this factor stops the run (0: no check) */
  maxNormGrowth: number
  collapse: { action: CollapseAction; window: number; spread: number; tolerance: number }
}

export const GUARD_DEFAULTS: GuardSettings = {
  maxNormGrowth: 10,
  collapse: { action: 'stop', window: 100, spread: 0.99, tolerance: 0.05 }
}

/** The parameters as measured after an update (see param-health.ts). */
export interface ParamHealth {
  /** parameters that are NaN or ±Infinity */
  nonFinite: number
  total: number
  /** global L2 norm of the finite parameters */
  norm: number
}

export interface StepHealth {
  /** the step just taken, 1-based */
  step: number
  loss: number
  /** absent when the step ran on engine workers: their parameters are checked when synced, before a checkpoint */
  params?: ParamHealth
  /** pretraining only: the inter-modal contrastive term and the spread of its embeddings */
  inter?: { loss: number; batchSize: number; spreadA: number; spreadV: number }
}

export type Verdict = { action: 'continue' } | { action: 'warn' | 'stop'; kind: 'diverged' | 'exploded' | 'collapsed'; reason: string }

const CONTINUE: Verdict = { action: 'continue' }

function millions(n: number): string {
  return n >= 1e5 ? `${(n / 1e6).toFixed(2)} M` : String(n)
}

function isCollapsed(inter: NonNullable<StepHealth['inter']>, c: GuardSettings['collapse']): boolean {
  const spread = Math.max(inter.spreadA, inter.spreadV) // NaN (a batch of one) compares false
  return Math.abs(inter.loss - Math.log(inter.batchSize)) <= c.tolerance && spread > c.spread
}

export class TrainingGuard {
  private norm: number
  private collapsedFor = 0

  /** `initial`: the parameters before the first update of this process */
  constructor(
    private readonly settings: GuardSettings,
    initial: ParamHealth
  ) {
    this.norm = initial.norm
  }

  check(h: StepHealth): Verdict {
    if (!Number.isFinite(h.loss)) return { action: 'stop', kind: 'diverged', reason: `the loss became ${h.loss} at step ${h.step}` }
    if (!h.params) return this.checkCollapse(h)
    const before = this.norm
    this.norm = h.params.norm
    if (h.params.nonFinite > 0) {
      return { action: 'stop', kind: 'diverged', reason: `the update of step ${h.step} made ${millions(h.params.nonFinite)} of ${millions(h.params.total)} parameters non-finite` }
    }
    const growth = h.params.norm / before
    if (this.settings.maxNormGrowth > 0 && before > 0 && !(growth <= this.settings.maxNormGrowth)) {
      return {
        action: 'stop',
        kind: 'exploded',
        reason: `the update of step ${h.step} grew the parameter norm ${growth.toPrecision(3)}× (${before.toPrecision(3)} → ${h.params.norm.toPrecision(3)}; limit ${this.settings.maxNormGrowth}×)`
      }
    }
    return this.checkCollapse(h)
  }

  private checkCollapse(h: StepHealth): Verdict {
    const c = this.settings.collapse
    if (c.action === 'off' || !h.inter) return CONTINUE
    this.collapsedFor = isCollapsed(h.inter, c) ? this.collapsedFor + 1 : 0
    // a warning once per full window, a stop as soon as the first window is full
    if (this.collapsedFor === 0 || this.collapsedFor % c.window !== 0) return CONTINUE
    const i = h.inter
    return {
      action: c.action,
      kind: 'collapsed',
      reason:
        `the embeddings collapsed: for ${this.collapsedFor} steps up to step ${h.step} loss_inter stayed within ${c.tolerance} of ln ${i.batchSize} = ` +
        `${Math.log(i.batchSize).toFixed(3)} (now ${i.loss.toFixed(3)}) with spread above ${c.spread} (audio ${i.spreadA.toFixed(4)}, visual ${i.spreadV.toFixed(4)}); ` +
        'a lower --lr usually avoids it'
    }
  }
}
