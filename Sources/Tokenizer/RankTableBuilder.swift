// Collects (token bytes, rank, source line) entries in any order, checks that the ranks are exactly
// 0..<count with no duplicates, and builds the immutable RankTable. Shared by the .tiktoken and
// tokenizer.json loaders so both produce identical tables.
struct RankTableBuilder {
    let path: String
    private var scratch: [UInt8] = []     // [total bytes] u8, entries in insertion order
    private var entryStart: [UInt32] = [] // [entries + 1] u32 offsets into scratch
    private var entryRank: [UInt32] = []  // [entries] u32
    private var entryLine: [Int32] = []   // [entries] i32, 1-based source line (0 where unknown)

    init(path: String, expectedCount: Int = 0) {
        self.path = path
        scratch.reserveCapacity(expectedCount * 8)
        entryStart.reserveCapacity(expectedCount + 1)
        entryRank.reserveCapacity(expectedCount)
        entryLine.reserveCapacity(expectedCount)
        entryStart.append(0)
    }

    var count: Int { entryRank.count }

    /// Appends one entry whose bytes are written by `write` (which appends to the given array).
    mutating func add(rank: UInt32, line: Int, write: (inout [UInt8]) throws -> Void) rethrows {
        try write(&scratch)
        entryStart.append(UInt32(scratch.count))
        entryRank.append(rank)
        entryLine.append(Int32(clamping: line))
    }

    func build() throws -> RankTable {
        let n = entryRank.count
        var entryOfRank = [Int32](repeating: -1, count: n) // [n] entry index of each rank
        for e in 0..<n {
            let r = Int(entryRank[e])
            if r >= n { continue } // reported below as a missing rank
            if entryOfRank[r] >= 0 {
                throw TokenizerError.duplicateRank(path: path, line: Int(entryLine[e]), rank: UInt32(r))
            }
            entryOfRank[r] = Int32(e)
        }
        if let missing = entryOfRank.firstIndex(of: -1) {
            throw TokenizerError.nonContiguousRanks(path: path, count: n, missingRank: UInt32(missing))
        }
        var arena = [UInt8]()
        arena.reserveCapacity(scratch.count)
        var offsets = [UInt32]()
        offsets.reserveCapacity(n + 1)
        offsets.append(0)
        var lines = [Int32]()
        lines.reserveCapacity(n)
        let inOrder = entryOfRank.enumerated().allSatisfy { $0.offset == Int($0.element) }
        if inOrder {
            arena = scratch
            offsets = entryStart
            lines = entryLine
        } else {
            for r in 0..<n {
                let e = Int(entryOfRank[r])
                arena.append(contentsOf: scratch[Int(entryStart[e])..<Int(entryStart[e + 1])])
                offsets.append(UInt32(arena.count))
                lines.append(entryLine[e])
            }
        }
        return try RankTable(arenaInRankOrder: arena, offsets: offsets, path: path, lines: lines)
    }
}
