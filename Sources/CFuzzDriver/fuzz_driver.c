// The declaration in include/fuzz_driver.h is all this module provides; libFuzzer defines the function.
#include "fuzz_driver.h"
