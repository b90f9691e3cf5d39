#include "onednn_matmul.h"
#include <oneapi/dnnl/dnnl.h>
// OpenMP (the threading of Debian's oneDNN build): the calling thread's team size.
extern void omp_set_num_threads(int);
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

struct mrc_matmul {
    dnnl_primitive_t primitive;
    dnnl_memory_desc_t a, b, c, bias, residual, scratchpad;
    size_t scratchpad_bytes;
    int has_bias, has_residual;
    const char *implementation;
};

static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static void make_engine(void) { dnnl_engine_create(&engine, dnnl_cpu, 0); }

struct mrc_packed_layout {
    dnnl_memory_desc_t md;    // the k × n weights in oneDNN's chosen (blocked) format
    int plain;
};

static _Thread_local dnnl_stream_t thread_stream;
static _Thread_local int thread_threads;
// Each thread's scratchpad. oneDNN's own ("library") scratchpad is one global buffer unless the library is
// built with DNNL_ENABLE_CONCURRENT_EXEC, which Debian's is not: two threads running primitives at once
// then overwrite each other's partial sums. Every execution passes its thread's buffer instead.
static _Thread_local void *thread_scratchpad;
static _Thread_local size_t thread_scratchpad_bytes;

static dnnl_data_type_t dnnl_type(mrc_dtype t) {
    switch (t) {
    case MRC_BF16: return dnnl_bf16;
    case MRC_S8: return dnnl_s8;
    case MRC_S32: return dnnl_s32;
    default: return dnnl_f32;
    }
}

/// A plain 2-D descriptor of op(X) (rows × cols) over a stored row-major matrix with row stride ld.
static dnnl_status_t plain(dnnl_memory_desc_t *md, int64_t rows, int64_t cols, int64_t ld, int trans, mrc_dtype t) {
    dnnl_dims_t dims = {rows, cols};
    dnnl_dims_t strides = {trans ? 1 : ld, trans ? ld : 1};
    return dnnl_memory_desc_init_by_strides(md, 2, dims, dnnl_type(t), strides);
}

#define TRY(call, what) do { dnnl_status_t s_ = (call); if (s_ != dnnl_success) { \
    snprintf(error, error_length, "oneDNN %s failed (status %d)", what, (int)s_); goto fail; } } while (0)

mrc_matmul *mrc_matmul_create(const mrc_matmul_desc *d, char *error, size_t error_length) {
    pthread_once(&engine_once, make_engine);
    mrc_matmul *mm = calloc(1, sizeof *mm);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (!mm || !engine) { snprintf(error, error_length, "oneDNN: no CPU engine"); goto fail; }
    mm->has_bias = d->has_bias;
    TRY(plain(&mm->a, d->m, d->k, d->lda, d->trans_a, d->a_type), "source descriptor");
    if (d->packed_b) mm->b = d->packed_b->md;
    else TRY(plain(&mm->b, d->k, d->n, d->ldb, d->trans_b, d->b_type), "weights descriptor");
    TRY(plain(&mm->c, d->m, d->n, d->ldc, 0, d->c_type), "destination descriptor");
    dnnl_dims_t bias_dims = {1, d->n};
    TRY(dnnl_memory_desc_init_by_tag(&mm->bias, 2, bias_dims, dnnl_f32, dnnl_ab), "bias descriptor");
    dnnl_matmul_desc_t md;
    TRY(dnnl_matmul_desc_init(&md, &mm->a, &mm->b, d->has_bias ? &mm->bias : NULL, &mm->c), "matmul descriptor");
    TRY(dnnl_primitive_attr_create(&attr), "attributes");
    TRY(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
    if (d->alpha != 1.0f) TRY(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &d->alpha), "output scale");
    if (d->accumulate && d->epilogue != MRC_EPILOGUE_NONE) {
        snprintf(error, error_length, "oneDNN: an epilogue does not combine with accumulation");
        goto fail;
    }
    if (d->accumulate || d->epilogue != MRC_EPILOGUE_NONE) {
        TRY(dnnl_post_ops_create(&ops), "post-ops");
        if (d->accumulate) TRY(dnnl_post_ops_append_sum(ops, 1.0f), "sum post-op");
        if (d->epilogue == MRC_EPILOGUE_GELU)
            TRY(dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f), "GELU post-op");
        if (d->epilogue == MRC_EPILOGUE_RESIDUAL) {
            TRY(plain(&mm->residual, d->m, d->n, d->ldr, 0, MRC_F32), "residual descriptor");
            TRY(dnnl_post_ops_append_binary(ops, dnnl_binary_add, &mm->residual), "residual post-op");
            mm->has_residual = 1;
        }
        TRY(dnnl_primitive_attr_set_post_ops(attr, ops), "post-ops");
    }
    TRY(dnnl_primitive_desc_create(&pd, &md, attr, engine, NULL), "matmul (this type combination)");
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
    if (!thread_stream && dnnl_stream_create(&thread_stream, engine, dnnl_stream_default_flags) != dnnl_success) return -1;
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
        if (dnnl_memory_create(&mem[n], descs[i], engine, (void *)handles[i]) != dnnl_success) { status = -1; goto done; }
        args[n].arg = names[i];
        args[n].memory = mem[n];
        n++;
    }
    if (dnnl_primitive_execute(mm->primitive, thread_stream, n, args) != dnnl_success) status = -1;
    else if (dnnl_stream_wait(thread_stream) != dnnl_success) status = -1;
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

const char *mrc_onednn_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    default: return "unknown";
    }
}

int mrc_onednn_set_max_isa(const char *name) {
    static const struct { const char *name; dnnl_cpu_isa_t isa; } table[] = {
        {"SSE41", dnnl_cpu_isa_sse41}, {"AVX", dnnl_cpu_isa_avx}, {"AVX2", dnnl_cpu_isa_avx2},
        {"AVX512_CORE", dnnl_cpu_isa_avx512_core}, {"AVX512_CORE_VNNI", dnnl_cpu_isa_avx512_core_vnni},
        {"AVX512_CORE_BF16", dnnl_cpu_isa_avx512_core_bf16}, {"AVX512_CORE_AMX", dnnl_cpu_isa_avx512_core_amx},
        {"ALL", dnnl_cpu_isa_all}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(name, table[i].name) == 0) return dnnl_set_max_cpu_isa(table[i].isa) == dnnl_success ? 0 : -1;
    return -1;
}

const char *mrc_onednn_version(void) {
    static char text[32];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "%d.%d.%d", v->major, v->minor, v->patch);
    return text;
}

int mrc_request_amx(void) {
#if defined(__linux__) && defined(__x86_64__)
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0 ? 0 : -1;
#else
    return -1;
#endif
}

mrc_packed_layout *mrc_packed_layout_create(int64_t k, int64_t n, int64_t m_hint, char *error, size_t error_length) {
    pthread_once(&engine_once, make_engine);
    mrc_packed_layout *layout = calloc(1, sizeof *layout);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t a, b, c;
    dnnl_matmul_desc_t md;
    if (!layout || !engine) { snprintf(error, error_length, "oneDNN: no CPU engine"); goto fail; }
    dnnl_dims_t a_dims = {m_hint, k}, b_dims = {k, n}, c_dims = {m_hint, n};
    TRY(dnnl_memory_desc_init_by_tag(&a, 2, a_dims, dnnl_bf16, dnnl_ab), "source descriptor");
    TRY(dnnl_memory_desc_init_by_tag(&b, 2, b_dims, dnnl_bf16, dnnl_format_tag_any), "weights descriptor");
    TRY(dnnl_memory_desc_init_by_tag(&c, 2, c_dims, dnnl_f32, dnnl_ab), "destination descriptor");
    TRY(dnnl_matmul_desc_init(&md, &a, &b, NULL, &c), "matmul descriptor");
    TRY(dnnl_primitive_desc_create(&pd, &md, NULL, engine, NULL), "matmul (bf16 here)");
    layout->md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_primitive_desc_destroy(pd);
    layout->plain = layout->md.format_kind == dnnl_blocked && layout->md.format_desc.blocking.inner_nblks == 0;
    return layout;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    free(layout);
    return NULL;
}

size_t mrc_packed_layout_bytes(const mrc_packed_layout *layout) { return dnnl_memory_desc_get_size(&layout->md); }

int mrc_packed_layout_is_plain(const mrc_packed_layout *layout) { return layout->plain; }

int mrc_pack_weights(const mrc_packed_layout *layout, const void *w, int64_t ldw, void *packed) {
    if (!thread_stream && dnnl_stream_create(&thread_stream, engine, dnnl_stream_default_flags) != dnnl_success) return -1;
    dnnl_memory_desc_t source;
    // The weight [n, k] row-major is the k × n operand with strides (1, ldw).
    if (plain(&source, layout->md.dims[0], layout->md.dims[1], ldw, 1, MRC_BF16) != dnnl_success) return -1;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t from = NULL, to = NULL;
    int status = -1;
    if (dnnl_reorder_primitive_desc_create(&pd, &source, engine, &layout->md, engine, NULL) != dnnl_success) goto done;
    if (dnnl_primitive_create(&reorder, pd) != dnnl_success) goto done;
    if (dnnl_memory_create(&from, &source, engine, (void *)w) != dnnl_success) goto done;
    if (dnnl_memory_create(&to, &layout->md, engine, packed) != dnnl_success) goto done;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    if (dnnl_primitive_execute(reorder, thread_stream, 2, args) == dnnl_success && dnnl_stream_wait(thread_stream) == dnnl_success)
        status = 0;
done:
    if (from) dnnl_memory_destroy(from);
    if (to) dnnl_memory_destroy(to);
    if (reorder) dnnl_primitive_destroy(reorder);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return status;
}

void mrc_packed_layout_destroy(mrc_packed_layout *layout) { free(layout); }
