#include "onednn_internal.h"
#include <pthread.h>

// The engine, each thread's stream and the plain descriptors that the matmuls and the weight packing share.

static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static void make_engine(void) { dnnl_engine_create(&engine, dnnl_cpu, 0); }

dnnl_engine_t mrc_engine(void) {
    pthread_once(&engine_once, make_engine);
    return engine;
}

static _Thread_local dnnl_stream_t thread_stream;

dnnl_stream_t mrc_thread_stream(void) {
    if (!thread_stream && dnnl_stream_create(&thread_stream, mrc_engine(), dnnl_stream_default_flags) != dnnl_success)
        return NULL;
    return thread_stream;
}

static dnnl_data_type_t dnnl_type(mrc_dtype t) {
    switch (t) {
    case MRC_BF16: return dnnl_bf16;
    case MRC_S8: return dnnl_s8;
    case MRC_S32: return dnnl_s32;
    default: return dnnl_f32;
    }
}

dnnl_status_t mrc_plain_md(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t ld, int trans, mrc_dtype t) {
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {trans ? 1 : ld, trans ? ld : 1};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dnnl_type(t), strides);
}
