#ifndef SENDPLAN_SYS_H
#define SENDPLAN_SYS_H

/// Atomically swaps two paths (Linux renameat2 with RENAME_EXCHANGE).
/// Returns 0 on success, or -1 with errno set.
int sendplan_rename_exchange(const char *a, const char *b);

/// Keeps large buffers in the heap (glibc only); a no-op elsewhere.
void sendplan_tune_malloc(void);

#include <stddef.h>
#include <stdint.h>

/// Streaming SHA-256 state.
typedef struct {
  uint32_t state[8];
  uint64_t length;
  uint8_t buffer[64];
  uint32_t used;
} sendplan_sha256_ctx;

void sendplan_sha256_init(sendplan_sha256_ctx *c);
void sendplan_sha256_update(sendplan_sha256_ctx *c, const void *data, size_t len);
void sendplan_sha256_final(sendplan_sha256_ctx *c, uint8_t out[32]);
/// SHA-256 of one buffer.
void sendplan_sha256(const void *data, size_t len, uint8_t out[32]);
/// SHA-256 of one prefix byte followed by `a` and then `b` (RFC 6962 leaves and nodes).
void sendplan_sha256_prefixed(uint8_t prefix, const void *a, size_t alen, const void *b, size_t blen,
                              uint8_t out[32]);
/// SHA-256 of `a` followed by `b` (chain links).
void sendplan_sha256_concat(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);

/// Flushes every dirty page of the file system that holds `fd` (Linux syncfs).
/// Returns 0 on success, or -1 with errno set.
int sendplan_syncfs(int fd);

/// Starts asynchronous write-back of a file's dirty pages (Linux sync_file_range); errors are ignored,
/// because a later fsync or syncfs reports them.
void sendplan_start_writeback(int fd);

#endif
