// `gptoss generate`: one prompt in, the answer streamed to stdout as it is produced, stats on stderr.
import ArgumentParser
import Core
import Engine
import Foundation
import Harmony

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Answer one prompt, streaming the final channel to stdout.",
        discussion: """
        The prompt is rendered in the harmony chat format; sampling stops at <|return|> or <|call|>. \
        Stats (prompt and generated tokens, load time, time to first token, decode speed) go to stderr.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var reasoning: ReasoningOptions

    @Flag(name: .long, help: "Also stream the analysis channel (the model's reasoning), set apart from the answer.")
    var showReasoning = false

    @Option(name: .long, help: ArgumentHelp("Raw prompt token ids, comma-separated; bypasses harmony and prints the decoded output.", valueName: "ids"))
    var promptTokens: String?

    @Option(name: .long, help: ArgumentHelp("Read the prompt from a file ('-' for stdin).", valueName: "path"))
    var file: String?

    @Flag(name: .long, help: "Print one JSON object {tokens, text, reasoning, finish_reason, usage, timings} instead of streaming.")
    var json = false

    @Argument(help: "The prompt.")
    var prompt: String?

    func validate() throws {
        let given = [prompt != nil, promptTokens != nil, file != nil].filter { $0 }.count
        if given == 0 { throw ValidationError("give a prompt: gptoss generate \"Why is the sky blue?\" (or --file PATH, or --prompt-tokens IDS)") }
        if given > 1 { throw ValidationError("give only one of a prompt argument, --file and --prompt-tokens") }
        if let prompt, prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("the prompt is empty")
        }
    }

    func run() async throws {
        // Inputs are checked before the (slow) model load.
        var rawIDs: [Int32]?
        if let promptTokens { rawIDs = try Prompt.parseTokenList(promptTokens) }
        let text = try prompt ?? file.map(PromptFile.read)

        let model = try ModelRuntime.load(modelOptions, slots: 1)
        defer { model.engine.shutdown() }
        let ids = rawIDs ?? Prompt.render(Prompt.userRequest(text ?? "", effort: reasoning.reasoningEffort),
                                          tokenizer: model.tokenizer)
        try Prompt.checkFits(ids, engine: model.engine)
        let seed = sampling.resolvedSeed()
        let request = GenerationRequest(promptTokens: ids, sampling: sampling.params(seed: seed),
                                        maxTokens: sampling.maxTokens,
                                        stopTokens: rawIDs == nil ? Prompt.stopTokens : [])

        var printer = AnswerPrinter(showReasoning: showReasoning)
        let outcome = try await model.engine.run(request, tokenizer: model.tokenizer, raw: rawIDs != nil, onPiece: { piece in
            if !json { printer.print(piece) }
        })
        if !json { printer.end() }

        let t = outcome.summary.timings
        let decodeRate = t.decodeTokensPerSecond(completionTokens: outcome.summary.usage.completionTokens)
        if json {
            let object: JSON = [
                "tokens": OutputJSON.tokens(outcome.tokens),
                "text": .string(outcome.text),
                "reasoning": .string(outcome.reasoning),
                "tool_calls": OutputJSON.toolCalls(outcome.toolCalls),
                "finish_reason": .string(outcome.summary.reason.rawValue),
                "usage": OutputJSON.usage(outcome.summary.usage),
                "timings": [
                    "load_s": OutputJSON.number(model.loadSeconds),
                    "time_to_first_token_s": OutputJSON.number(t.timeToFirstTokenSeconds),
                    "decode_s": OutputJSON.number(t.decodeSeconds),
                    "decode_tokens_per_s": OutputJSON.number(decodeRate),
                    "total_s": OutputJSON.number(t.totalSeconds),
                ],
                "seed": .number(JSONNumber(validatedText: String(seed))),  // UInt64: may exceed Int.max
            ]
            Terminal.out(object.compactJSON() + "\n")
        }
        if rawIDs == nil && outcome.malformed > 0 && outcome.text.isEmpty {
            Terminal.note("the output did not follow the harmony format (\(outcome.malformed) problem\(outcome.malformed == 1 ? "" : "s")), so there is no answer text; random models such as --model tiny do this")
        }
        Terminal.err(Terminal.statsLine(
            promptTokens: outcome.summary.usage.promptTokens, generatedTokens: outcome.summary.usage.completionTokens,
            loadSeconds: model.loadSeconds, timeToFirstToken: t.timeToFirstTokenSeconds, decodeRate: decodeRate,
            extra: ["finish \(outcome.summary.reason.rawValue)", "seed \(seed)", model.backendName]) + "\n")
    }
}

/// Reading prompt files with clear errors.
enum PromptFile {
    static func read(_ path: String) throws -> String {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let d = FileManager.default.contents(atPath: path) else {
                throw RuntimeError(description: "cannot read the prompt file \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied or not a regular file" : "no such file")")
            }
            data = d
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuntimeError(description: "the prompt file \(path) is not valid UTF-8 text")
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw RuntimeError(description: "the prompt file \(path) is empty")
        }
        return text
    }
}
