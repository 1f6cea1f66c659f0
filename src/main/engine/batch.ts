/**
 * One pretraining batch as the loader hands it to the engine: plain Float32Arrays, row-major,
 * the layouts of the official dataset (`datasets/AudioVisual.py`).
 */
export interface EquiAVBatch {
  batchSize: number
  /** clip ids, for logging and embeddings */
  ids: string[]
  /** [B, 3, audioLength, numMelBins] original audio view (normalised fbank tiled to 3 channels) */
  a: Float32Array
  /** [B, 3, imgSize, imgSize] original frame, ImageNet-normalised */
  v: Float32Array
  /** [B, 3, audioLength, numMelBins] augmented audio view */
  aAug: Float32Array
  /** [B, 3, imgSize, imgSize] augmented frame */
  vAug: Float32Array
  /** [B, augSizeA] parameters of the augmentation applied to aAug */
  tA: Float32Array
  /** [B, augSizeV] parameters of the augmentation applied to vAug */
  tV: Float32Array
  /** [B, S, augSizeA] virtual audio parameter vectors for the centroid (never applied) */
  tAList: Float32Array
  /** [B, S, augSizeV] virtual visual parameter vectors */
  tVList: Float32Array
  /** optional labels, [B, numClasses] multi-hot */
  labels?: Float32Array
}
