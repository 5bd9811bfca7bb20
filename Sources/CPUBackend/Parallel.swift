// Parallel row loops for the CPU backend: splits a range into chunks run with
// DispatchQueue.concurrentPerform; each chunk gets a worker index for its scratch buffer.
// The pool is libdispatch's: its worker threads persist between calls (one per core), chunks are
// handed out dynamically, and a call costs < 1 µs when the work is trivial (measured 2026-11-27).
// Four chunks per thread keep both cores busy when another process takes one of them for a while
// (16 per thread measured no better on this shared machine).
import Dispatch

struct Parallel {
    /// Number of chunks a loop is split into at most (also the number of scratch buffers).
    let maxChunks: Int
    let threads: Int

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
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per
            let hi = min(count, lo + per)
            if lo < hi { body(lo..<hi, c) }
        }
    }
}
