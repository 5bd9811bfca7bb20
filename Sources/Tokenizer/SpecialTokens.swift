// Special tokens: the o200k_harmony table (spec §5.4, ids 199998..201087) and the matcher that finds
// allowed special-token strings in text without allocating (a small RankTable keyed by their bytes).

/// Names and ids of a tokenizer's special tokens. Several names may share one id (200018 is both
/// `<|endofprompt|>` and `<|reserved_200018|>`); `nameByID` keeps the first name given, used for decoding.
public struct SpecialTokens: Sendable, Equatable {
    public let idsByName: [String: UInt32]
    public let nameByID: [UInt32: String]

    /// `entries` in priority order: the first name listed for an id is the one decoding produces.
    public init(_ entries: [(name: String, id: UInt32)]) {
        var ids = [String: UInt32]()
        var names = [UInt32: String]()
        for (name, id) in entries {
            ids[name] = id
            if names[id] == nil { names[id] = name }
        }
        idsByName = ids
        nameByID = names
    }

    /// No special tokens.
    public static let none = SpecialTokens([])

    /// tiktoken's o200k_harmony special tokens: 1,091 names for ids 199998..201087.
    public static let harmony: SpecialTokens = {
        var entries: [(name: String, id: UInt32)] = [
            ("<|startoftext|>", 199_998), ("<|endoftext|>", 199_999),
            ("<|return|>", 200_002), ("<|constrain|>", 200_003), ("<|channel|>", 200_005),
            ("<|start|>", 200_006), ("<|end|>", 200_007), ("<|message|>", 200_008),
            ("<|call|>", 200_012), ("<|endofprompt|>", 200_018),
        ]
        let named: Set<UInt32> = [200_002, 200_003, 200_005, 200_006, 200_007, 200_008, 200_012]
        for id in UInt32(200_000)...UInt32(201_087) where !named.contains(id) {
            entries.append(("<|reserved_\(id)|>", id))
        }
        return SpecialTokens(entries)
    }()

    /// A copy with `other`'s names added; an id keeps this table's preferred (decoding) name.
    func merging(_ other: SpecialTokens) -> SpecialTokens {
        var ids = idsByName
        var names = nameByID
        for (name, id) in other.idsByName { ids[name] = id }
        for (id, name) in other.nameByID where names[id] == nil { names[id] = name }
        return SpecialTokens(ids: ids, names: names)
    }

    private init(ids: [String: UInt32], names: [UInt32: String]) {
        idsByName = ids
        nameByID = names
    }
}

/// Which special-token strings `encode` recognizes in text.
public enum AllowedSpecial: Sendable, Equatable {
    /// Every special token of the tokenizer.
    case all
    /// Only these names (each must be a special token of the tokenizer).
    case only(Set<String>)

    /// No special tokens: the same as `encodeOrdinary`.
    public static let none = AllowedSpecial.only([])
}

/// Finds the leftmost occurrence of any of a set of special-token strings (longest wins at one position).
struct SpecialMatcher: Sendable {
    private let table: RankTable?          // index of each allowed name by its bytes
    private let ids: [UInt32]              // [names] id of each index
    private let lengthsByFirstByte: [[Int]] // [256] distinct lengths of names starting with that byte, longest first

    init(names: [String: UInt32]) {
        let sorted = names.sorted { $0.key < $1.key }
        var builder = RankTableBuilder(path: "<special tokens>", expectedCount: sorted.count)  // arena is padded
        var lengths = [Set<Int>](repeating: [], count: 256)
        var ids = [UInt32]()
        for (index, (name, id)) in sorted.enumerated() {
            let bytes = Array(name.utf8)
            guard let first = bytes.first else { continue }
            builder.add(rank: UInt32(ids.count), line: index + 1) { $0.append(contentsOf: bytes) }
            ids.append(id)
            lengths[Int(first)].insert(bytes.count)
        }
        self.ids = ids
        self.table = ids.isEmpty ? nil : try? builder.build() // names are distinct, so build cannot fail
        self.lengthsByFirstByte = lengths.map { $0.sorted(by: >) }
    }

    var isEmpty: Bool { table == nil }

    /// The first special token at or after `from`: (start, end, id), or nil. `RankTable.readPadding`
    /// bytes past the end of `text` must be readable.
    func nextMatch(in text: UnsafeBufferPointer<UInt8>, from: Int) -> (start: Int, end: Int, id: UInt32)? {
        guard let table else { return nil }
        let base = text.baseAddress!
        var i = from
        let n = text.count
        while i < n {
            let lengths = lengthsByFirstByte[Int(text[i])]
            if !lengths.isEmpty {
                for length in lengths where i + length <= n {
                    let r = table.rank(base + i, length)
                    if r != RankTable.noRank { return (i, i + length, ids[Int(r)]) }
                }
            }
            i += 1
        }
        return nil
    }
}
