#include <cblas.h>
// OpenBLAS extensions: thread count control (attention runs many small matmuls single-threaded).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
