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

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}
