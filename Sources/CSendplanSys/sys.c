#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sendplan_sys.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int sendplan_rename_exchange(const char *a, const char *b) {
#ifdef SYS_renameat2
  return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
#else
  errno = ENOSYS;
  return -1;
#endif
}

#include <malloc.h>

void sendplan_tune_malloc(void) {
#ifdef M_MMAP_THRESHOLD
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

void sendplan_release_free_memory(void) {
#ifdef M_MMAP_THRESHOLD
  malloc_trim(0);
#endif
}

int sendplan_syncfs(int fd) {
#ifdef __linux__
  return syncfs(fd);
#else
  return fsync(fd);
#endif
}

int sendplan_set_direct(int fd, int on) {
#if defined(__linux__) && defined(O_DIRECT)
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -1;
  return fcntl(fd, F_SETFL, on ? (fl | O_DIRECT) : (fl & ~O_DIRECT));
#else
  (void)fd;
  (void)on;
  errno = EINVAL;
  return -1;
#endif
}

void sendplan_start_writeback(int fd) {
#ifdef __linux__
  (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
  (void)fd;
#endif
}

#include <pthread.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_signal = 0;

static void on_stop(int sig) { stop_signal = sig; }

void sendplan_stop_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  // A second signal gets the default action: an operator pressing Ctrl-C twice means it.
  sa.sa_flags = SA_RESETHAND;
  stop_signal = 0;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  // A parent may have left them blocked (some process launchers do); then a stop would never arrive.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void sendplan_stop_restore(void) {
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
}

int sendplan_stop_signal(void) { return stop_signal; }
