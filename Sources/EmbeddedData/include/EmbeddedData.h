// Accessors for blobs embedded by embed.S.
#ifndef GPTOSS_EMBEDDED_DATA_H
#define GPTOSS_EMBEDDED_DATA_H
#include <stddef.h>

#define GPTOSS_BLOB(name)                                                        \
    extern const unsigned char name##_start[];                                   \
    extern const unsigned char name##_end[];                                     \
    static inline const unsigned char *name##_ptr(void) { return name##_start; } \
    static inline size_t name##_len(void) { return (size_t)(name##_end - name##_start); }

/// o200k_base.tiktoken: "<base64 bytes> <rank>\n" lines, 199,998 ranks.
GPTOSS_BLOB(gptoss_o200k_base)

#endif
