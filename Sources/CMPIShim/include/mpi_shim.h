#ifndef MRC_MPI_SHIM_H
#define MRC_MPI_SHIM_H

#include <stddef.h>

/// The few MPI calls data-parallel training needs, resolved at run time from Open MPI's libmpi.so.40
/// with dlopen/dlsym: no MPI header or library is needed to build, and a single-process run never
/// loads MPI. Every function returns 0 on success; otherwise mrc_mpi_error() says what failed.

/// Loads libmpi (the file MRC_MPI_LIBRARY names when set, else libmpi.so.40, else libmpi.so) and calls MPI_Init_thread with
/// MPI_THREAD_SERIALIZED (only one thread at a time calls MPI; the kernels' workers never do).
int mrc_mpi_init(void);
int mrc_mpi_rank(int *rank);
int mrc_mpi_size(int *size);
/// In-place sum over MPI_COMM_WORLD of `count` floats / doubles (split into calls of at most 2^30
/// elements, as MPI counts are int).
int mrc_mpi_allreduce_sum_float(float *buffer, size_t count);
int mrc_mpi_allreduce_sum_double(double *buffer, size_t count);
int mrc_mpi_barrier(void);
/// MPI_Abort(MPI_COMM_WORLD, code): ends every rank of the job.
void mrc_mpi_abort(int code);
int mrc_mpi_finalize(void);
/// The last failure as text (a static buffer).
const char *mrc_mpi_error(void);

#endif
