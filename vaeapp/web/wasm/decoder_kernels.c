// The decoder's heavy loops for decoder.js, as WebAssembly with 128-bit SIMD
// (four float32 lanes): dense layers as matrix products, transposed
// convolutions as that product plus col2im, ReLU and the sigmoid. The same
// values as decoder.js's plain JavaScript loops to within float32 rounding.
// Freestanding C (no libc); every array lives in the instance's own memory,
// laid out by decoder.js, and is passed as a pointer. Built twice by
// build_decoder_kernels.sh (with and without relaxed SIMD), which writes both
// modules, base64, into decoder.js.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

// acc + a * w: one fused multiply-add where the module is built with relaxed
// SIMD (-mrelaxed-simd; the engine may round once or twice), else a multiply
// and an add.
#ifdef __wasm_relaxed_simd__
#define MADD(acc, a, w) wasm_f32x4_relaxed_madd(a, w, acc)
#else
#define MADD(acc, a, w) wasm_f32x4_add(acc, wasm_f32x4_mul(a, w))
#endif

// x's nonzero values (of k) into vals, and where each one's kernel row
// starts (its index times the row length n) into nz; returns how many. ReLU
// leaves about half of a layer's inputs at zero: their kernel rows are
// skipped, and the product's inner loop reads the values and row starts in
// order, with no index arithmetic.
static int nonzeros(const float *x, int k, int n, int *nz, float *vals) {
  int m = 0;
  for (int i = 0; i < k; i++) {
    nz[m] = i * n;  // kept only if x[i] is nonzero: no branch to mispredict
    vals[m] = x[i];
    m += x[i] != 0.0f;
  }
  return m;
}

// The first lanes of v (1 to 4) stored at p.
static inline void store_lanes(float *p, v128_t v, int lanes) {
  if (lanes == 4) {
    wasm_v128_store(p, v);
    return;
  }
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (lanes > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (lanes > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

// Columns j .. j + 4 * (V - 1) + last of every row, V vectors of four
// columns held in registers over all of a row's nonzero inputs; the last
// vector keeps only its first `last` (1 to 4) lanes. Its loads may read up to
// three values past the end of a kernel row or of the bias, which
// decoder.js pads for it.
#define ROWS_BLOCK(V)                                                         \
  for (int r = 0; r < rows; r++) {                                            \
    const float *xr = vals + r * k;                                           \
    const int *rnz = nz + r * k;                                              \
    const int m = counts[r];                                                  \
    v128_t acc[V];                                                            \
    for (int v = 0; v < V; v++)                                               \
      acc[v] = bias ? wasm_v128_load(bias + j + 4 * v) : wasm_f32x4_splat(0); \
    for (int t = 0; t < m; t++) {                                             \
      const v128_t a = wasm_f32x4_splat(xr[t]);                               \
      const float *wi = w + rnz[t] + j;                                       \
      for (int v = 0; v < V; v++)                                             \
        acc[v] = MADD(acc[v], a, wasm_v128_load(wi + 4 * v));                 \
    }                                                                         \
    float *outr = out + (long)r * n + j;                                      \
    for (int v = 0; v < V - 1; v++) wasm_v128_store(outr + 4 * v, acc[v]);    \
    store_lanes(outr + 4 * (V - 1), acc[V - 1], last);                        \
  }

// out (rows, n) = bias (n) + x (rows, k) @ w (k, n), all row-major; bias may
// be null (zero). nz and vals (rows * k each) and counts (rows) are scratch.
// Columns go in blocks of 32 kept in registers, each block over every row
// while its slice of w stays in the cache; the last block is as narrow as
// what is left.
EXPORT("matmul_bias")
void matmul_bias(const float *x, int rows, int k, const float *w, int n,
                 const float *bias, float *out, int *nz, float *vals, int *counts) {
  for (int r = 0; r < rows; r++) {
    counts[r] = nonzeros(x + r * k, k, n, nz + r * k, vals + r * k);
  }
  for (int j = 0; j < n; j += 32) {
    const int left = n - j < 32 ? n - j : 32;
    const int vectors = (left + 3) / 4, last = left - 4 * (vectors - 1);
    switch (vectors) {
      case 1: ROWS_BLOCK(1) break;
      case 2: ROWS_BLOCK(2) break;
      case 3: ROWS_BLOCK(3) break;
      case 4: ROWS_BLOCK(4) break;
      case 5: ROWS_BLOCK(5) break;
      case 6: ROWS_BLOCK(6) break;
      case 7: ROWS_BLOCK(7) break;
      default: ROWS_BLOCK(8) break;
    }
  }
}

// out[0 .. count) += add[0 .. count).
static void add_into(float *out, const float *add, int count) {
  int c = 0;
  for (; c + 4 <= count; c += 4) {
    wasm_v128_store(out + c, wasm_f32x4_add(wasm_v128_load(out + c),
                                            wasm_v128_load(add + c)));
  }
  for (; c < count; c++) out[c] += add[c];
}

// A transposed convolution of rows images, (h, w, c_in) -> (oh, ow, c_out)
// channels-last, kernel (c_in, k, k, c_out) row-major: for each image, its
// pixels (h * w, c_in) times the kernel give every pixel's k x k taps
// (cols, h * w * k * k * c_out values), which are added, on the bias, into
// the output pixels they reach; pad is what is cropped from the start of the
// full (h - 1) * stride + k output. nz and vals (h * w * c_in each) and
// counts (h * w) are scratch.
EXPORT("conv_transpose")
void conv_transpose(const float *x, int rows, int h, int wd, int cin, int oh,
                    int ow, int cout, int k, int stride, int top, int left,
                    const float *w, const float *bias, float *out, float *cols,
                    int *nz, float *vals, int *counts) {
  const int taps = k * k * cout, pixels = h * wd;
  const long n_in = (long)pixels * cin, n_out = (long)oh * ow * cout;
  for (int r = 0; r < rows; r++) {
    matmul_bias(x + r * n_in, pixels, cin, w, taps, 0, cols, nz, vals, counts);
    float *o = out + r * n_out;
    for (int p = 0; p < oh * ow; p++) {
      for (int c = 0; c < cout; c++) o[p * cout + c] = bias[c];
    }
    for (int y = 0; y < h; y++) {
      for (int x0 = 0; x0 < wd; x0++) {
        const float *tap = cols + (long)(y * wd + x0) * taps;
        for (int a = 0; a < k; a++) {
          const int oy = y * stride + a - top;
          if (oy < 0 || oy >= oh) continue;
          for (int b = 0; b < k; b++) {
            const int ox = x0 * stride + b - left;
            if (ox < 0 || ox >= ow) continue;
            add_into(o + (oy * ow + ox) * cout, tap + (a * k + b) * cout, cout);
          }
        }
      }
    }
  }
}

// x[0 .. count) = max(x, 0).
EXPORT("relu")
void relu(float *x, int count) {
  const v128_t zero = wasm_f32x4_splat(0);
  int i = 0;
  for (; i + 4 <= count; i += 4) {
    wasm_v128_store(x + i, wasm_f32x4_max(wasm_v128_load(x + i), zero));
  }
  for (; i < count; i++) x[i] = x[i] < 0 ? 0 : x[i];
}

// e^x in float32, four at a time: Cephes's expf (Moshier, "Methods and
// Programs for Mathematical Functions", 1989), e^x = 2^n e^r with
// n = round(x / ln 2) and |r| <= ln 2 / 2, e^r by its polynomial; x is
// clamped to [-87, 88], where 2^n stays a normal float. NaN stays NaN.
static inline v128_t exp4(v128_t x) {
  x = wasm_f32x4_min(wasm_f32x4_max(x, wasm_f32x4_splat(-87.0f)),
                     wasm_f32x4_splat(88.0f));
  const v128_t n =
      wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  static const float coefficients[] = {1.3981999507e-3f, 8.3334519073e-3f,
                                       4.1665795894e-2f, 1.6666665459e-1f,
                                       5.0000001201e-1f};
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  for (int c = 0; c < 5; c++) {
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(coefficients[c]));
  }
  const v128_t y = wasm_f32x4_add(
      wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r),
      wasm_f32x4_splat(1.0f));
  const v128_t scale = wasm_i32x4_shl(
      wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(y, scale);
}

static inline v128_t sigmoid4(v128_t x) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, exp4(wasm_f32x4_neg(x))));
}

// x[0 .. count) = 1 / (1 + e^-x): the last layer's logits -> pixel means.
EXPORT("sigmoid")
void sigmoid(float *x, int count) {
  int i = 0;
  for (; i + 4 <= count; i += 4) wasm_v128_store(x + i, sigmoid4(wasm_v128_load(x + i)));
  if (i < count) {
    float tail[4] = {0, 0, 0, 0};
    for (int t = i; t < count; t++) tail[t - i] = x[t];
    const v128_t y = sigmoid4(wasm_v128_load(tail));
    wasm_v128_store(tail, y);
    for (int t = i; t < count; t++) x[t] = tail[t - i];
  }
}
