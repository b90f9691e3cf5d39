// Open MPI 4.x binding by dlopen/dlsym (see include/mpi_shim.h). In Open MPI the predefined handles
// MPI_COMM_WORLD, MPI_FLOAT, MPI_DOUBLE and MPI_SUM are the addresses of the global objects
// ompi_mpi_comm_world, ompi_mpi_float, ompi_mpi_double and ompi_mpi_op_sum, so dlsym gives the handle
// itself. MPI_IN_PLACE is ((void *) 1) and MPI_THREAD_SERIALIZED is 2 in Open MPI's mpi.h.
#include "mpi_shim.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#define SHIM_IN_PLACE ((void *)1)
#define SHIM_THREAD_SERIALIZED 2

typedef void *handle_t;
static int (*p_init_thread)(int *, char ***, int, int *);
static int (*p_comm_rank)(handle_t, int *);
static int (*p_comm_size)(handle_t, int *);
static int (*p_allreduce)(const void *, void *, int, handle_t, handle_t, handle_t);
static int (*p_barrier)(handle_t);
static int (*p_abort)(handle_t, int);
static int (*p_finalize)(void);
static handle_t comm_world, type_float, type_double, op_sum;
static char last_error[512];

const char *mrc_mpi_error(void) { return last_error; }

static int fail(const char *what, int code) {
    snprintf(last_error, sizeof last_error, "%s failed (MPI error %d)", what, code);
    return code == 0 ? -1 : code;
}

static void *resolve(void *library, const char *name, int *missing) {
    void *symbol = dlsym(library, name);
    if (!symbol && !*missing) {
        snprintf(last_error, sizeof last_error, "libmpi has no symbol %s (is it Open MPI 4?)", name);
        *missing = 1;
    }
    return symbol;
}

int mrc_mpi_init(void) {
    // RTLD_GLOBAL: Open MPI's own plugins (mca_*.so) resolve libmpi's symbols from the global scope.
    // MRC_MPI_LIBRARY, when set, is the only file tried.
    const char *chosen = getenv("MRC_MPI_LIBRARY");
    const char *names[] = {chosen ? chosen : "libmpi.so.40", chosen ? NULL : "libmpi.so"};
    void *library = NULL;
    for (int i = 0; i < 2 && !library; i++) {
        if (names[i]) library = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
    }
    if (!library) {
        snprintf(last_error, sizeof last_error, "cannot load Open MPI's %s (%s)", chosen ? chosen : "libmpi.so.40", dlerror());
        return -1;
    }
    int missing = 0;
    p_init_thread = (int (*)(int *, char ***, int, int *))resolve(library, "MPI_Init_thread", &missing);
    p_comm_rank = (int (*)(handle_t, int *))resolve(library, "MPI_Comm_rank", &missing);
    p_comm_size = (int (*)(handle_t, int *))resolve(library, "MPI_Comm_size", &missing);
    p_allreduce = (int (*)(const void *, void *, int, handle_t, handle_t, handle_t))resolve(library, "MPI_Allreduce", &missing);
    p_barrier = (int (*)(handle_t))resolve(library, "MPI_Barrier", &missing);
    p_abort = (int (*)(handle_t, int))resolve(library, "MPI_Abort", &missing);
    p_finalize = (int (*)(void))resolve(library, "MPI_Finalize", &missing);
    comm_world = resolve(library, "ompi_mpi_comm_world", &missing);
    type_float = resolve(library, "ompi_mpi_float", &missing);
    type_double = resolve(library, "ompi_mpi_double", &missing);
    op_sum = resolve(library, "ompi_mpi_op_sum", &missing);
    if (missing) return -1;
    int provided = 0;
    int code = p_init_thread(NULL, NULL, SHIM_THREAD_SERIALIZED, &provided);
    if (code != 0) return fail("MPI_Init_thread", code);
    if (provided < SHIM_THREAD_SERIALIZED) {
        snprintf(last_error, sizeof last_error, "MPI_Init_thread provides thread level %d, training needs MPI_THREAD_SERIALIZED", provided);
        return -1;
    }
    return 0;
}

int mrc_mpi_rank(int *rank) {
    int code = p_comm_rank(comm_world, rank);
    return code == 0 ? 0 : fail("MPI_Comm_rank", code);
}

int mrc_mpi_size(int *size) {
    int code = p_comm_size(comm_world, size);
    return code == 0 ? 0 : fail("MPI_Comm_size", code);
}

static int allreduce(void *buffer, size_t count, size_t element, handle_t type, const char *what) {
    const size_t chunk = (size_t)1 << 30;
    for (size_t done = 0; done < count; done += chunk) {
        size_t n = count - done < chunk ? count - done : chunk;
        int code = p_allreduce(SHIM_IN_PLACE, (char *)buffer + done * element, (int)n, type, op_sum, comm_world);
        if (code != 0) return fail(what, code);
    }
    return 0;
}

int mrc_mpi_allreduce_sum_float(float *buffer, size_t count) {
    return allreduce(buffer, count, sizeof(float), type_float, "MPI_Allreduce (float sum)");
}

int mrc_mpi_allreduce_sum_double(double *buffer, size_t count) {
    return allreduce(buffer, count, sizeof(double), type_double, "MPI_Allreduce (double sum)");
}

int mrc_mpi_barrier(void) {
    int code = p_barrier(comm_world);
    return code == 0 ? 0 : fail("MPI_Barrier", code);
}

void mrc_mpi_abort(int code) {
    if (p_abort) p_abort(comm_world, code);
    exit(code);
}

int mrc_mpi_finalize(void) {
    int code = p_finalize();
    return code == 0 ? 0 : fail("MPI_Finalize", code);
}
