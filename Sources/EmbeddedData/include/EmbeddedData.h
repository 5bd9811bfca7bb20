// Accessors for blobs embedded by embed.c.
#ifndef GPTOSS_EMBEDDED_DATA_H
#define GPTOSS_EMBEDDED_DATA_H
#include <stddef.h>

#define GPTOSS_BLOB(name)                                                     \
    extern const unsigned char name##_data[];                                 \
    extern const size_t name##_size;                                          \
    static inline const unsigned char *name##_ptr(void) { return name##_data; } \
    static inline size_t name##_len(void) { return name##_size; }

/// o200k_base.tiktoken: "<base64 bytes> <rank>\n" lines, 199,998 ranks.
GPTOSS_BLOB(gptoss_o200k_base)

/// CUDA kernel sources (Sources/CUDABackend/kernels/*), NUL-terminated text.
GPTOSS_BLOB(gptoss_kernel_gptoss_common_h)
GPTOSS_BLOB(gptoss_kernel_embedding_cu)
GPTOSS_BLOB(gptoss_kernel_matmul_cu)
GPTOSS_BLOB(gptoss_kernel_rope_cu)
GPTOSS_BLOB(gptoss_kernel_attention_cu)
GPTOSS_BLOB(gptoss_kernel_moe_cu)
GPTOSS_BLOB(gptoss_kernel_sample_cu)
GPTOSS_BLOB(gptoss_kernel_tensor_core_h)
GPTOSS_BLOB(gptoss_kernel_tc_gemm_cu)
GPTOSS_BLOB(gptoss_kernel_tc_attention_cu)
GPTOSS_BLOB(gptoss_kernel_decode_cu)

#endif
