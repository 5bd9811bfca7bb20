// tensor_core.h: inline-PTX wrappers for the many-token (prefill) kernels: bf16 mma.sync
// m16n8k16 with f32 accumulation, ldmatrix, cp.async, shared-memory addresses. sm_80 and newer.
// No CUDA headers (NVRTC from PyPI ships none).
//
// Fragment layouts of mma.m16n8k16 (g = lane / 4, q = lane % 4), bf16 pairs packed in a u32
// (lower k / lower column in the low half):
//   A 16×16 row-major: a0 (g, 2q..2q+1), a1 (g+8, 2q..), a2 (g, 2q+8..), a3 (g+8, 2q+8..)
//   B 16×8 "col" (stored n-major, k contiguous): b0 (k 2q..2q+1, n g), b1 (k 2q+8.., n g)
//   C 16×8 f32: c0,c1 (g, 2q..2q+1), c2,c3 (g+8, 2q..2q+1)
#pragma once
#include "gptoss_common.h"

DEVI u32 smem_addr(const void *p) {
    u32 r;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(r) : "l"(p));
    return r;
}

// 16-byte global → shared copy; src_bytes = 0 zero-fills the destination (rows past the end).
DEVI void cp_async16(u32 dst, const void *src, int src_bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(dst), "l"(src), "r"(src_bytes));
}
DEVI void cp_async_commit() { asm volatile("cp.async.commit_group;"); }
DEVI void cp_async_wait_all() { asm volatile("cp.async.wait_all;" ::: "memory"); }
// Wait until at most N of this thread's committed groups are still in flight.
template <int N> DEVI void cp_async_wait_group() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }

// Four 8×8 b16 matrices; lane i gives the row address of matrix i / 8, row i % 8.
DEVI void ldmatrix_x4(u32 &r0, u32 &r1, u32 &r2, u32 &r3, u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(addr));
}
DEVI void ldmatrix_x4_trans(u32 &r0, u32 &r1, u32 &r2, u32 &r3, u32 addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(addr));
}

// c += A·B for one m16n8k16 tile.
DEVI void mma_bf16(float c[4], const u32 a[4], u32 b0, u32 b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Two f32 → a bf16 pair (round to nearest even), lo in the low half.
DEVI u32 pack_bf16(float lo, float hi) { return (u32)f32_to_bf16(lo) | ((u32)f32_to_bf16(hi) << 16); }
