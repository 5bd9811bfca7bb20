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
/// shown as their names) and puts it all in the answer.
struct AnswerStream {
    private var parser: HarmonyStreamParser?
    private var decoder: StreamDecoder
    private(set) var tokens: [Int32] = []
    private(set) var text = ""
    private(set) var reasoning = ""
    private(set) var toolCalls: [HarmonyToolCall] = []
    /// Grammar problems the parser reported (random models produce many).
    private(set) var malformed = 0

    init(tokenizer: O200kTokenizer, raw: Bool = false) {
        decoder = tokenizer.makeStreamDecoder()
        parser = raw ? nil : HarmonyStreamParser(tokenizer: tokenizer, role: .assistant)
    }

    /// Messages parsed so far (for chat history).
    var messages: [HarmonyParsedMessage] { parser?.messages ?? [] }

    mutating func push(_ ids: [Int32]) -> [AnswerPiece] {
        tokens += ids
        guard parser != nil else {
            let s = decoder.push(ids.map { UInt32(bitPattern: $0) })
            text += s
            return s.isEmpty ? [] : [.answer(s)]
        }
        var pieces: [AnswerPiece] = []
        for id in ids { pieces += sort(parser!.process(UInt32(bitPattern: id))) }
        return pieces
    }

    mutating func finish() -> [AnswerPiece] {
        guard parser != nil else {
            let s = decoder.finish()
            text += s
            return s.isEmpty ? [] : [.answer(s)]
        }
        return sort(parser!.finish())
    }

    private mutating func sort(_ events: [HarmonyStreamEvent]) -> [AnswerPiece] {
        var pieces: [AnswerPiece] = []
        for event in events {
            switch event {
            case let .textDelta(delta, channel, recipient):
                guard recipient == nil else { continue }  // tool-call arguments come whole in .toolCall
                switch channel {
                case "analysis"?:
                    reasoning += delta; pieces.append(.reasoning(delta))
                case "final"?, nil:
                    text += delta; pieces.append(.answer(delta))
                default:
                    continue  // commentary preambles are not part of the answer
                }
            case .toolCall(let call):
                toolCalls.append(call); pieces.append(.toolCall(call))
            case .malformed:
                malformed += 1
            case .messageStart, .messageEnd, .turnEnd:
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
