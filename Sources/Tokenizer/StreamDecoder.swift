// Incremental detokenization for streaming: token ids in, text out as soon as it is complete UTF-8.
// The bytes of an unfinished (but so far valid) UTF-8 sequence are held back until a later token
// completes them; invalid bytes become U+FFFD exactly as `decode` would produce them.

public struct StreamDecoder: Sendable {
    public let tokenizer: O200kTokenizer
    private var pending: [UInt8] = [] // [0...3] u8, an unfinished UTF-8 sequence

    public init(tokenizer: O200kTokenizer) {
        self.tokenizer = tokenizer
    }

    /// True while bytes of an unfinished UTF-8 sequence are held back.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// Adds one token; returns the text it completes (possibly empty).
    public mutating func push(_ id: UInt32) -> String {
        tokenizer.appendBytes(of: id, to: &pending)
        return drain()
    }

    /// Adds several tokens; returns the text they complete (possibly empty).
    public mutating func push(_ ids: [UInt32]) -> String {
        for id in ids { tokenizer.appendBytes(of: id, to: &pending) }
        return drain()
    }

    /// Ends the stream: held-back bytes are decoded lossily (one U+FFFD) and the decoder is reset.
    public mutating func finish() -> String {
        let text = pending.withUnsafeBufferPointer { UTF8Support.lossyString($0) }
        pending.removeAll(keepingCapacity: true)
        return text
    }

    private mutating func drain() -> String {
        let keep = pending.withUnsafeBufferPointer { UTF8Support.unfinishedSuffixLength($0) }
        let ready = pending.count - keep
        if ready == 0 { return "" }
        let text = pending.withUnsafeBufferPointer { UTF8Support.lossyString(UnsafeBufferPointer(rebasing: $0[0..<ready])) }
        pending.removeFirst(ready)
        return text
    }
}
