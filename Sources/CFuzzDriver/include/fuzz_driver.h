// libFuzzer's entry for programs with their own main (compiler-rt's FuzzerInterface.h). Resolved only in
// fuzzing builds (-sanitize=fuzzer), which link libFuzzer; plain builds never reference it.
#ifndef MRC_FUZZ_DRIVER_H
#define MRC_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
