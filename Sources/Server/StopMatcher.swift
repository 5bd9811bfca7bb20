// Stop strings (`stop`): finds the first occurrence of any of them in streamed text, holding back the
// tail that could still grow into one so that no part of a stop string is ever sent to the client.

struct StopMatcher {
    let stops: [String]
    private var held = ""
    private let longest: Int

    init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
        self.longest = self.stops.map(\.count).max() ?? 0
    }

    var isActive: Bool { !stops.isEmpty }

    /// Feeds new text. Returns the text safe to emit and whether a stop string matched (then the text
    /// is everything before it and nothing more should be emitted).
    mutating func push(_ text: String) -> (emit: String, stopped: Bool) {
        guard isActive else { return (text, false) }
        held += text
        var first: String.Index?
        for s in stops {
            if let r = held.range(of: s), first.map({ r.lowerBound < $0 }) ?? true { first = r.lowerBound }
        }
        if let cut = first {
            let emit = String(held[..<cut])
            held = ""
            return (emit, true)
        }
        // Keep the longest suffix of `held` that is a proper prefix of some stop string.
        var keep = 0
        let maxKeep = min(longest - 1, held.count)
        if maxKeep > 0 {
            for k in stride(from: maxKeep, through: 1, by: -1) {
                let suffix = held.suffix(k)
                if stops.contains(where: { $0.hasPrefix(suffix) }) { keep = k; break }
            }
        }
        let emit = String(held.dropLast(keep))
        held = String(held.suffix(keep))
        return (emit, false)
    }

    /// The held-back text when the stream ends without a match.
    mutating func flush() -> String {
        defer { held = "" }
        return held
    }
}

extension String {
    fileprivate func range(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty else { return nil }
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(needle) {
                return start ..< index(start, offsetBy: needle.count)
            }
            start = index(after: start)
        }
        return nil
    }
}
