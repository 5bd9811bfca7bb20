// From validated request fields to a running generation, and the loop that reads its token stream:
// range checks shared by every route (model, n, temperature, top_p, stop, max_tokens vs context), the
// GenerationRequest sent through the engine seam, and `drive`, which feeds tokens to a consumer until the
// engine finishes, the consumer stops (a stop string), or the task is cancelled (client gone). Whatever
// ends it, the request is cancelled in the engine so its slot is freed at once.
import Core
import Engine

/// How a generation ended, as far as the routes care.
enum DriveEnd: Sendable {
    case finished(GenerationSummary)
    /// The consumer asked to stop (a stop string matched); the engine request was cancelled.
    case stoppedByConsumer
}

struct GenerationOutcome: Sendable {
    var end: DriveEnd
    /// Tokens received from the engine (the stop token included, as OpenAI counts it).
    var completionTokens: Int
    var promptTokens: Int
}

extension ServerState {
    /// Checks the fields every route shares and builds the engine request. `promptParam` names the
    /// field holding the prompt in errors (`messages` or `prompt`).
    func generationRequest(_ o: CompletionOptions, promptTokens: [Int32], stopTokens: Set<Int32>,
                           promptParam: String) throws -> GenerationRequest {
        if let model = o.model, model != modelID { throw APIError.modelNotFound(model) }
        if let n = o.n, n != 1 {
            throw APIError.invalidRequest("n must be 1: this server returns one choice per request, got \(n).", param: "n")
        }
        if let t = o.temperature, !(t >= 0 && t <= 2) {
            throw APIError.invalidRequest("temperature must be between 0 and 2, got \(t).", param: "temperature")
        }
        if let p = o.topP, !(p > 0 && p <= 1) {
            throw APIError.invalidRequest("top_p must be greater than 0 and at most 1, got \(p).", param: "top_p")
        }
        if o.stop.count > 4 {
            throw APIError.invalidRequest("stop takes at most 4 sequences, got \(o.stop.count).", param: "stop")
        }
        if promptTokens.isEmpty { throw APIError.invalidRequest("The prompt is empty.", param: promptParam) }
        let context = engine.maxContext
        if promptTokens.count >= context {
            throw APIError.contextLengthExceeded(maxContext: context, promptTokens: promptTokens.count,
                                                 completionTokens: o.maxTokens, param: promptParam)
        }
        let room = context - promptTokens.count
        let maxTokens: Int
        if let m = o.maxTokens {
            guard m >= 1 else {
                throw APIError.invalidRequest("\(o.maxTokensField) must be at least 1, got \(m).", param: o.maxTokensField)
            }
            guard m <= room else {
                throw APIError.contextLengthExceeded(maxContext: context, promptTokens: promptTokens.count,
                                                     completionTokens: m, param: o.maxTokensField)
            }
            maxTokens = m
        } else {
            maxTokens = room
        }
        let seed = o.seed.map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0 ... UInt64.max)
        let sampling = SamplingParams(temperature: Float(o.temperature ?? 1), topP: Float(o.topP ?? 1),
                                      topK: 0, seed: seed)
        return GenerationRequest(promptTokens: promptTokens, sampling: sampling, maxTokens: maxTokens,
                                 stopTokens: stopTokens)
    }

    /// Submits through the engine seam, mapping its refusals to OpenAI errors.
    func submit(_ request: GenerationRequest, promptParam: String) throws -> GenerationStream {
        do {
            return try engine.submit(request)
        } catch let error as EngineError {
            throw APIError.from(engine: error, param: promptParam)
        }
    }

    /// Reads `stream` to its end, handing each sampled token to `consume` (which returns false to stop).
    /// Throws CancellationError when the task is cancelled (the client went away), APIError when the
    /// engine fails or shuts down. The engine request is always cancelled on the way out unless it
    /// finished by itself, so a slot is never left behind.
    func drive(_ stream: GenerationStream, promptTokens: Int,
               consume: (Int32) async throws -> Bool) async throws -> GenerationOutcome {
        var received = 0
        var finishedNormally = false
        defer { if !finishedNormally { engine.cancel(stream.id) } }
        do {
            for try await event in stream {
                switch event {
                case .tokens(let tokens):
                    for token in tokens {
                        received += 1
                        if try await !consume(token) {
                            return GenerationOutcome(end: .stoppedByConsumer, completionTokens: received,
                                                     promptTokens: promptTokens)
                        }
                    }
                case .finished(let summary):
                    finishedNormally = true
                    if summary.reason == .cancelled {
                        try Task.checkCancellation()
                        throw APIError.shuttingDown()
                    }
                    return GenerationOutcome(end: .finished(summary), completionTokens: received,
                                             promptTokens: promptTokens)
                }
            }
        } catch let error as EngineError {
            throw APIError.from(engine: error)
        }
        // The stream ended without a finish event: the reading task was cancelled.
        try Task.checkCancellation()
        throw CancellationError()
    }
}

/// OpenAI-style ids: a prefix and 24 random letters and digits.
func makeID(_ prefix: String) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    var rng = SystemRandomNumberGenerator()
    return prefix + String((0 ..< 24).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
}
