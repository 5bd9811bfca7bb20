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
/// The byte-keyed table of all names is built once per tokenizer; `restricted(to:)` makes a cheap
/// per-call view that only accepts some of them.
struct SpecialMatcher: Sendable {
    private let table: RankTable?            // index of each name by its bytes
    private let ids: [UInt32]                // [names] id of each index
    private let indexByName: [String: Int]
    private let allowed: [Bool]?             // [names] nil = every name is allowed
    private let lengthsByFirstByte: [[Int]]  // [256] distinct lengths of allowed names starting with that byte, longest first

    init(names: [String: UInt32]) {
        let sorted = names.filter { !$0.key.isEmpty }.sorted { $0.key < $1.key }
        var builder = RankTableBuilder(path: "<special tokens>", expectedCount: sorted.count)
        var ids = [UInt32]()
        var indexByName = [String: Int]()
        for (index, (name, id)) in sorted.enumerated() {
            builder.add(rank: UInt32(index), line: index + 1) { $0.append(contentsOf: name.utf8) }
            ids.append(id)
            indexByName[name] = index
        }
        self.ids = ids
        self.indexByName = indexByName
        self.table = ids.isEmpty ? nil : try? builder.build() // names are distinct, so build cannot fail
        self.allowed = nil
        self.lengthsByFirstByte = SpecialMatcher.lengths(of: sorted.map(\.key))
    }

    private init(_ base: SpecialMatcher, allowed: [Bool], names: [String]) {
        table = base.table
        ids = base.ids
        indexByName = base.indexByName
        self.allowed = allowed
        lengthsByFirstByte = SpecialMatcher.lengths(of: names)
    }

    private static func lengths(of names: [String]) -> [[Int]] {
        var lengths = [Set<Int>](repeating: [], count: 256)
        for name in names {
            if let first = name.utf8.first { lengths[Int(first)].insert(name.utf8.count) }
        }
        return lengths.map { $0.sorted(by: >) }
    }

    /// A view accepting only `names`, which must all be known (else nil).
    func restricted(to names: Set<String>) -> SpecialMatcher? {
        var mask = [Bool](repeating: false, count: ids.count)
        for name in names {
            guard let index = indexByName[name] else { return nil }
            mask[index] = true
        }
        return SpecialMatcher(self, allowed: mask, names: Array(names))
    }

    /// The first name of `names` that this matcher does not know.
    func firstUnknown(in names: Set<String>) -> String? {
        names.sorted().first { indexByName[$0] == nil }
    }

    var isEmpty: Bool { table == nil || allowed?.contains(true) == false }

    /// The first allowed special token at or after `from`: (start, end, id), or nil.
    /// `RankTable.readPadding` bytes past the end of `text` must be readable.
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
                    if r != RankTable.noRank && (allowed?[Int(r)] ?? true) { return (i, i + length, ids[Int(r)]) }
                }
            }
            i += 1
        }
        return nil
    }
}
