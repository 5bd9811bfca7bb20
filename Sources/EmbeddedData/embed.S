// Files embedded into the binary at build time. Each blob gets <name>_start / <name>_end symbols and a
// trailing NUL (not counted in the length) so text blobs can be read as C strings.
// Adding a file: one EMBED line here, one accessor in include/EmbeddedData.h.
#define EMBED(name, path)          \
    .section .rodata.name, "a";    \
    .global name##_start;          \
    .global name##_end;            \
    .balign 64;                    \
name##_start:                      \
    .incbin path;                  \
name##_end:                        \
    .byte 0

EMBED(gptoss_o200k_base, "data/o200k_base.tiktoken")

// CUDA kernel sources (Sources/CUDABackend/kernels), compiled at run time with NVRTC.
EMBED(gptoss_kernel_gptoss_common_h, "../CUDABackend/kernels/gptoss_common.h")
EMBED(gptoss_kernel_embedding_cu, "../CUDABackend/kernels/embedding.cu")
EMBED(gptoss_kernel_matmul_cu, "../CUDABackend/kernels/matmul.cu")
EMBED(gptoss_kernel_rope_cu, "../CUDABackend/kernels/rope.cu")
EMBED(gptoss_kernel_attention_cu, "../CUDABackend/kernels/attention.cu")
EMBED(gptoss_kernel_moe_cu, "../CUDABackend/kernels/moe.cu")
EMBED(gptoss_kernel_sample_cu, "../CUDABackend/kernels/sample.cu")
EMBED(gptoss_kernel_tensor_core_h, "../CUDABackend/kernels/tensor_core.h")
EMBED(gptoss_kernel_tc_gemm_cu, "../CUDABackend/kernels/tc_gemm.cu")
EMBED(gptoss_kernel_tc_attention_cu, "../CUDABackend/kernels/tc_attention.cu")
EMBED(gptoss_kernel_decode_cu, "../CUDABackend/kernels/decode.cu")

.section .note.GNU-stack, "", @progbits
