// SHA-256 for the audit trail's many small hashes (leaves, chain links, Merkle nodes).
// Each audit record needs three hashes of under 128 bytes; the per-call overhead of a
// general-purpose library dominated at that size, so this file hashes with no allocation
// and uses the x86 SHA extensions when the CPU has them. Tests compare it with swift-crypto.
#include <stdint.h>
#include <string.h>
#include "sendplan_sys.h"

static const uint32_t K256[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void blocks_portable(uint32_t s[8], const uint8_t *p, size_t n) {
  uint32_t w[64];
  while (n--) {
    for (int i = 0; i < 16; i++)
      w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
      uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
    for (int i = 0; i < 64; i++) {
      uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
      uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s[0] += a; s[1] += b; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
    p += 64;
  }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

// Four rounds with the SHA extensions: the schedule word group plus constants, two rounds each.
#define QROUND(msg, i)                                                            \
  do {                                                                            \
    __m128i m_ = _mm_add_epi32((msg), _mm_loadu_si128((const __m128i *)&K256[4 * (i)])); \
    cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m_);                                 \
    abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m_, 0x0E));        \
  } while (0)

// Next group of four schedule words from the previous four groups.
#define NEXT(w0, w1, w2, w3) \
  _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((w0), (w1)), _mm_alignr_epi8((w3), (w2), 4)), (w3))

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_shani(uint32_t s[8], const uint8_t *p, size_t n) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i lo = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[0]), 0xB1);
  __m128i hi = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&s[4]), 0x1B);
  __m128i abef = _mm_alignr_epi8(lo, hi, 8);
  __m128i cdgh = _mm_blend_epi16(hi, lo, 0xF0);
  while (n--) {
    const __m128i abef0 = abef, cdgh0 = cdgh;
    __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
    __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
    __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
    __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
    QROUND(w0, 0);
    QROUND(w1, 1);
    QROUND(w2, 2);
    QROUND(w3, 3);
    for (int g = 4; g < 16; g += 4) {
      w0 = NEXT(w0, w1, w2, w3); QROUND(w0, g);
      w1 = NEXT(w1, w2, w3, w0); QROUND(w1, g + 1);
      w2 = NEXT(w2, w3, w0, w1); QROUND(w2, g + 2);
      w3 = NEXT(w3, w0, w1, w2); QROUND(w3, g + 3);
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
    p += 64;
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128((__m128i *)&s[0], _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128((__m128i *)&s[4], _mm_alignr_epi8(dchg, feba, 8));
}

static int have_shani(void) {
  static int cached = -1;
  if (cached < 0) {
    unsigned a, b, c, d;
    int ok = 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) ok = (b >> 29) & 1;
    if (ok && __get_cpuid(1, &a, &b, &c, &d)) ok = (c >> 19) & 1;  // SSE4.1
    cached = ok;
  }
  return cached;
}
#endif

static void blocks(uint32_t s[8], const uint8_t *p, size_t n) {
#if defined(__x86_64__)
  if (have_shani()) {
    blocks_shani(s, p, n);
    return;
  }
#endif
  blocks_portable(s, p, n);
}

void sendplan_sha256_init(sendplan_sha256_ctx *c) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->state, iv, sizeof iv);
  c->length = 0;
  c->used = 0;
}

void sendplan_sha256_update(sendplan_sha256_ctx *c, const void *data, size_t len) {
  const uint8_t *p = data;
  c->length += len;
  if (c->used) {
    size_t take = 64 - c->used < len ? 64 - c->used : len;
    memcpy(c->buffer + c->used, p, take);
    c->used += (uint32_t)take;
    p += take;
    len -= take;
    if (c->used < 64) return;
    blocks(c->state, c->buffer, 1);
    c->used = 0;
  }
  if (len >= 64) {
    blocks(c->state, p, len / 64);
    p += len & ~(size_t)63;
    len &= 63;
  }
  if (len) {
    memcpy(c->buffer, p, len);
    c->used = (uint32_t)len;
  }
}

void sendplan_sha256_final(sendplan_sha256_ctx *c, uint8_t out[32]) {
  uint64_t bits = c->length * 8;
  uint8_t pad[72];
  size_t padlen = (c->used < 56 ? 56 : 120) - c->used;
  memset(pad, 0, sizeof pad);
  pad[0] = 0x80;
  for (int i = 0; i < 8; i++) pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
  sendplan_sha256_update(c, pad, padlen + 8);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(c->state[i] >> 24);
    out[4 * i + 1] = (uint8_t)(c->state[i] >> 16);
    out[4 * i + 2] = (uint8_t)(c->state[i] >> 8);
    out[4 * i + 3] = (uint8_t)c->state[i];
  }
}

void sendplan_sha256(const void *data, size_t len, uint8_t out[32]) {
  sendplan_sha256_ctx c;
  sendplan_sha256_init(&c);
  sendplan_sha256_update(&c, data, len);
  sendplan_sha256_final(&c, out);
}

void sendplan_sha256_prefixed(uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
                              uint8_t out[32]) {
  sendplan_sha256_ctx c;
  sendplan_sha256_init(&c);
  sendplan_sha256_update(&c, &prefix, 1);
  sendplan_sha256_update(&c, a, alen);
  if (blen) sendplan_sha256_update(&c, b, blen);
  sendplan_sha256_final(&c, out);
}

void sendplan_sha256_concat(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]) {
  sendplan_sha256_ctx c;
  sendplan_sha256_init(&c);
  sendplan_sha256_update(&c, a, alen);
  sendplan_sha256_update(&c, b, blen);
  sendplan_sha256_final(&c, out);
}
