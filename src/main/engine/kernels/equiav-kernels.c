/*
 * The engine's own WebAssembly SIMD kernels, run on tfjs-backend-wasm's heap: this module imports the
 * backend's memory and works on the float ranges of its tensors, given as byte offsets.
 * No static data and no stack: the module owns no byte of the memory it shares (scripts/build-kernels.mjs
 * checks the compiled code never touches the stack pointer). Every argument array lives in `dims`, a block
 * the caller allocates in the backend's heap.
 * Each kernel does the float32 operations, in the order, of the TensorFlow.js ops it replaces: the results
 * are equal bit for bit (tests/unit/wasm-kernels.test.ts).
 * Rebuild with `node scripts/build-kernels.mjs` (clang and lld for wasm32) after any change.
 */
#include <wasm_simd128.h>

/* dst[b * dst_stride + a] = src[a * src_stride + b] for a < rows, b < cols, in 4 × 4 blocks of SIMD shuffles */
static void transpose_tile(const float* src, float* dst, int rows, int cols, int src_stride, int dst_stride) {
  int a = 0;
  for (; a + 4 <= rows; a += 4) {
    const float* s = src + a * src_stride;
    int b = 0;
    for (; b + 4 <= cols; b += 4) {
      v128_t r0 = wasm_v128_load(s + b);
      v128_t r1 = wasm_v128_load(s + src_stride + b);
      v128_t r2 = wasm_v128_load(s + 2 * src_stride + b);
      v128_t r3 = wasm_v128_load(s + 3 * src_stride + b);
      v128_t lo01 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
      v128_t lo23 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
      v128_t hi01 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
      v128_t hi23 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
      float* d = dst + b * dst_stride + a;
      wasm_v128_store(d, wasm_i32x4_shuffle(lo01, lo23, 0, 1, 4, 5));
      wasm_v128_store(d + dst_stride, wasm_i32x4_shuffle(lo01, lo23, 2, 3, 6, 7));
      wasm_v128_store(d + 2 * dst_stride, wasm_i32x4_shuffle(hi01, hi23, 0, 1, 4, 5));
      wasm_v128_store(d + 3 * dst_stride, wasm_i32x4_shuffle(hi01, hi23, 2, 3, 6, 7));
    }
    for (; b < cols; b++) {
      for (int k = 0; k < 4; k++) dst[b * dst_stride + a + k] = s[k * src_stride + b];
    }
  }
  for (; a < rows; a++) {
    for (int b = 0; b < cols; b++) dst[b * dst_stride + a] = src[a * src_stride + b];
  }
}

/* the 2-D transpose above, cut into 32 × 32 blocks that stay in the L1 cache */
static void transpose_2d(const float* src, float* dst, int rows, int cols, int src_stride, int dst_stride) {
  const int block = 32;
  for (int a = 0; a < rows; a += block) {
    for (int b = 0; b < cols; b += block) {
      int n_a = rows - a < block ? rows - a : block;
      int n_b = cols - b < block ? cols - b : block;
      transpose_tile(src + a * src_stride + b, dst + b * dst_stride + a, n_a, n_b, src_stride, dst_stride);
    }
  }
}

static void copy_run(const float* src, float* dst, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(dst + i, wasm_v128_load(src + i));
  for (; i < n; i++) dst[i] = src[i];
}

/*
 * y = x with its axes permuted: y's axis k is x's axis perm[k]. dims holds 4·rank int32: x's shape, perm,
 * then two rows of scratch (x's strides, an index). Either both innermost axes are x's last one (y is made
 * of contiguous runs of x) or y is a set of 2-D transposes, one per index of the axes that are neither y's
 * last one nor the one that holds x's last.
 */
void transpose(const float* x, float* y, int rank, int* dims) {
  int* shape = dims;
  int* perm = dims + rank;
  int* stride = dims + 2 * rank;
  int* index = dims + 3 * rank;
  int s = 1;
  for (int k = rank - 1; k >= 0; k--) {
    stride[k] = s;
    s *= shape[k];
  }
  const int last = rank - 1;
  int q = 0; /* y's axis that holds x's last */
  while (perm[q] != last) q++;
  /* y's stride of its axis q */
  int y_stride_q = 1;
  for (int k = rank - 1; k > q; k--) y_stride_q *= shape[perm[k]];
  for (int k = 0; k < rank; k++) index[k] = 0;
  const int whole = s;
  const int p = perm[last];
  /* the outer odometer runs over y's axes except the last and, when it differs, q */
  const int tile = q != last;
  const int block = tile ? shape[p] * shape[last] : shape[last];
  for (int done = 0; done < whole; done += block) {
    int src = 0;
    int dst = 0;
    int dst_stride = 1;
    for (int k = rank - 1; k >= 0; k--) {
      src += index[k] * stride[perm[k]];
      dst += index[k] * dst_stride;
      dst_stride *= shape[perm[k]];
    }
    if (tile) {
      transpose_2d(x + src, y + dst, shape[p], shape[last], stride[p], y_stride_q);
    } else {
      copy_run(x + src, y + dst, shape[last]);
    }
    for (int k = rank - 2; k >= 0; k--) {
      if (tile && k == q) continue;
      if (++index[k] < shape[perm[k]]) break;
      index[k] = 0;
    }
  }
}

/*
 * out[j] = Σ_i x[i·cols + j], the rows added in order (the bias gradients, nn/linear's columnSums): the sums
 * the backend's 1×rows·rows×cols product gives, without the copy it makes of x to pack it.
 */
void column_sums(const float* x, float* out, int rows, int cols) {
  int j = 0;
  for (; j + 4 <= cols; j += 4) {
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < rows; i++) acc = wasm_f32x4_add(acc, wasm_v128_load(x + i * cols + j));
    wasm_v128_store(out + j, acc);
  }
  for (; j < cols; j++) {
    float acc = 0.0f;
    for (int i = 0; i < rows; i++) acc += x[i * cols + j];
    out[j] = acc;
  }
}

/* Σ of n floats in order, as the backend's Mean adds them */
static float row_sum(const float* x, int n) {
  float sum = 0.0f;
  for (int i = 0; i < n; i++) sum += x[i];
  return sum;
}

/*
 * LayerNorm over rows of `dim` (nn/layerNorm): per row mean = Σx/dim, var = Σ(x − mean)²/dim,
 * inv_std = 1/√(var + eps), x_hat = (x − mean)·inv_std, y = x_hat·weight + bias. Writes y, x_hat and inv_std.
 * The sums run in order (scalar); the element-wise loop is vectorised.
 */
void layer_norm(const float* restrict x, const float* restrict weight, const float* restrict bias, float eps, float* restrict y,
                float* restrict x_hat, float* restrict inv_std, int rows, int dim) {
  const float n = (float)dim;
  for (int r = 0; r < rows; r++) {
    const float* xr = x + r * dim;
    const float mean = row_sum(xr, dim) / n;
    float sq = 0.0f;
    for (int i = 0; i < dim; i++) {
      const float d = xr[i] - mean;
      sq += d * d;
    }
    const float inv = 1.0f / __builtin_sqrtf(sq / n + eps);
    inv_std[r] = inv;
    float* hr = x_hat + r * dim;
    float* yr = y + r * dim;
    for (int i = 0; i < dim; i++) {
      const float h = (xr[i] - mean) * inv;
      hr[i] = h;
      yr[i] = h * weight[i] + bias[i];
    }
  }
}

/*
 * LayerNorm's backward from x_hat and inv_std: with g = dy·weight,
 * dx = ((g − mean(g)) − x_hat·mean(g·x_hat))·inv_std; dweight = Σ_rows dy·x_hat and dbias = Σ_rows dy
 * (rows added in order, as column_sums). dweight and dbias are overwritten.
 */
void layer_norm_grad(const float* restrict dy, const float* restrict x_hat, const float* restrict inv_std, const float* restrict weight,
                     float* restrict dx, float* restrict dweight, float* restrict dbias, int rows, int dim) {
  const float n = (float)dim;
  for (int i = 0; i < dim; i++) {
    dweight[i] = 0.0f;
    dbias[i] = 0.0f;
  }
  for (int r = 0; r < rows; r++) {
    const float* dyr = dy + r * dim;
    const float* hr = x_hat + r * dim;
    float sum_g = 0.0f;
    float sum_gh = 0.0f;
    for (int i = 0; i < dim; i++) {
      const float g = dyr[i] * weight[i];
      sum_g += g;
      sum_gh += g * hr[i];
    }
    const float mean_g = sum_g / n;
    const float mean_gh = sum_gh / n;
    const float inv = inv_std[r];
    float* dxr = dx + r * dim;
    for (int i = 0; i < dim; i++) {
      dxr[i] = ((dyr[i] * weight[i] - mean_g) - hr[i] * mean_gh) * inv;
      dweight[i] += dyr[i] * hr[i];
      dbias[i] += dyr[i];
    }
  }
}

/* GELU's forward after the backend's erf of x/√2 (nn/activations): cdf = (erf + 1)·0.5, y = x·cdf */
void gelu_from_erf(const float* x, const float* erf, float* cdf, float* y, int n) {
  int i = 0;
  const v128_t one = wasm_f32x4_splat(1.0f);
  const v128_t half = wasm_f32x4_splat(0.5f);
  for (; i + 4 <= n; i += 4) {
    const v128_t c = wasm_f32x4_mul(wasm_f32x4_add(wasm_v128_load(erf + i), one), half);
    wasm_v128_store(cdf + i, c);
    wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(x + i), c));
  }
  for (; i < n; i++) {
    const float c = (erf[i] + 1.0f) * 0.5f;
    cdf[i] = c;
    y[i] = x[i] * c;
  }
}

/* the exponent of GELU's density, x²·(−0.5) */
void gelu_density_exponent(const float* x, float* out, int n) {
  int i = 0;
  const v128_t minus_half = wasm_f32x4_splat(-0.5f);
  for (; i + 4 <= n; i += 4) {
    const v128_t v = wasm_v128_load(x + i);
    wasm_v128_store(out + i, wasm_f32x4_mul(wasm_f32x4_mul(v, v), minus_half));
  }
  for (; i < n; i++) out[i] = (x[i] * x[i]) * -0.5f;
}

/* GELU's backward after the backend's exp of the exponent above: dx = dy·(cdf + x·(e·c)), c = 1/√(2π) as float32 */
void gelu_grad(const float* dy, const float* x, const float* cdf, const float* e, float c, float* dx, int n) {
  int i = 0;
  const v128_t cv = wasm_f32x4_splat(c);
  for (; i + 4 <= n; i += 4) {
    const v128_t pdf = wasm_f32x4_mul(wasm_v128_load(e + i), cv);
    const v128_t slope = wasm_f32x4_add(wasm_v128_load(cdf + i), wasm_f32x4_mul(wasm_v128_load(x + i), pdf));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), slope));
  }
  for (; i < n; i++) dx[i] = dy[i] * (cdf[i] + x[i] * (e[i] * c));
}

/*
 * Softmax's backward over rows of n from its output y (TensorFlow.js's gradient of Softmax):
 * dx = dy·y − Σ(dy·y)·y, the row sum in order.
 */
void softmax_grad(const float* restrict dy, const float* restrict y, float* restrict dx, int rows, int n) {
  for (int r = 0; r < rows; r++) {
    const float* dyr = dy + r * n;
    const float* yr = y + r * n;
    float sum = 0.0f;
    for (int i = 0; i < n; i++) sum += dyr[i] * yr[i];
    float* dxr = dx + r * n;
    for (int i = 0; i < n; i++) dxr[i] = dyr[i] * yr[i] - sum * yr[i];
  }
}

/* sum + Σ x², the squares and the additions in float32 and in order (the backend's Square then Sum, a long
   array taken in consecutive parts, each continuing the previous part's sum) */
float sum_of_squares(const float* x, int n, float sum) {
  for (int i = 0; i < n; i++) sum += x[i] * x[i];
  return sum;
}

/*
 * AdamW's update of n values (each operation in float32 in the order of optim.ts AdamW.step's kernels): g·scale when clipping (clip ≠ 0), m ← m·β₁ + g·(1 − β₁), v ← v·β₂ + g²·(1 − β₂),
 * p ← p·decay − (m / (√v / root_bc2 + eps))·rate. The constants come rounded to float32.
 */
void adamw(float* restrict p, float* restrict m, float* restrict v, const float* restrict g, int n, float b1, float b2, float c1, float c2,
           float root_bc2, float eps, float decay, float rate, float scale, int clip) {
  for (int i = 0; i < n; i++) {
    const float gi = clip ? g[i] * scale : g[i];
    const float m_new = m[i] * b1 + gi * c1;
    const float v_new = v[i] * b2 + (gi * gi) * c2;
    const float denom = __builtin_sqrtf(v_new) / root_bc2 + eps;
    p[i] = p[i] * decay - (m_new / denom) * rate;
    m[i] = m_new;
    v[i] = v_new;
  }
}

/*
 * The health of n parameter values (param-health.ts measureValues): returns sum + Σ x² over the finite ones
 * in float64, in order, and adds the count of the others (NaN, ±∞) to *non_finite.
 */
double finite_sum_of_squares(const float* x, int n, double sum, int* non_finite) {
  int bad = 0;
  for (int i = 0; i < n; i++) {
    const double d = x[i];
    if (d - d != 0.0) bad++;
    else sum += d * d;
  }
  *non_finite += bad;
  return sum;
}
