#ifndef SENDPLAN_SYS_H
#define SENDPLAN_SYS_H

/// Atomically swaps two paths (Linux renameat2 with RENAME_EXCHANGE).
/// Returns 0 on success, or -1 with errno set.
int sendplan_rename_exchange(const char *a, const char *b);

/// Keeps large buffers in the heap (glibc only); a no-op elsewhere.
void sendplan_tune_malloc(void);

/// Returns the free memory of every malloc arena to the system (glibc's malloc_trim), as a run
/// does between partitions of the bundle; a no-op elsewhere.
void sendplan_release_free_memory(void);

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

#define SENDPLAN_MERKLE_QUEUE 64

/// Two nodes waiting to be combined into a node of level `level + 1`.
typedef struct {
  uint8_t left[32];
  uint8_t right[32];
  uint32_t level;
} sendplan_merkle_job;

/// An RFC 6962 Merkle tree's right edge being extended, with node hashes queued so they can run
/// beside the record hashes. Equal to the frontier of `size` leaves once finished.
typedef struct {
  uint8_t pending[64][32];
  uint64_t size;
  uint64_t mask;
  sendplan_merkle_job queue[SENDPLAN_MERKLE_QUEUE];
  uint32_t head;
  uint32_t count;
} sendplan_merkle;

/// Starts from the frontier of `size` leaves: one node per set bit of size, largest subtree first.
void sendplan_merkle_init(sendplan_merkle *m, uint64_t size, const uint8_t *nodes);
/// Hashes an audit record, SHA-256(0x00 || open || "}" || prev), into `out` and adds it as a leaf.
void sendplan_merkle_record(sendplan_merkle *m, const void *open, size_t openlen, const uint8_t prev[32],
                            uint8_t out[32]);
/// Adds a leaf hashed elsewhere.
void sendplan_merkle_leaf(sendplan_merkle *m, const uint8_t leaf[32]);
/// Runs every queued node and writes the frontier (largest first, 32 bytes each); returns the node count.
/// The tree can take more leaves afterwards.
size_t sendplan_merkle_finish(sendplan_merkle *m, uint8_t *nodes);

/// Flushes every dirty page of the file system that holds `fd` (Linux syncfs).
/// Returns 0 on success, or -1 with errno set.
int sendplan_syncfs(int fd);

/// Turns O_DIRECT on or off for an open file (Linux). Returns 0 on success, or -1 with errno set
/// (EINVAL where the file system cannot do direct I/O).
int sendplan_set_direct(int fd, int on);

/// Starts asynchronous write-back of a file's dirty pages (Linux sync_file_range); errors are ignored,
/// because a later fsync or syncfs reports them.
void sendplan_start_writeback(int fd);

/// Catches SIGTERM and SIGINT once: the handler only records the signal, which
/// `sendplan_stop_signal` returns (0 while none came). A second signal gets the default action.
void sendplan_stop_install(void);
/// Puts back the default actions for SIGTERM and SIGINT.
void sendplan_stop_restore(void);
int sendplan_stop_signal(void);

#endif
