// The fuzzer's main: the first argument names the target, the rest go to libFuzzer.
// Built by scripts/fuzz; the targets are Swift functions in Tests/Fuzz/Sources.
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int sendplan_fuzz_select(const char *name);
int sendplan_fuzz_one(const uint8_t *data, size_t size);
const char *sendplan_fuzz_names(void);

int main(int argc, char **argv) {
  // libFuzzer's -fork and -jobs modes run this program again with libFuzzer's flags only, so the
  // target travels in the environment as well.
  const char *target = getenv("SENDPLAN_FUZZ_TARGET");
  if (target == NULL && argc >= 2) {
    target = argv[1];
    setenv("SENDPLAN_FUZZ_TARGET", target, 1);
    argv[1] = argv[0];  // libFuzzer sees the program name followed by its own flags.
    argc -= 1;
    argv += 1;
  }
  if (target == NULL || sendplan_fuzz_select(target) != 0) {
    fprintf(stderr, "usage: %s TARGET [libFuzzer flags] [corpus folders or files]\ntargets: %s\n", argv[0],
            sendplan_fuzz_names());
    return 2;
  }
  return LLVMFuzzerRunDriver(&argc, &argv, sendplan_fuzz_one);
}
