// The bf16 matmul rate of one oneDNN build at the MiniLM forward's shapes, for scripts/bench-onednn-versions:
// src [M, K] bf16, weights [K, N] bf16 reordered once into the layout the primitive asks for (format_tag::any),
// f32 bias, bf16 dst, with oneDNN's gelu_erf post-op where the forward has it. Built against oneDNN 2.x or 3.x
// (their primitive-descriptor and post-op signatures differ). Prints one line per shape: median and best of
// `repeats` executions, GFLOP/s at the median, and the implementation oneDNN chose.
#include <oneapi/dnnl/dnnl.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace dnnl;

int main(int argc, char **argv) {
    const int repeats = argc > 1 ? std::atoi(argv[1]) : 60;
    engine eng(engine::kind::cpu, 0);
    stream s(eng);
    const dnnl_version_t *v = dnnl_version();
    std::printf("oneDNN %d.%d.%d\n", v->major, v->minor, v->patch);
    struct Shape { int M, K, N; bool gelu; const char *name; };
    const Shape shapes[] = {{3072, 384, 1152, false, "q|k|v 8x384"}, {3072, 384, 384, false, "attention out 8x384"},
                            {3072, 384, 1536, false, "ffn1 8x384"}, {3072, 384, 1536, true, "ffn1+gelu 8x384"},
                            {3072, 1536, 384, false, "ffn2 8x384"}, {384, 384, 1536, true, "ffn1+gelu 1x384"},
                            {384, 1536, 384, false, "ffn2 1x384"}};
    for (const Shape &sh : shapes) {
        using dt = memory::data_type;
        using tag = memory::format_tag;
        memory::desc src({sh.M, sh.K}, dt::bf16, tag::ab), weightsAny({sh.K, sh.N}, dt::bf16, tag::any),
            weightsPlain({sh.K, sh.N}, dt::bf16, tag::ba), dst({sh.M, sh.N}, dt::bf16, tag::ab), bias({1, sh.N}, dt::f32, tag::ab);
        primitive_attr attr;
        if (sh.gelu) {
            post_ops ops;
#if DNNL_VERSION_MAJOR >= 3
            ops.append_eltwise(algorithm::eltwise_gelu_erf, 0.f, 0.f);
#else
            ops.append_eltwise(1.f, algorithm::eltwise_gelu_erf, 0.f, 0.f);
#endif
            attr.set_post_ops(ops);
        }
#if DNNL_VERSION_MAJOR >= 3
        matmul::primitive_desc pd(eng, src, weightsAny, bias, dst, attr);
#else
        matmul::primitive_desc pd(matmul::desc(src, weightsAny, bias, dst), attr, eng);
#endif
        memory S(src, eng), plain(weightsPlain, eng), W(pd.weights_desc(), eng), D(dst, eng), B(bias, eng);
        // 1.0 in bf16 for the activations, 1/128 for the weights, 0 bias: finite outputs, no denormals.
        std::fill_n(static_cast<uint16_t *>(S.get_data_handle()), (size_t)sh.M * sh.K, uint16_t(0x3f80));
        std::fill_n(static_cast<uint16_t *>(plain.get_data_handle()), (size_t)sh.K * sh.N, uint16_t(0x3c00));
        std::fill_n(static_cast<float *>(B.get_data_handle()), (size_t)sh.N, 0.f);
        reorder(plain, W).execute(s, plain, W);
        matmul product(pd);
        std::vector<double> seconds;
        for (int r = 0; r < repeats; r++) {
            const auto start = std::chrono::steady_clock::now();
            product.execute(s, {{DNNL_ARG_SRC, S}, {DNNL_ARG_WEIGHTS, W}, {DNNL_ARG_BIAS, B}, {DNNL_ARG_DST, D}});
            s.wait();
            seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        std::sort(seconds.begin(), seconds.end());
        const double median = seconds[seconds.size() / 2], flops = 2.0 * sh.M * sh.K * sh.N;
        std::printf("%s\t%.3f\t%.3f\t%.0f\t%s\n", sh.name, median * 1e3, seconds[0] * 1e3, flops / median / 1e9, pd.impl_info_str());
    }
    return 0;
}
