// Errors any backend may throw from the `Backend` calls (bad slot, position, token id, capacity).
// Shared so the engine handles CPU and CUDA failures alike.

public enum BackendError: Error, CustomStringConvertible, Equatable, Sendable {
    case noFreeSlot(maxSlots: Int)
    case invalidSlot(Int)
    /// A step's startPosition must equal the number of tokens already in the slot.
    case positionMismatch(slot: Int, expected: Int, got: Int)
    case contextOverflow(slot: Int, needed: Int, maxContext: Int)
    case tokenOutOfRange(token: Int32, vocabSize: Int)
    case emptyStep(slot: Int)
    case duplicateSlot(Int)

    public var description: String {
        switch self {
        case let .noFreeSlot(n): return "all \(n) KV slots are in use; free one or create the backend with more slots"
        case let .invalidSlot(s): return "slot \(s) is not allocated"
        case let .positionMismatch(s, e, g): return "slot \(s) holds \(e) tokens but the step starts at position \(g)"
        case let .contextOverflow(s, n, m): return "slot \(s) would need \(n) positions, more than the maximum context \(m)"
        case let .tokenOutOfRange(t, v): return "token id \(t) is outside the vocabulary (0..<\(v))"
        case let .emptyStep(s): return "the step for slot \(s) has no tokens"
        case let .duplicateSlot(s): return "slot \(s) appears twice in one step"
        }
    }
}
