#ifndef SENDPLAN_SYS_H
#define SENDPLAN_SYS_H

/// Atomically swaps two paths (Linux renameat2 with RENAME_EXCHANGE).
/// Returns 0 on success, or -1 with errno set.
int sendplan_rename_exchange(const char *a, const char *b);

/// Keeps large buffers in the heap (glibc only); a no-op elsewhere.
void sendplan_tune_malloc(void);

#endif
