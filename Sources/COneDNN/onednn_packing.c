#include "onednn_internal.h"
#include <stdlib.h>
#include <string.h>

// Weights packed once into the layout oneDNN's bf16 or s8 matmul prefers (describe once, reorder once).

mrc_packed_layout *mrc_packed_layout_create(int64_t k, int64_t n, int64_t m_hint, mrc_dtype type, char *error,
                                            size_t error_length) {
    mrc_packed_layout *layout = calloc(1, sizeof *layout);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_desc_t a, b, c;
    dnnl_matmul_desc_t md;
    if (!layout || !mrc_engine()) { snprintf(error, error_length, "oneDNN: no CPU engine"); goto fail; }
    dnnl_dims_t a_dims = {m_hint, k}, b_dims = {k, n}, c_dims = {m_hint, n};
    if (type != MRC_BF16 && type != MRC_S8) { snprintf(error, error_length, "oneDNN: packs bf16 or s8 weights"); goto fail; }
    dnnl_data_type_t t = type == MRC_BF16 ? dnnl_bf16 : dnnl_s8;
    layout->type = type;
    TRY(dnnl_memory_desc_init_by_tag(&a, 2, a_dims, t, dnnl_ab), "source descriptor");
    TRY(dnnl_memory_desc_init_by_tag(&b, 2, b_dims, t, dnnl_format_tag_any), "weights descriptor");
    TRY(dnnl_memory_desc_init_by_tag(&c, 2, c_dims, dnnl_f32, dnnl_ab), "destination descriptor");
    TRY(dnnl_matmul_desc_init(&md, &a, &b, NULL, &c), "matmul descriptor");
    TRY(dnnl_primitive_desc_create(&pd, &md, NULL, mrc_engine(), NULL), "matmul (this type here)");
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
    dnnl_stream_t stream = mrc_thread_stream();
    if (!stream) return -1;
    dnnl_memory_desc_t source;
    // oneDNN 2.6 reorders into the s8 layouts of its VNNI kernels (with their compensation) only from a dense
    // source: a weight with padded rows is copied dense first.
    int64_t k = layout->md.dims[0], n = layout->md.dims[1];
    size_t element = layout->type == MRC_BF16 ? 2 : 1;
    void *dense = NULL;
    if (ldw != k) {
        dense = malloc((size_t)(n * k) * element);
        if (!dense) return -1;
        for (int64_t r = 0; r < n; r++) memcpy((char *)dense + r * k * element, (const char *)w + r * ldw * element, k * element);
        w = dense;
        ldw = k;
    }
    // The weight [n, k] row-major is the k × n operand with strides (1, ldw).
    if (mrc_plain_md(&source, k, n, ldw, 1, layout->type) != dnnl_success) { free(dense); return -1; }
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t from = NULL, to = NULL;
    int status = -1;
    if (dnnl_reorder_primitive_desc_create(&pd, &source, mrc_engine(), &layout->md, mrc_engine(), NULL) != dnnl_success) goto done;
    if (dnnl_primitive_create(&reorder, pd) != dnnl_success) goto done;
    if (dnnl_memory_create(&from, &source, mrc_engine(), (void *)w) != dnnl_success) goto done;
    if (dnnl_memory_create(&to, &layout->md, mrc_engine(), packed) != dnnl_success) goto done;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    if (dnnl_primitive_execute(reorder, stream, 2, args) == dnnl_success && dnnl_stream_wait(stream) == dnnl_success)
        status = 0;
done:
    if (from) dnnl_memory_destroy(from);
    if (to) dnnl_memory_destroy(to);
    if (reorder) dnnl_primitive_destroy(reorder);
    if (pd) dnnl_primitive_desc_destroy(pd);
    free(dense);
    return status;
}

void mrc_packed_layout_destroy(mrc_packed_layout *layout) { free(layout); }
