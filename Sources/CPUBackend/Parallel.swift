// Parallel row loops for the CPU backend: splits a range into chunks run on CPUKernels' spinning pool
// (gk_pool_run: workers spin ≈ 0.5 ms between jobs, so the ≈ 120 phases of a decode token do not wait on
// thread wake-ups), or on DispatchQueue.concurrentPerform when the pool is busy, threads exceed the
// cores, or GPTOSS_CPU_POOL=0 (read once). Each chunk gets its index for its scratch buffer; which
// thread runs a chunk never changes a result. Four chunks per thread keep both cores busy when another
// process takes one of them for a while (16 per thread measured no better on this shared machine).
import CPUKernels
import Dispatch
import Foundation

struct Parallel {
    /// Number of chunks a loop is split into at most (also the number of scratch buffers).
    let maxChunks: Int
    let threads: Int
    /// GPTOSS_CPU_POOL=0 selects concurrentPerform (A/B switch), read once per process.
    static let usePool = ProcessInfo.processInfo.environment["GPTOSS_CPU_POOL"] != "0"

    init(threads: Int) {
        self.threads = max(1, threads)
        maxChunks = self.threads == 1 ? 1 : self.threads * 4
    }

    /// Runs `body(range, chunkIndex)` over `0..<count` split into chunks of at least `minChunk`.
    /// chunkIndex < maxChunks. Runs inline when there is one chunk.
    /// Chunk sizes are multiples of `align` (except the last), so kernels that tile rows by `align`
    /// need no remainder tiles inside a chunk.
    func forEach(_ count: Int, minChunk: Int = 1, align: Int = 1, _ body: (Range<Int>, Int) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(maxChunks, count / max(minChunk, 1)))
        if chunks == 1 { body(0..<count, 0); return }
        let per = ((count + chunks - 1) / chunks + align - 1) / align * align
        let chunk: (Int) -> Void = { c in
            let lo = c * per
            let hi = min(count, lo + per)
            if lo < hi { body(lo..<hi, c) }
        }
        if Parallel.usePool {
            let ran: Int32 = withoutActuallyEscaping(chunk) { task in
                var task = task
                return withUnsafeMutablePointer(to: &task) { p in
                    gk_pool_run(Int32(threads), Int32(chunks), { ctx, c in
                        ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(c))
                    }, p)
                }
            }
            if ran == 0 { return }
        }
        DispatchQueue.concurrentPerform(iterations: chunks, execute: chunk)
    }
}
