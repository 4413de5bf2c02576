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

// Two independent messages of n blocks each, round for round. SHA-NI rounds are latency-bound, so the
// second message's rounds fill the gaps of the first and cost little extra.
#define QROUND2(ma, mb, i)                                                         \
  do {                                                                             \
    __m128i k_ = _mm_loadu_si128((const __m128i *)&K256[4 * (i)]);                 \
    __m128i a_ = _mm_add_epi32((ma), k_), b_ = _mm_add_epi32((mb), k_);            \
    cdghA = _mm_sha256rnds2_epu32(cdghA, abefA, a_);                               \
    cdghB = _mm_sha256rnds2_epu32(cdghB, abefB, b_);                               \
    abefA = _mm_sha256rnds2_epu32(abefA, cdghA, _mm_shuffle_epi32(a_, 0x0E));      \
    abefB = _mm_sha256rnds2_epu32(abefB, cdghB, _mm_shuffle_epi32(b_, 0x0E));      \
  } while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void blocks_shani_x2(uint32_t sa[8], const uint8_t *pa, uint32_t sb[8], const uint8_t *pb, size_t n) {
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i lo = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sa[0]), 0xB1);
  __m128i hi = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sa[4]), 0x1B);
  __m128i abefA = _mm_alignr_epi8(lo, hi, 8);
  __m128i cdghA = _mm_blend_epi16(hi, lo, 0xF0);
  lo = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sb[0]), 0xB1);
  hi = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&sb[4]), 0x1B);
  __m128i abefB = _mm_alignr_epi8(lo, hi, 8);
  __m128i cdghB = _mm_blend_epi16(hi, lo, 0xF0);
  while (n--) {
    const __m128i abefA0 = abefA, cdghA0 = cdghA, abefB0 = abefB, cdghB0 = cdghB;
    __m128i a0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 0)), bswap);
    __m128i a1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 16)), bswap);
    __m128i a2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 32)), bswap);
    __m128i a3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pa + 48)), bswap);
    __m128i b0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 0)), bswap);
    __m128i b1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 16)), bswap);
    __m128i b2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 32)), bswap);
    __m128i b3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(pb + 48)), bswap);
    QROUND2(a0, b0, 0);
    QROUND2(a1, b1, 1);
    QROUND2(a2, b2, 2);
    QROUND2(a3, b3, 3);
    for (int g = 4; g < 16; g += 4) {
      a0 = NEXT(a0, a1, a2, a3); b0 = NEXT(b0, b1, b2, b3); QROUND2(a0, b0, g);
      a1 = NEXT(a1, a2, a3, a0); b1 = NEXT(b1, b2, b3, b0); QROUND2(a1, b1, g + 1);
      a2 = NEXT(a2, a3, a0, a1); b2 = NEXT(b2, b3, b0, b1); QROUND2(a2, b2, g + 2);
      a3 = NEXT(a3, a0, a1, a2); b3 = NEXT(b3, b0, b1, b2); QROUND2(a3, b3, g + 3);
    }
    abefA = _mm_add_epi32(abefA, abefA0);
    cdghA = _mm_add_epi32(cdghA, cdghA0);
    abefB = _mm_add_epi32(abefB, abefB0);
    cdghB = _mm_add_epi32(cdghB, cdghB0);
    pa += 64;
    pb += 64;
  }
  __m128i feba = _mm_shuffle_epi32(abefA, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(cdghA, 0xB1);
  _mm_storeu_si128((__m128i *)&sa[0], _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128((__m128i *)&sa[4], _mm_alignr_epi8(dchg, feba, 8));
  feba = _mm_shuffle_epi32(abefB, 0x1B);
  dchg = _mm_shuffle_epi32(cdghB, 0xB1);
  _mm_storeu_si128((__m128i *)&sb[0], _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128((__m128i *)&sb[4], _mm_alignr_epi8(dchg, feba, 8));
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

static void blocks_x2(uint32_t sa[8], const uint8_t *pa, uint32_t sb[8], const uint8_t *pb, size_t n) {
#if defined(__x86_64__)
  if (have_shani()) {
    blocks_shani_x2(sa, pa, sb, pb, n);
    return;
  }
#endif
  blocks_portable(sa, pa, n);
  blocks_portable(sb, pb, n);
}

static const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

void sendplan_sha256_init(sendplan_sha256_ctx *c) {
  memcpy(c->state, IV, sizeof IV);
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

// ---- The audit's record hashes and Merkle tree, pipelined ----
//
// Each record's hash depends on the previous one, so records hash one after another. The Merkle
// nodes above them do not depend on the chain, so each record's hash runs beside one waiting node
// (blocks_x2). Nodes wait in a FIFO queue; a finished node at level h pairs with the pending left
// node of level h, so nodes of one level are always combined in order and the tree is exactly the
// one MerkleFrontier builds.

static void store_be(const uint32_t s[8], uint8_t out[32]) {
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(s[i] >> 24);
    out[4 * i + 1] = (uint8_t)(s[i] >> 16);
    out[4 * i + 2] = (uint8_t)(s[i] >> 8);
    out[4 * i + 3] = (uint8_t)s[i];
  }
}

// Pads a message of `len` bytes held in buf (capacity at least len + 72); returns its block count.
static size_t pad_message(uint8_t *buf, size_t len) {
  size_t total = (len + 9 + 63) & ~(size_t)63;
  buf[len] = 0x80;
  memset(buf + len + 1, 0, total - len - 9);
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) buf[total - 8 + i] = (uint8_t)(bits >> (56 - 8 * i));
  return total / 64;
}

// The padded RFC 6962 node message 0x01 || left || right: always two blocks.
static void node_message(uint8_t buf[128], const sendplan_merkle_job *j) {
  buf[0] = 1;
  memcpy(buf + 1, j->left, 32);
  memcpy(buf + 33, j->right, 32);
  pad_message(buf, 65);
}

static void deliver(sendplan_merkle *m, const uint8_t node[32], uint32_t level) {
  uint64_t bit = (uint64_t)1 << level;
  if (m->mask & bit) {
    sendplan_merkle_job *j = &m->queue[(m->head + m->count) % SENDPLAN_MERKLE_QUEUE];
    memcpy(j->left, m->pending[level], 32);
    memcpy(j->right, node, 32);
    j->level = level;
    m->count++;
    m->mask &= ~bit;
  } else {
    memcpy(m->pending[level], node, 32);
    m->mask |= bit;
  }
}

static sendplan_merkle_job pop(sendplan_merkle *m) {
  sendplan_merkle_job j = m->queue[m->head];
  m->head = (m->head + 1) % SENDPLAN_MERKLE_QUEUE;
  m->count--;
  return j;
}

// Runs queued nodes two at a time until at most `keep` wait.
static void run_queue(sendplan_merkle *m, uint32_t keep) {
  uint8_t a[128], b[128], out[32];
  while (m->count > keep) {
    sendplan_merkle_job ja = pop(m);
    uint32_t sa[8], sb[8];
    memcpy(sa, IV, sizeof IV);
    node_message(a, &ja);
    if (m->count > 0) {
      sendplan_merkle_job jb = pop(m);
      memcpy(sb, IV, sizeof IV);
      node_message(b, &jb);
      blocks_x2(sa, a, sb, b, 2);
      store_be(sa, out);
      deliver(m, out, ja.level + 1);
      store_be(sb, out);
      deliver(m, out, jb.level + 1);
    } else {
      blocks(sa, a, 2);
      store_be(sa, out);
      deliver(m, out, ja.level + 1);
    }
  }
}

void sendplan_merkle_init(sendplan_merkle *m, uint64_t size, const uint8_t *nodes) {
  memset(m, 0, sizeof *m);
  m->size = size;
  m->mask = size;
  size_t k = 0;
  for (int level = 63; level >= 0; level--) {
    if (size >> level & 1) memcpy(m->pending[level], nodes + 32 * k++, 32);
  }
}

void sendplan_merkle_record(sendplan_merkle *m, const void *open, size_t openlen, const uint8_t prev[32],
                            uint8_t out[32]) {
  uint8_t a[512];
  size_t len = openlen + 34;
  uint32_t sa[8];
  if (len + 72 > sizeof a) {
    sendplan_sha256_ctx c;
    uint8_t zero = 0, brace = 0x7D;
    sendplan_sha256_init(&c);
    sendplan_sha256_update(&c, &zero, 1);
    sendplan_sha256_update(&c, open, openlen);
    sendplan_sha256_update(&c, &brace, 1);
    sendplan_sha256_update(&c, prev, 32);
    sendplan_sha256_final(&c, out);
  } else {
    a[0] = 0;
    memcpy(a + 1, open, openlen);
    a[openlen + 1] = 0x7D;
    memcpy(a + openlen + 2, prev, 32);
    size_t na = pad_message(a, len);
    memcpy(sa, IV, sizeof IV);
    if (m->count > 0) {
      uint8_t b[128], node[32];
      uint32_t sb[8];
      sendplan_merkle_job j = pop(m);
      memcpy(sb, IV, sizeof IV);
      node_message(b, &j);
      size_t both = na < 2 ? na : 2;
      blocks_x2(sa, a, sb, b, both);
      if (na > both) blocks(sa, a + 64 * both, na - both);
      if (both < 2) blocks(sb, b + 64 * both, 2 - both);
      store_be(sb, node);
      deliver(m, node, j.level + 1);
    } else {
      blocks(sa, a, na);
    }
    store_be(sa, out);
  }
  deliver(m, out, 0);
  m->size++;
  if (m->count > SENDPLAN_MERKLE_QUEUE / 2) run_queue(m, SENDPLAN_MERKLE_QUEUE / 4);
}

void sendplan_merkle_leaf(sendplan_merkle *m, const uint8_t leaf[32]) {
  deliver(m, leaf, 0);
  m->size++;
  run_queue(m, 1);
}

size_t sendplan_merkle_finish(sendplan_merkle *m, uint8_t *nodes) {
  run_queue(m, 0);
  size_t k = 0;
  for (int level = 63; level >= 0; level--) {
    if (m->mask >> level & 1) memcpy(nodes + 32 * k++, m->pending[level], 32);
  }
  return k;
}
