// What the oneDNN face's C files share (not part of the module's public header).
#ifndef MRC_ONEDNN_INTERNAL_H
#define MRC_ONEDNN_INTERNAL_H
#include "onednn_matmul.h"
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>

/// The CPU engine, created once.
dnnl_engine_t mrc_engine(void);
/// The calling thread's stream (created on first use), or NULL.
dnnl_stream_t mrc_thread_stream(void);
/// A plain 2-D descriptor of op(X) (rows × cols) over a stored row-major matrix with row stride ld.
dnnl_status_t mrc_plain_md(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t ld, int trans, mrc_dtype t);

struct mrc_packed_layout {
    dnnl_memory_desc_t md;    // the k × n weights in oneDNN's chosen (blocked) format
    mrc_dtype type;
    int plain;
};

/// On failure: a message in `error` (error_length bytes) and a jump to the function's `fail` label.
#define TRY(call, what) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { \
    snprintf(error, error_length, "oneDNN %s failed (status %d)", what, (int)s_); goto fail; } } while (0)

#endif
