// Option groups shared by generate, chat and batch (and later serve): which model and device, how to
// sample, how hard to reason. Validation here turns bad values into clear errors before any loading.
import ArgumentParser
import Core

enum Device: String, ExpressibleByArgument, CaseIterable, Sendable {
    case auto, cpu, cuda
}

enum Effort: String, ExpressibleByArgument, CaseIterable, Sendable {
    case low, medium, high
}

struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Checkpoint folder (config.json + *.safetensors), or 'tiny' for the bundled toy model.",
        discussion: "Without it: $GPTOSS_MODEL, then the Hugging Face cache (openai/gpt-oss-20b, then -120b).",
        valueName: "dir"))
    var model: String?

    @Option(name: .long, help: "Where to run: auto (CUDA when available, else CPU), cpu or cuda.")
    var device: Device = .auto

    @Option(name: .long, help: ArgumentHelp("Context length to reserve per sequence (prompt + output).", valueName: "tokens"))
    var context: Int = 8192

    @Option(name: .long, help: ArgumentHelp("CPU threads (default: all cores).", valueName: "n"))
    var threads: Int?

    /// Most --threads accepted: the CPU backend keeps scratch rows per worker (4 per thread), so an
    /// absurd count would exhaust memory before the first token.
    static let maxThreads = 1024

    mutating func validate() throws {
        guard context >= 16 else { throw ValidationError("--context must be at least 16 tokens, got \(context)") }
        if let threads, !(1...Self.maxThreads).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(Self.maxThreads), got \(threads)")
        }
    }
}

struct SamplingOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Most tokens to generate (reasoning included).", valueName: "n"))
    var maxTokens: Int = 1024

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sampling temperature in [0, 2]; 0 is greedy.", valueName: "t"))
    var temperature: Float = 1.0

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Nucleus sampling: keep the smallest set of tokens whose probability reaches p, in (0, 1].", valueName: "p"))
    var topP: Float = 1.0

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Keep only the k most likely tokens; 0 keeps all.", valueName: "k"))
    var topK: Int = 0

    @Option(name: .long, help: ArgumentHelp("Random seed; the same seed gives the same tokens (default: random, printed with the stats).", valueName: "s"))
    var seed: UInt64?

    mutating func validate() throws {
        try Self.check(maxTokens: maxTokens, temperature: temperature, topP: topP, topK: topK)
    }

    static func check(maxTokens: Int?, temperature: Float?, topP: Float?, topK: Int? = nil) throws {
        if let maxTokens, maxTokens < 0 { throw ValidationError("--max-tokens must be 0 or more, got \(maxTokens)") }
        if let t = temperature, !(t >= 0 && t <= 2) { throw ValidationError("--temperature must be between 0 and 2, got \(t)") }
        if let p = topP, !(p > 0 && p <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(p)") }
        if let k = topK, k < 0 { throw ValidationError("--top-k must be 0 or more, got \(k)") }
    }

    /// The seed actually used (a random one when --seed is absent).
    func resolvedSeed() -> UInt64 { seed ?? UInt64.random(in: 0 ... UInt64(UInt32.max)) }

    func params(seed: UInt64) -> SamplingParams {
        SamplingParams(temperature: temperature, topP: topP, topK: topK, seed: seed)
    }
}

struct ReasoningOptions: ParsableArguments {
    @Option(name: .long, help: "How much the model reasons before answering: low, medium or high.")
    var reasoningEffort: Effort = .medium
}
