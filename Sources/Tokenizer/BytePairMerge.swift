// Rank-based byte-pair merging of one pre-tokenized piece (spec §5.3), the same algorithm as tiktoken's
// `byte_pair_merge`: whole-piece lookup first; otherwise start from single bytes and repeatedly merge
// the adjacent pair whose concatenation has the lowest rank (leftmost on ties) until none is a token.
extension RankTable {
    /// Appends the token ids of the piece `p[0..<n]` (n >= 1) to `out`.
    @inline(__always)
    func encodePiece(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        if n == 1 {
            out.append(byteRanks[Int(p[0])])
            return
        }
        let whole = rank(p, n)
        if whole != RankTable.noRank {
            out.append(whole)
            return
        }
        if n <= RankTable.linearMergeLimit {
            mergeLinear(p, n, into: &out)
        } else {
            mergeHeap(p, n, into: &out)
        }
    }

    /// Longest piece merged with tiktoken's quadratic scan; longer ones use a heap (same result).
    static let linearMergeLimit = 48

    func mergeLinear(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        // parts[i] = (start offset of part i, rank of part i merged with part i+1, rank of part i);
        // n + 1 entries, the last two are sentinels.
        withUnsafeTemporaryAllocation(of: (start: Int32, rank: UInt32, own: UInt32).self, capacity: n + 1) { parts in
            for i in 0..<(n - 1) { parts[i] = (Int32(i), pairRank(p + i), byteRanks[Int(p[i])]) }
            parts[n - 1] = (Int32(n - 1), RankTable.noRank, byteRanks[Int(p[n - 1])])
            parts[n] = (Int32(n), RankTable.noRank, RankTable.noRank)
            var count = n + 1

            @inline(__always) func joinedRank(_ i: Int) -> UInt32 {
                // Rank of parts i and i+1 once part i+1 has absorbed part i+2 (called before removal).
                guard i + 3 < count else { return RankTable.noRank }
                let s = Int(parts[i].start)
                return rank(p + s, Int(parts[i + 3].start) - s)
            }

            while true {
                var minRank = RankTable.noRank
                var minIndex = 0
                for i in 0..<(count - 1) where parts[i].rank < minRank {
                    minRank = parts[i].rank
                    minIndex = i
                }
                if minRank == RankTable.noRank { break }
                let i = minIndex
                parts[i].own = minRank
                if i > 0 { parts[i - 1].rank = joinedRank(i - 1) }
                parts[i].rank = joinedRank(i)
                for j in (i + 1)..<(count - 1) { parts[j] = parts[j + 1] }
                count -= 1
            }
            for i in 0..<(count - 1) { out.append(parts[i].own) }
        }
    }

    /// The same merge order for long pieces in O(n log n): parts form a linked list, and a min-heap of
    /// (pair rank << 32 | part start) yields the lowest rank, leftmost on ties. Stale heap entries (a
    /// part that was absorbed or whose pair rank changed) are skipped when popped: a part's pair only
    /// ever grows, so its rank never returns to an earlier value.
    func mergeHeap(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * (n + 1)) { links in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 3 * n) { heap in
                let next = links.baseAddress!            // [n + 1] start of the following part (n = end)
                let prev = next + (n + 1)                // [n + 1] start of the preceding part (-1 = none)
                let pairRank = UnsafeMutableRawPointer(prev + (n + 1)).assumingMemoryBound(to: UInt32.self) // [n + 1]
                let own = pairRank + (n + 1)             // [n + 1] rank of the part starting here
                var heapCount = 0

                @inline(__always) func push(_ key: UInt64) {
                    var i = heapCount
                    heapCount += 1
                    while i > 0 {
                        let parent = (i - 1) >> 1
                        if heap[parent] <= key { break }
                        heap[i] = heap[parent]
                        i = parent
                    }
                    heap[i] = key
                }
                @inline(__always) func pop() -> UInt64 {
                    let top = heap[0]
                    heapCount -= 1
                    let last = heap[heapCount]
                    var i = 0
                    while true {
                        var child = 2 * i + 1
                        if child >= heapCount { break }
                        if child + 1 < heapCount && heap[child + 1] < heap[child] { child += 1 }
                        if last <= heap[child] { break }
                        heap[i] = heap[child]
                        i = child
                    }
                    if heapCount > 0 { heap[i] = last }
                    return top
                }
                /// Rank of part `i` joined with the part after it, or noRank.
                @inline(__always) func rankAfter(_ i: Int) -> UInt32 {
                    let j = Int(next[i])
                    guard j < n else { return RankTable.noRank }
                    return rank(p + i, Int(next[j]) - i)
                }

                for i in 0..<n {
                    next[i] = Int32(i + 1)
                    prev[i] = Int32(i - 1)
                    own[i] = byteRanks[Int(p[i])]
                }
                next[n] = Int32(n)
                for i in 0..<(n - 1) {
                    let r = self.pairRank(p + i)
                    pairRank[i] = r
                    if r != RankTable.noRank { push(UInt64(r) << 32 | UInt64(i)) }
                }
                pairRank[n - 1] = RankTable.noRank

                while heapCount > 0 {
                    let top = pop()
                    let i = Int(top & 0xFFFF_FFFF)
                    let r = UInt32(top >> 32)
                    if pairRank[i] != r { continue } // stale: absorbed (set to noRank) or re-ranked
                    // Part i absorbs the part after it.
                    let j = Int(next[i])
                    let k = Int(next[j])
                    next[i] = Int32(k)
                    if k < n { prev[k] = Int32(i) }
                    pairRank[j] = RankTable.noRank
                    own[i] = r
                    let ri = rankAfter(i)
                    pairRank[i] = ri
                    if ri != RankTable.noRank { push(UInt64(ri) << 32 | UInt64(i)) }
                    let h = Int(prev[i])
                    if h >= 0 {
                        let rh = rankAfter(h)
                        pairRank[h] = rh
                        if rh != RankTable.noRank { push(UInt64(rh) << 32 | UInt64(h)) }
                    }
                }
                var i = 0
                while i < n {
                    let j = Int(next[i])
                    out.append(own[i])
                    i = j
                }
            }
        }
    }
}
