// From engine tokens to what a person reads: runs harmony's stream parser over sampled ids and sorts
// its text into the answer (final channel, or a message that names no channel), reasoning (analysis
// channel) and tool calls. Also the raw mode used by --prompt-tokens (plain incremental decoding).
import Core
import Engine
import Harmony
import Tokenizer

enum AnswerPiece: Equatable {
    case answer(String)
    case reasoning(String)
    case toolCall(HarmonyToolCall)
}

/// Decodes one request's tokens as they stream. `raw` mode decodes every id as text (special tokens
/// shown as their names) and puts it all in the answer. The channel routing is Harmony's
/// `HarmonyCompletion` (the server uses the same), so the CLI and the API agree on what is answer.
struct AnswerStream {
    private let raw: Bool
    private var parser: HarmonyStreamParser
    private var completion = HarmonyCompletion()
    private var decoder: StreamDecoder
    private var rawText = ""
    private(set) var tokens: [Int32] = []

    /// The answer: final-channel text (or a message that names no channel); everything in raw mode.
    var text: String { raw ? rawText : completion.content }
    /// Analysis-channel text.
    var reasoning: String { completion.reasoning }
    var toolCalls: [HarmonyToolCall] { completion.toolCalls }
    /// Grammar problems the parser reported (random models produce many).
    var malformed: Int { completion.problems.count }

    init(tokenizer: O200kTokenizer, raw: Bool = false) {
        self.raw = raw
        decoder = tokenizer.makeStreamDecoder()
        parser = HarmonyStreamParser(tokenizer: tokenizer, role: .assistant)
    }

    /// Messages parsed so far (for chat history).
    var messages: [HarmonyParsedMessage] { raw ? [] : parser.messages }

    mutating func push(_ ids: [Int32]) -> [AnswerPiece] {
        tokens += ids
        if raw { return rawPieces(decoder.push(ids.map { UInt32(bitPattern: $0) })) }
        var pieces: [AnswerPiece] = []
        for id in ids { pieces += sort(parser.process(UInt32(bitPattern: id))) }
        return pieces
    }

    mutating func finish() -> [AnswerPiece] {
        raw ? rawPieces(decoder.finish()) : sort(parser.finish())
    }

    private mutating func rawPieces(_ s: String) -> [AnswerPiece] {
        rawText += s
        return s.isEmpty ? [] : [.answer(s)]
    }

    /// Feeds the events to the completion and returns the pieces a reader sees (commentary preambles
    /// and tool-call arguments are not part of the answer; a tool call is shown whole).
    private mutating func sort(_ events: [HarmonyStreamEvent]) -> [AnswerPiece] {
        var pieces: [AnswerPiece] = []
        for event in events {
            completion.apply(event)
            switch event {
            case let .textDelta(delta, channel, recipient):
                switch HarmonyCompletion.destination(channel: channel, recipient: recipient) {
                case .reasoning?: pieces.append(.reasoning(delta))
                case .content?: pieces.append(.answer(delta))
                case .preamble?, nil: continue
                }
            case .toolCall(let call):
                pieces.append(.toolCall(call))
            case .malformed, .messageStart, .messageEnd, .turnEnd:
                continue
            }
        }
        return pieces
    }
}

/// Everything known about one finished request.
struct Outcome {
    var tokens: [Int32]
    var text: String
    var reasoning: String
    var toolCalls: [HarmonyToolCall]
    var summary: GenerationSummary
    var malformed: Int
}

extension GenerationService {
    /// Runs a request to the end, handing each decoded piece to `onPiece` as it arrives.
    func run(_ request: GenerationRequest, tokenizer: O200kTokenizer, raw: Bool = false,
             onStart: (RequestID) -> Void = { _ in },
             onPiece: (AnswerPiece) -> Void = { _ in }) async throws -> Outcome {
        let stream = try submit(request)
        onStart(stream.id)
        var answer = AnswerStream(tokenizer: tokenizer, raw: raw)
        for try await event in stream {
            switch event {
            case .tokens(let ids):
                for piece in answer.push(ids) { onPiece(piece) }
            case .finished(let summary):
                for piece in answer.finish() { onPiece(piece) }
                return Outcome(tokens: answer.tokens, text: answer.text, reasoning: answer.reasoning,
                               toolCalls: answer.toolCalls, summary: summary, malformed: answer.malformed)
            }
        }
        throw RuntimeError(description: "the generation stream ended without a result")
    }
}
