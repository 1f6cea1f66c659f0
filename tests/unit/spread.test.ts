import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { embeddingSpread } from '../../src/main/engine/train/spread'
import { useTestBackend } from '../helpers/tf'

beforeAll(useTestBackend)

describe('embeddingSpread (collapse diagnostic)', () => {
  it('is 1 for a collapsed batch, 0 for orthogonal embeddings, −1 for two opposite ones, whatever their lengths', () => {
    expect(embeddingSpread(tf.tensor2d([[1, 2], [2, 4], [0.5, 1]]))).toBeCloseTo(1, 6)
    expect(embeddingSpread(tf.tensor2d([[3, 0, 0], [0, 0.1, 0], [0, 0, 7]]))).toBeCloseTo(0, 6)
    expect(embeddingSpread(tf.tensor2d([[1, 1], [-2, -2]]))).toBeCloseTo(-1, 6)
  })

  it('averages the off-diagonal cosines (hand case)', () => {
    // cos(a,b) = 1/√2, cos(a,c) = 0, cos(b,c) = 1/√2 → mean over the 6 ordered pairs = √2 / 3
    expect(embeddingSpread(tf.tensor2d([[1, 0], [1, 1], [0, 5]]))).toBeCloseTo(Math.SQRT2 / 3, 6)
  })

  it('is undefined for a batch of one', () => {
    expect(embeddingSpread(tf.tensor2d([[1, 2]]))).toBeNaN()
  })
})
