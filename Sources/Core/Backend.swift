// The seam between the engine and a backend (CPU, CUDA, later HIP / multi-GPU).
// A backend owns the layer loop, KV storage, activation buffers and sampling. The engine never sees
// kernels; backends never see requests or text. One call runs one step for a batch of sequences that
// may sit at different positions (prefill chunks and single decode tokens mixed).

/// One sequence's part of a step.
public struct SequenceStep: Sendable {
    /// KV-cache slot owned by this sequence (from `Backend.allocateSlot`).
    public var slot: Int
    /// Tokens to append at positions `startPosition ..< startPosition + tokens.count`.
    /// A prefill chunk has many; a decode step has one.
    public var tokens: [Int32]
    /// Absolute position of `tokens[0]` (= number of tokens already in the slot's cache).
    public var startPosition: Int
    /// How to choose the next token after the last of `tokens`.
    public var sampling: SamplingParams
    /// Counter for the RNG: index of the token being sampled in this sequence's output.
    public var sampleIndex: UInt64
    /// Return logits for every position of `tokens` (tests, `gptoss logits --all-positions`),
    /// only the last position, or none.
    public var logits: LogitsRequest

    public init(slot: Int, tokens: [Int32], startPosition: Int, sampling: SamplingParams = .greedy,
                sampleIndex: UInt64 = 0, logits: LogitsRequest = .none) {
        self.slot = slot; self.tokens = tokens; self.startPosition = startPosition
        self.sampling = sampling; self.sampleIndex = sampleIndex; self.logits = logits
    }
}

public enum LogitsRequest: Sendable, Equatable { case none, last, all }

/// What one sequence gets back from a step.
public struct SequenceResult: Sendable {
    /// The token sampled after the last input token.
    public var token: Int32
    /// Row-major [rows, vocab] f32 where rows = 0, 1 or tokens.count per `LogitsRequest`.
    public var logits: [Float]
    public init(token: Int32, logits: [Float] = []) { self.token = token; self.logits = logits }
}

public protocol Backend: AnyObject {
    var config: ModelConfig { get }
    /// Human-readable description ("cpu, 2 threads", "cuda: NVIDIA H100 80GB HBM3").
    var name: String { get }
    /// Number of sequences that can hold a KV slot at once, and their maximum length.
    var maxSlots: Int { get }
    var maxContext: Int { get }
    /// Reserve an empty KV slot; throws when none is free.
    func allocateSlot() throws -> Int
    /// Forget a slot's cache and make it free again.
    func freeSlot(_ slot: Int)
    /// Cuts a held slot's cache back to its first `length` tokens, so that the slot's next step starts
    /// there (prefix reuse: a finished sequence's KV serves a new request with the same first tokens).
    /// Returns the tokens actually kept: `length` (capped at what the slot holds), or fewer (0: nothing)
    /// where the cache cannot be cut at `length`.
    func keepPrefix(ofSlot slot: Int, length: Int) -> Int
    /// Run the model over every sequence's new tokens, append them to the KV caches and sample
    /// one token per sequence. Results are in the order of `batch`.
    func step(_ batch: [SequenceStep]) throws -> [SequenceResult]
}
