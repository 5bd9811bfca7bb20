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
        mergePieces(p, n, into: &out)
    }

    private func mergePieces(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [UInt32]) {
        // parts[i] = (start offset of part i, rank of part i merged with part i+1); n + 1 entries,
        // the last two are sentinels.
        withUnsafeTemporaryAllocation(of: (start: Int32, rank: UInt32).self, capacity: n + 1) { parts in
            for i in 0..<(n - 1) { parts[i] = (Int32(i), rank(p + i, 2)) }
            parts[n - 1] = (Int32(n - 1), RankTable.noRank)
            parts[n] = (Int32(n), RankTable.noRank)
            var count = n + 1

            @inline(__always) func pairRank(_ i: Int) -> UInt32 {
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
                if i > 0 { parts[i - 1].rank = pairRank(i - 1) }
                parts[i].rank = pairRank(i)
                for j in (i + 1)..<(count - 1) { parts[j] = parts[j + 1] }
                count -= 1
            }
            for i in 0..<(count - 1) {
                let s = Int(parts[i].start)
                out.append(rank(p + s, Int(parts[i + 1].start) - s))
            }
        }
    }
}
