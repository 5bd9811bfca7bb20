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

.section .note.GNU-stack, "", @progbits
