// Files embedded into the binary at build time with C23 #embed. Each blob is a 64-byte-aligned byte array
// with a trailing NUL (not counted in its size), so text blobs can be read as C strings.
// Why #embed rather than an assembler .incbin (the first version): clang lists #embed'ed files in the
// dependency file it writes for the build system, so editing a kernel rebuilds this file; SwiftPM never saw
// .incbin inputs, and a kernel edit shipped the stale text until embed.S was touched.
// Adding a file: one BLOB block here, one GPTOSS_BLOB line in include/EmbeddedData.h.
#pragma clang diagnostic ignored "-Wc23-extensions"
#include "EmbeddedData.h"

#define BLOB(name) __attribute__((aligned(64))) const unsigned char name##_data[]
#define SIZE(name) const size_t name##_size = sizeof(name##_data) - 1

BLOB(gptoss_o200k_base) = {
#embed "data/o200k_base.tiktoken"
    , 0};
SIZE(gptoss_o200k_base);

// CUDA kernel sources (Sources/CUDABackend/kernels), compiled at run time with NVRTC.
BLOB(gptoss_kernel_gptoss_common_h) = {
#embed "../CUDABackend/kernels/gptoss_common.h"
    , 0};
SIZE(gptoss_kernel_gptoss_common_h);

BLOB(gptoss_kernel_embedding_cu) = {
#embed "../CUDABackend/kernels/embedding.cu"
    , 0};
SIZE(gptoss_kernel_embedding_cu);

BLOB(gptoss_kernel_matmul_cu) = {
#embed "../CUDABackend/kernels/matmul.cu"
    , 0};
SIZE(gptoss_kernel_matmul_cu);

BLOB(gptoss_kernel_rope_cu) = {
#embed "../CUDABackend/kernels/rope.cu"
    , 0};
SIZE(gptoss_kernel_rope_cu);

BLOB(gptoss_kernel_attention_cu) = {
#embed "../CUDABackend/kernels/attention.cu"
    , 0};
SIZE(gptoss_kernel_attention_cu);

BLOB(gptoss_kernel_moe_cu) = {
#embed "../CUDABackend/kernels/moe.cu"
    , 0};
SIZE(gptoss_kernel_moe_cu);

BLOB(gptoss_kernel_sample_cu) = {
#embed "../CUDABackend/kernels/sample.cu"
    , 0};
SIZE(gptoss_kernel_sample_cu);

BLOB(gptoss_kernel_tensor_core_h) = {
#embed "../CUDABackend/kernels/tensor_core.h"
    , 0};
SIZE(gptoss_kernel_tensor_core_h);

BLOB(gptoss_kernel_tc_gemm_cu) = {
#embed "../CUDABackend/kernels/tc_gemm.cu"
    , 0};
SIZE(gptoss_kernel_tc_gemm_cu);

BLOB(gptoss_kernel_tc_attention_cu) = {
#embed "../CUDABackend/kernels/tc_attention.cu"
    , 0};
SIZE(gptoss_kernel_tc_attention_cu);

BLOB(gptoss_kernel_decode_cu) = {
#embed "../CUDABackend/kernels/decode.cu"
    , 0};
SIZE(gptoss_kernel_decode_cu);
