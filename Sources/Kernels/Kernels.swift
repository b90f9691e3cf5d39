// Kernels: see README.md "Architecture" for what this target holds.
