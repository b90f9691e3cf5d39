#include "onednn_internal.h"
// OpenMP (the threading of Debian's oneDNN build): the calling thread's team size.
extern void omp_set_num_threads(int);
#include <stdlib.h>
#include <string.h>

struct mrc_matmul {
    dnnl_primitive_t primitive;
    dnnl_memory_desc_t a, b, c, bias, residual, scratchpad;
    size_t scratchpad_bytes;
    int has_bias, has_residual;
    const char *implementation;
};

static _Thread_local int thread_threads;
// Each thread's scratchpad. oneDNN's own ("library") scratchpad is one global buffer unless the library is
// built with DNNL_ENABLE_CONCURRENT_EXEC, which Debian's is not: two threads running primitives at once
// then overwrite each other's partial sums. Every execution passes its thread's buffer instead.
static _Thread_local void *thread_scratchpad;
static _Thread_local size_t thread_scratchpad_bytes;

mrc_matmul *mrc_matmul_create(const mrc_matmul_desc *d, char *error, size_t error_length) {
    mrc_matmul *mm = calloc(1, sizeof *mm);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (!mm || !mrc_engine()) { snprintf(error, error_length, "oneDNN: no CPU engine"); goto fail; }
    mm->has_bias = d->has_bias;
    TRY(mrc_plain_md(&mm->a, d->m, d->k, d->lda, d->trans_a, d->a_type), "source descriptor");
    if (d->packed_b) mm->b = d->packed_b->md;
    else TRY(mrc_plain_md(&mm->b, d->k, d->n, d->ldb, d->trans_b, d->b_type), "weights descriptor");
    TRY(mrc_plain_md(&mm->c, d->m, d->n, d->ldc, 0, d->c_type), "destination descriptor");
    dnnl_dims_t bias_dims = {1, d->n};
    TRY(dnnl_memory_desc_init_by_tag(&mm->bias, 2, bias_dims, dnnl_f32, dnnl_ab), "bias descriptor");
    dnnl_matmul_desc_t md;
    TRY(dnnl_matmul_desc_init(&md, &mm->a, &mm->b, d->has_bias ? &mm->bias : NULL, &mm->c), "matmul descriptor");
    TRY(dnnl_primitive_attr_create(&attr), "attributes");
    TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
    if (d->scales && d->alpha != 1.0f) { snprintf(error, error_length, "oneDNN: alpha or column scales, not both"); goto fail; }
    // Per-column scales are baked into the primitive: oneDNN 2.6's brgemm kernels refuse run-time scales
    // (they fall to gemm:jit or the reference code, 4-5x slower at the model's shapes).
    if (d->scales) TRY(dnnl_primitive_attr_set_output_scales(attr, d->n, 1 << 1, d->scales), "column scales");
    else if (d->alpha != 1.0f) TRY(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &d->alpha), "output scale");
    float post_scale = d->post_scale == 0.0f ? 1.0f : d->post_scale;
    if (d->accumulate && d->epilogue != MRC_EPILOGUE_NONE) {
        snprintf(error, error_length, "oneDNN: an epilogue does not combine with accumulation");
        goto fail;
    }
    if (d->accumulate || d->epilogue != MRC_EPILOGUE_NONE || post_scale != 1.0f) {
        TRY(dnnl_post_ops_create(&ops), "post-ops");
        if (d->accumulate) TRY(dnnl_post_ops_append_sum(ops, 1.0f), "sum post-op");
        if (d->epilogue == MRC_EPILOGUE_GELU)
            TRY(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f), "GELU post-op");
        if (d->epilogue == MRC_EPILOGUE_RESIDUAL) {
            TRY(mrc_plain_md(&mm->residual, d->m, d->n, d->ldr, 0, MRC_F32), "residual descriptor");
            TRY(dnnl_post_ops_append_binary(ops, dnnl_binary_add, &mm->residual), "residual post-op");
            mm->has_residual = 1;
        }
        if (post_scale != 1.0f)
            TRY(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_linear, post_scale, 0.0f), "scale post-op");
        TRY(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops");
    }
    TRY(dnnl_primitive_desc_create(&pd, &md, attr, mrc_engine(), NULL), "matmul (this type combination)");
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &mm->implementation);
    mm->scratchpad = *dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    mm->scratchpad_bytes = dnnl_memory_desc_get_size(&mm->scratchpad);
    TRY(dnnl_primitive_create(&mm->primitive, pd), "primitive");
    // The implementation string lives in the primitive descriptor, which the primitive keeps its own copy of.
    const_dnnl_primitive_desc_t kept;
    if (dnnl_primitive_get_primitive_desc(mm->primitive, &kept) == dnnl_success)
        dnnl_primitive_desc_query(kept, dnnl_query_impl_info_str, 0, &mm->implementation);
    dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    dnnl_primitive_attr_destroy(attr);
    return mm;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (ops) dnnl_post_ops_destroy(ops);
    if (attr) dnnl_primitive_attr_destroy(attr);
    free(mm);
    return NULL;
}

int mrc_matmul_execute(const mrc_matmul *mm, const void *a, const void *b, const float *bias, const float *residual,
                       void *c, int threads) {
    dnnl_stream_t stream = mrc_thread_stream();
    if (!stream) return -1;
    if (threads > 0 && threads != thread_threads) { omp_set_num_threads(threads); thread_threads = threads; }
    if (mm->scratchpad_bytes > thread_scratchpad_bytes) {
        free(thread_scratchpad);
        thread_scratchpad = aligned_alloc(64, (mm->scratchpad_bytes + 63) & ~(size_t)63);
        thread_scratchpad_bytes = thread_scratchpad ? mm->scratchpad_bytes : 0;
        if (!thread_scratchpad) return -1;
    }
    if (mm->has_residual != (residual != NULL)) return -1;
    dnnl_memory_t mem[6] = {0};
    dnnl_exec_arg_t args[6];
    int n = 0, status = 0;
    const void *handles[6] = {a, b, c, bias, residual, thread_scratchpad};
    const dnnl_memory_desc_t *descs[6] = {&mm->a, &mm->b, &mm->c, &mm->bias, &mm->residual, &mm->scratchpad};
    const int names[6] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_BIAS,
                          DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, DNNL_ARG_SCRATCHPAD};
    const int used[6] = {1, 1, 1, mm->has_bias, mm->has_residual, mm->scratchpad_bytes > 0};
    for (int i = 0; i < 6; i++) {
        if (!used[i]) continue;
        if (dnnl_memory_create(&mem[n], descs[i], mrc_engine(), (void *)handles[i]) != dnnl_success) { status = -1; goto done; }
        args[n].arg = names[i];
        args[n].memory = mem[n];
        n++;
    }
    if (dnnl_primitive_execute(mm->primitive, stream, n, args) != dnnl_success) status = -1;
    else if (dnnl_stream_wait(stream) != dnnl_success) status = -1;
done:
    for (int i = 0; i < n; i++) dnnl_memory_destroy(mem[i]);
    return status;
}

const char *mrc_matmul_implementation(const mrc_matmul *mm) { return mm->implementation ? mm->implementation : "unknown"; }

void mrc_matmul_destroy(mrc_matmul *mm) {
    if (!mm) return;
    dnnl_primitive_destroy(mm->primitive);
    free(mm);
}

