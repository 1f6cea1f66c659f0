/** A named tensor held in plain memory, as files store it (row-major, PyTorch/NumPy order). */
export type DType = 'F32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL'

export interface HostTensor {
  shape: number[]
  /** values converted to float32, row-major */
  data: Float32Array
  /** dtype as it was stored in the file */
  dtype: DType
}

export type TensorDict = Map<string, HostTensor>

/** Bytes per element of each stored dtype. */
export const BYTES_PER_ELEMENT: Record<DType, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 }

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** What a checkpoint holds: the weights, AdamW's state and the trainer's JSON state. */
export interface CheckpointContents {
  weights: TensorDict
  optimizer: TensorDict
  /** the trainer's JSON state: step, epoch, full config, backend, time */
  state: Record<string, unknown>
}
