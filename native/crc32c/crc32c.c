/*
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as a Node-API addon, for Sluice's
 * record batch validation (src/protocol/crc32c.ts loads it and checks it against its own
 * JavaScript implementation before use).
 *
 * Exports:
 *   crc32c(buf: Uint8Array, start?: number, end?: number, crc?: number): number
 *     continues the CRC-32C `crc` (0 to start; a previous result to chain) over
 *     buf[start, end); throws RangeError unless 0 <= start and end <= buf.length (an empty
 *     range, start >= end, returns crc unchanged), TypeError unless buf is a Uint8Array.
 *   implementation: 'sse42-3way' when the function above is usable on this CPU, else absent
 *     (and crc32c is absent too): the JavaScript side then falls back to other code.
 *
 * Method. The SSE4.2 `crc32` instruction folds 8 bytes per instruction, but it has a latency
 * of 3 cycles and a throughput of 1 per cycle, so one dependent chain uses a third of it.
 * Large inputs are therefore cut into rounds of three equal blocks; three independent CRC
 * registers run over the three blocks at once (the first continuing the running CRC, the
 * other two from 0), and the round ends by combining them:
 *     reg(A|B|C) = reg(A)·x^(8·2n) ⊕ reg(B)·x^(8·n) ⊕ reg(C)          (mod P, n = block bytes)
 * which is what CRC linearity gives for the un-inverted register. Multiplying a register by
 * x^k mod P uses one carry-less multiply (PCLMULQDQ) by a constant and one `crc32` of the
 * 64-bit product: in the reflected bit order, clmul(a, b) read as a 64-bit message is
 * a·b·x, and crc32_u64(0, m) is m·x^32 mod P, so crc32_u64(0, clmul(a, x^(k-33))) = a·x^k.
 * The constants x^(k-33) mod P are computed once at load by a bitwise multiply (no tables).
 * Rounds of 3 × 8192 bytes first, then 3 × 256 bytes, then a single chain for the rest.
 *
 * CPU support is checked at run time (__builtin_cpu_supports: sse4.2 and pclmul); only the
 * functions marked with the target attribute use those instructions, so the module loads on
 * any x86-64 and simply exports no crc32c where they are missing. Other architectures and
 * compilers build a module that exports nothing usable. Pure functions: the only state is four
 * constants written once before the exports exist; safe from any thread.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define POLY 0x82f63b78u /* reflected: bit 31 is x^0, bit 0 is x^31 */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SLUICE_CRC_X86 1
#include <nmmintrin.h>
#include <wmmintrin.h>
#endif

/* a·b mod P, one bit of `a` at a time (used only to make constants). */
static uint32_t mul_mod_p(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (int degree = 0; degree < 32; degree++) {
    if (a & (0x80000000u >> degree)) product ^= b;
    b = (b & 1) ? (b >> 1) ^ POLY : b >> 1; /* b ·= x */
  }
  return product;
}

/* x^n mod P by square-and-multiply. */
static uint32_t x_pow_mod_p(uint64_t n) {
  uint32_t result = 0x80000000u; /* x^0 */
  uint32_t square = 0x40000000u; /* x^1 */
  while (n != 0) {
    if (n & 1) result = mul_mod_p(result, square);
    square = mul_mod_p(square, square);
    n >>= 1;
  }
  return result;
}

#ifdef SLUICE_CRC_X86

#define LONG_BLOCK 8192
#define MID_BLOCK 1024
#define SHORT_BLOCK 256

/* x^(8·n - 33) and x^(16·n - 33) mod P for n = LONG_BLOCK and SHORT_BLOCK. */
static uint32_t k_long1, k_long2, k_mid1, k_mid2, k_short1, k_short2;

static void init_constants(void) {
  k_long1 = x_pow_mod_p(8ull * LONG_BLOCK - 33);
  k_long2 = x_pow_mod_p(16ull * LONG_BLOCK - 33);
  k_mid1 = x_pow_mod_p(8ull * MID_BLOCK - 33);
  k_mid2 = x_pow_mod_p(16ull * MID_BLOCK - 33);
  k_short1 = x_pow_mod_p(8ull * SHORT_BLOCK - 33);
  k_short2 = x_pow_mod_p(16ull * SHORT_BLOCK - 33);
}

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v); /* one unaligned load on x86 */
  return v;
}

/* reg · x^k mod P, where constant = x^(k-33) mod P (see the header). */
__attribute__((target("sse4.2,pclmul"))) static inline uint64_t mul_x_pow(uint64_t reg, uint32_t constant) {
  __m128i product = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)(uint32_t)reg),
                                         _mm_cvtsi32_si128((int)constant), 0x00);
  return _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(product));
}

/*
 * One round over three consecutive blocks of `block` bytes at p; `block` is a compile-time
 * constant at each call so the loop is unrolled and addressed with fixed displacements.
 */
__attribute__((target("sse4.2,pclmul"), always_inline)) static inline uint64_t
round3(uint64_t reg, const uint8_t *p, size_t block, uint32_t k1, uint32_t k2) {
  uint64_t r0 = reg, r1 = 0, r2 = 0;
  const uint8_t *end = p + block;
  do {
    r0 = _mm_crc32_u64(r0, load64(p));
    r1 = _mm_crc32_u64(r1, load64(p + block));
    r2 = _mm_crc32_u64(r2, load64(p + 2 * block));
    p += 8;
  } while (p < end);
  return mul_x_pow(r0, k2) ^ mul_x_pow(r1, k1) ^ r2;
}

__attribute__((target("sse4.2,pclmul"))) static uint32_t crc32c_3way(uint32_t crc, const uint8_t *p,
                                                                      size_t n) {
  uint64_t reg = (uint32_t)~crc;
  /* Align the loads to 8 bytes (a batch's CRC range starts at an odd offset, 21). */
  while (n != 0 && ((uintptr_t)p & 7) != 0) {
    reg = _mm_crc32_u8((uint32_t)reg, *p++);
    n--;
  }
  while (n >= 3 * LONG_BLOCK) {
    reg = round3(reg, p, LONG_BLOCK, k_long1, k_long2);
    p += 3 * LONG_BLOCK;
    n -= 3 * LONG_BLOCK;
  }
  while (n >= 3 * MID_BLOCK) {
    reg = round3(reg, p, MID_BLOCK, k_mid1, k_mid2);
    p += 3 * MID_BLOCK;
    n -= 3 * MID_BLOCK;
  }
  while (n >= 3 * SHORT_BLOCK) {
    reg = round3(reg, p, SHORT_BLOCK, k_short1, k_short2);
    p += 3 * SHORT_BLOCK;
    n -= 3 * SHORT_BLOCK;
  }
  while (n >= 8) {
    reg = _mm_crc32_u64(reg, load64(p));
    p += 8;
    n -= 8;
  }
  while (n != 0) {
    reg = _mm_crc32_u8((uint32_t)reg, *p++);
    n--;
  }
  return ~(uint32_t)reg;
}

static int cpu_has_3way(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
}

#endif /* SLUICE_CRC_X86 */

/* Reads an optional integer argument in [0, limit]; returns 0 and throws otherwise. */
static int read_index(napi_env env, napi_value value, size_t fallback, size_t limit, const char *name,
                      size_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_undefined) {
    *out = fallback;
    return 1;
  }
  double d;
  if (type != napi_number || napi_get_value_double(env, value, &d) != napi_ok || !(d >= 0) ||
      d > (double)limit || d != (double)(size_t)d) {
    char message[96];
    snprintf(message, sizeof message, "crc32c: %s must be an integer in [0, %zu]", name, limit);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

#ifdef SLUICE_CRC_X86
static napi_value js_crc32c(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (size_t i = argc; i < 4; i++) argv[i] = undefined;

  bool is_typed_array = false;
  napi_is_typedarray(env, argv[0], &is_typed_array);
  napi_typedarray_type kind;
  size_t length = 0;
  void *data = NULL;
  if (!is_typed_array ||
      napi_get_typedarray_info(env, argv[0], &kind, &length, &data, NULL, NULL) != napi_ok ||
      (kind != napi_uint8_array && kind != napi_uint8_clamped_array)) {
    napi_throw_type_error(env, NULL, "crc32c: buf must be a Uint8Array");
    return NULL;
  }
  size_t start, end;
  if (!read_index(env, argv[1], 0, length, "start", &start)) return NULL;
  if (!read_index(env, argv[2], length, length, "end", &end)) return NULL;
  uint32_t crc = 0;
  napi_valuetype crc_type;
  napi_typeof(env, argv[3], &crc_type);
  if (crc_type != napi_undefined && napi_get_value_uint32(env, argv[3], &crc) != napi_ok) {
    napi_throw_type_error(env, NULL, "crc32c: crc must be a number");
    return NULL;
  }
  if (end > start) crc = crc32c_3way(crc, (const uint8_t *)data + start, end - start);
  napi_value result;
  napi_create_uint32(env, crc, &result);
  return result;
}
#endif

static napi_value init(napi_env env, napi_value exports) {
#ifdef SLUICE_CRC_X86
  if (cpu_has_3way()) {
    init_constants();
    napi_value fn, name;
    napi_create_function(env, "crc32c", NAPI_AUTO_LENGTH, js_crc32c, NULL, &fn);
    napi_set_named_property(env, exports, "crc32c", fn);
    napi_create_string_utf8(env, "sse42-3way", NAPI_AUTO_LENGTH, &name);
    napi_set_named_property(env, exports, "implementation", name);
  }
#else
  (void)env;
  (void)x_pow_mod_p;
  (void)read_index;
#endif
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
