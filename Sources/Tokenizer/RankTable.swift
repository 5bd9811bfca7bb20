// The immutable BPE rank table: token bytes <-> rank (= token id) for the ordinary (mergeable) tokens.
// Storage is flat buffers allocated once: the token bytes of every rank back to back (rank order),
// their start offsets, and an open-addressing hash table keyed by byte slices. A slot holds the key
// itself for tokens of up to 8 bytes (the bytes packed into a UInt64), so most lookups touch one cache
// line and never compare memory; longer tokens store their 64-bit hash and are confirmed with memcmp.
//
// Lookups read 8 bytes at the query pointer (masked to the slice length): callers guarantee that at
// least 8 bytes are readable there (the encoder works on a copy of the text with 8 bytes of padding).
import Foundation

final class RankTable: @unchecked Sendable {  // immutable after init; the buffers are never written again
    struct Slot {
        var key: UInt64    // packed bytes (length <= 8) or the 64-bit hash (length > 8)
        var rank: UInt32
        var length: UInt32 // 0 = empty slot
    }

    /// Number of ranks: ranks are exactly 0..<count.
    let count: Int
    private let arena: UnsafeMutableBufferPointer<UInt8>   // [total token bytes + 8 padding] u8, rank order
    private let starts: UnsafeMutableBufferPointer<UInt32> // [count + 1] u32, arena offset of each rank
    private let slots: UnsafeMutableBufferPointer<Slot>    // [capacity] open addressing, linear probing
    private let tags: UnsafeMutablePointer<UInt8>          // [capacity + 1] 0 = empty, else 0x80 | 7 hash bits
    private let mask: Int                                  // capacity - 1 (capacity is a power of two)
    private let pairRanks: UnsafeMutablePointer<UInt32>    // [65536] rank of each 2-byte token (b0 | b1 << 8), else noRank
    /// Rank of each single byte, or `UInt32.max` where a byte is not a token by itself.
    let byteRanks: [UInt32]                                // [256] u32

    static let noRank = UInt32.max
    /// Bytes that must be readable past any slice given to `rank`.
    static let readPadding = 8

    /// `bytes` holds every token's bytes back to back in rank order; `offsets` has count + 1 entries.
    /// Throws `duplicateToken` (naming `lines[rank]` of `path`) when two ranks share their bytes.
    init(arenaInRankOrder bytes: [UInt8], offsets: [UInt32], path: String, lines: [Int32]) throws {
        let n = offsets.count - 1
        let arena = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count + RankTable.readPadding)
        arena.initialize(repeating: 0)
        _ = arena.initialize(from: bytes)
        let starts = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: offsets.count)
        _ = starts.initialize(from: offsets)
        var capacity = 1024
        while capacity < n + n / 4 { capacity <<= 1 }
        let slots = UnsafeMutableBufferPointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: 0, rank: 0, length: 0))
        let mask = capacity - 1
        let tags = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity + 1)
        tags.initialize(repeating: 0, count: capacity + 1)
        var singles = [UInt32](repeating: RankTable.noRank, count: 256)
        let pairs = UnsafeMutablePointer<UInt32>.allocate(capacity: 65536)
        pairs.initialize(repeating: RankTable.noRank, count: 65536)
        for rank in 0..<n {
            let start = Int(starts[rank]), length = Int(starts[rank + 1]) - start
            let p = UnsafePointer(arena.baseAddress! + start)
            if length == 1 { singles[Int(p[0])] = UInt32(rank) }
            if length == 2 { pairs[Int(p[0]) | Int(p[1]) << 8] = UInt32(rank) }
            let (key, h) = RankTable.keyAndHash(p, length)
            var i = Int(truncatingIfNeeded: h) & mask
            while tags[i] != 0 {
                let s = slots[i]
                if s.key == key && Int(s.length) == length
                    && (length <= 8 || memcmp(arena.baseAddress! + Int(starts[Int(s.rank)]), p, length) == 0) {
                    let line = rank < lines.count ? Int(lines[rank]) : 0
                    arena.deallocate(); starts.deallocate(); slots.deallocate(); pairs.deallocate(); tags.deallocate()
                    throw TokenizerError.duplicateToken(path: path, line: line, rank: UInt32(rank))
                }
                i = (i + 1) & mask
            }
            slots[i] = Slot(key: key, rank: UInt32(rank), length: UInt32(length))
            tags[i] = RankTable.tag(h)
        }
        self.count = n
        self.arena = arena
        self.starts = starts
        self.slots = slots
        self.mask = mask
        self.tags = tags
        self.pairRanks = pairs
        self.byteRanks = singles
    }

    deinit {
        arena.deallocate(); starts.deallocate(); slots.deallocate(); pairRanks.deallocate(); tags.deallocate()
    }

    /// The 1-byte tag of a hash (bits 57..63, never 0). The slot index uses the low bits.
    @inline(__always)
    static func tag(_ h: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: h >> 57) | 0x80 }

    /// Slot key and hash of the slice `p[0..<n]` (8 bytes readable at p).
    @inline(__always)
    static func keyAndHash(_ p: UnsafePointer<UInt8>, _ n: Int) -> (key: UInt64, hash: UInt64) {
        let raw = UnsafeRawPointer(p)
        if n <= 8 {
            let word = raw.loadUnaligned(as: UInt64.self)
            let key = n == 8 ? word : word & ((1 << UInt64(truncatingIfNeeded: n &* 8)) &- 1)
            var h = (key &+ UInt64(truncatingIfNeeded: n)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
            return (key, h)
        }
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: n)
        var i = 0
        while i &+ 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 31
            i &+= 8
        }
        if i < n {
            let rest = n &- i
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & ((1 << UInt64(truncatingIfNeeded: rest &* 8)) &- 1)
            h = (h ^ w) &* 0x94D0_49BB_1331_11EB
        }
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 32
        return (h, h)
    }

    /// Rank of the byte slice `p[0..<n]`, or `noRank`. At least 8 bytes must be readable at `p`.
    @inline(__always)
    func rank(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
        if n == 2 { return pairRank(p) }
        let (key, h) = RankTable.keyAndHash(p, n)
        var i = Int(truncatingIfNeeded: h) & mask
        let length = UInt32(truncatingIfNeeded: n)
        let want = RankTable.tag(h)
        // The tag array (1 byte per slot) answers most misses without touching the 16-byte slots.
        while true {
            let t = tags[i]
            if t == 0 { return RankTable.noRank }
            if t == want {
                let s = slots[i]
                if s.key == key && s.length == length
                    && (n <= 8 || memcmp(arena.baseAddress! + Int(starts[Int(s.rank)]), p, n) == 0) {
                    return s.rank
                }
            }
            i = (i + 1) & mask
        }
    }

    /// Rank of the 2-byte slice at `p` from the direct table (256 KiB, stays in cache).
    @inline(__always)
    func pairRank(_ p: UnsafePointer<UInt8>) -> UInt32 {
        pairRanks[Int(UnsafeRawPointer(p).loadUnaligned(as: UInt16.self).littleEndian)]
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
