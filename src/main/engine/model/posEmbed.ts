/**
 * Fixed 2-D sin-cos position embedding in the MAE layout (official models/pos_embed.py):
 * token m = row·cols + col; dims [0, D/2) encode the column, [D/2, D) the row; each half is
 * sin(p·ω_k) ‖ cos(p·ω_k) with ω_k = 10000^(−k/(D/4)), k = 0…D/4−1.
 */
export function sinCosPosEmbed(dim: number, rows: number, cols: number): Float32Array {
  if (dim % 4 !== 0) throw new Error(`sin-cos position embedding needs a width divisible by 4, got ${dim}`)
  const quarter = dim / 4
  const omega = Array.from({ length: quarter }, (_, k) => 10000 ** (-k / quarter))
  const out = new Float32Array(rows * cols * dim) // [rows·cols, dim]
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const base = (r * cols + c) * dim
      for (let k = 0; k < quarter; k++) {
        out[base + k] = Math.sin(c * omega[k])
        out[base + quarter + k] = Math.cos(c * omega[k])
        out[base + 2 * quarter + k] = Math.sin(r * omega[k])
        out[base + 3 * quarter + k] = Math.cos(r * omega[k])
      }
    }
  }
  return out
}
