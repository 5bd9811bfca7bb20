// The immutable BPE rank table: token bytes <-> rank (= token id) for the ordinary (mergeable) tokens.
// Storage is three flat buffers allocated once: the token bytes of every rank back to back (rank order),
// their start offsets, and an open-addressing hash table keyed by byte slices, so lookups during encoding
// hash a slice of the input in place and never allocate.
import Foundation

final class RankTable: @unchecked Sendable {  // immutable after init; the buffers are never written again
    /// Number of ranks: ranks are exactly 0..<count.
    let count: Int
    private let arena: UnsafeMutableBufferPointer<UInt8>   // [total token bytes] u8, rank order
    private let starts: UnsafeMutableBufferPointer<UInt32> // [count + 1] u32, arena offset of each rank
    private let slots: UnsafeMutableBufferPointer<UInt64>  // [capacity] (hash tag << 32) | (rank + 1); 0 = empty
    private let mask: Int                                  // capacity - 1 (capacity is a power of two)
    /// Rank of each single byte, or `UInt32.max` where a byte is not a token by itself.
    let byteRanks: [UInt32]                                // [256] u32

    static let noRank = UInt32.max

    /// `arenaInRankOrder` holds every token's bytes back to back in rank order; `offsets` has count + 1
    /// entries. Throws `duplicateToken` (naming `lines[rank]` of `path`) when two ranks share their bytes.
    init(arenaInRankOrder bytes: [UInt8], offsets: [UInt32], path: String, lines: [Int32]) throws {
        let n = offsets.count - 1
        let arena = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = arena.initialize(from: bytes)
        let starts = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: offsets.count)
        _ = starts.initialize(from: offsets)
        var capacity = 1024
        while capacity < n * 2 + 2 { capacity <<= 1 }
        let slots = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: capacity)
        slots.initialize(repeating: 0)
        let mask = capacity - 1
        var singles = [UInt32](repeating: RankTable.noRank, count: 256)
        for rank in 0..<n {
            let start = Int(starts[rank]), length = Int(starts[rank + 1]) - start
            let p = arena.baseAddress! + start
            if length == 1 { singles[Int(p[0])] = UInt32(rank) }
            let h = RankTable.hash(p, length)
            var i = Int(truncatingIfNeeded: h) & mask
            let tag = h >> 32
            while slots[i] != 0 {
                let other = Int(truncatingIfNeeded: slots[i] & 0xFFFF_FFFF) - 1
                let otherStart = Int(starts[other])
                if slots[i] >> 32 == tag && Int(starts[other + 1]) - otherStart == length
                    && memcmp(arena.baseAddress! + otherStart, p, length) == 0 {
                    let line = rank < lines.count ? Int(lines[rank]) : 0
                    arena.deallocate(); starts.deallocate(); slots.deallocate()
                    throw TokenizerError.duplicateToken(path: path, line: line, rank: UInt32(rank))
                }
                i = (i + 1) & mask
            }
            slots[i] = (tag << 32) | UInt64(rank + 1)
        }
        self.count = n
        self.arena = arena
        self.starts = starts
        self.slots = slots
        self.mask = mask
        self.byteRanks = singles
    }

    deinit {
        arena.deallocate(); starts.deallocate(); slots.deallocate()
    }

    /// Hash of a byte slice (64-bit; low bits pick the slot, high 32 bits are the stored tag).
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: n &+ 1)
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i &+ 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i &+= 8
        }
        if i < n {
            var w: UInt64 = 0
            var shift: UInt64 = 0
            while i < n { w |= UInt64(p[i]) << shift; shift &+= 8; i &+= 1 }
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
        }
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }

    @inline(__always)
    private func equals(rank: Int, _ p: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        let start = Int(starts[rank])
        guard Int(starts[rank + 1]) - start == n else { return false }
        return memcmp(arena.baseAddress! + start, p, n) == 0
    }

    /// Rank of the byte slice `p[0..<n]`, or `noRank`.
    @inline(__always)
    func rank(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        let h = RankTable.hash(p, n)
        let tag = h >> 32
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let slot = slots[i]
            if slot == 0 { return RankTable.noRank }
            if slot >> 32 == tag {
                let r = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                if equals(rank: r, p, n) { return UInt32(r) }
            }
            i = (i + 1) & mask
        }
    }

    /// The bytes of `rank` (must be < count).
    @inline(__always)
    func withBytes<R>(ofRank rank: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let start = Int(starts[rank]), end = Int(starts[rank + 1])
        return body(UnsafeBufferPointer(rebasing: arena[start..<end]))
    }

    func bytes(ofRank rank: Int) -> [UInt8] {
        withBytes(ofRank: rank) { Array($0) }
    }
}
