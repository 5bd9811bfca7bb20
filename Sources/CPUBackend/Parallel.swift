// Parallel row loops for the CPU backend: splits a range into chunks run with
// DispatchQueue.concurrentPerform; each chunk gets a worker index for its scratch buffer.
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
    func forEach(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>, Int) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(maxChunks, count / max(minChunk, 1)))
        if chunks == 1 { body(0..<count, 0); return }
        let per = (count + chunks - 1) / chunks
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = c * per
            let hi = min(count, lo + per)
            if lo < hi { body(lo..<hi, c) }
        }
    }
}
