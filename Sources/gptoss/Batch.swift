// `gptoss batch` (alias `getp`): many prompts from a file, run concurrently through the engine's
// continuous batching. Each result is appended to the output as soon as it finishes (an interrupted run
// loses nothing; --resume skips what is there), and a finished run leaves the file sorted by input index.
import ArgumentParser
import Core
import Engine
import Foundation
import Harmony

struct Batch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a file of prompts and write JSONL results (for throughput).",
        discussion: """
        Input: the seed format (first line the count N, then one prompt per line) or JSONL, one request \
        per line: {"prompt": "..."} or a chat-completions body {"messages": [...]}, each with optional \
        max_tokens, temperature, top_p, seed. Output: one JSON object per request, in input order: \
        {index, text, reasoning, tokens, finish_reason, usage}; a bad line gives {index, line, error}.
        """,
        aliases: ["getp"])

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var reasoning: ReasoningOptions

    @Option(name: .long, help: ArgumentHelp("Prompt file (seed format or JSONL).", valueName: "path"))
    var input: String

    @Option(name: .long, help: ArgumentHelp("JSONL results file.", valueName: "path"))
    var output: String

    @Flag(name: .long, help: "Keep the results already in --output and run only the missing requests.")
    var resume = false

    @Option(name: .long, help: ArgumentHelp("Requests decoded together (KV slots).", valueName: "n"))
    var concurrency: Int = 8

    func validate() throws {
        if concurrency < 1 { throw ValidationError("--concurrency must be 1 or more, got \(concurrency)") }
    }

    func run() async throws {
        let (format, entries) = try BatchInput.read(path: input, effort: reasoning.reasoningEffort)
        let sink = try ResultFile(path: output, resume: resume)
        let todo = entries.filter { !sink.done.contains($0.index) }
        if resume { Terminal.note("\(entries.count - todo.count) of \(entries.count) requests already in \(output); running \(todo.count)") }

        var failed = 0
        for case let .bad(index, line, message) in todo {
            Terminal.err("error: \(input) line \(line): \(message)\n")
            try sink.append(index: index, ["index": .number(JSONNumber(index)), "line": .number(JSONNumber(line)),
                                           "error": .string(message)])
            failed += 1
        }
        let items: [BatchItem] = todo.compactMap { if case .item(let i) = $0 { return i } else { return nil } }

        var promptTokens = 0, generatedTokens = 0, done = 0
        var start = Clock.seconds()
        if !items.isEmpty {
            let model = try ModelRuntime.load(modelOptions, slots: min(concurrency, items.count))
            defer { model.engine.shutdown() }
            Terminal.note("\(items.count) requests (\(format.rawValue)) on \(model.backendName), \(min(concurrency, items.count)) at a time")
            let baseSeed = sampling.resolvedSeed()
            start = Clock.seconds()
            var progress = ProgressBar(total: items.count, start: start)
            progress.update(done: 0, generatedTokens: 0, now: start)

            try await withThrowingTaskGroup(of: (BatchItem, Result<Outcome, Error>).self) { group in
                for item in items {
                    var params = sampling.params(seed: item.seed ?? baseSeed &+ UInt64(item.index))
                    if let t = item.temperature { params.temperature = t }
                    if let p = item.topP { params.topP = p }
                    let ids = Prompt.render(item.chat, tokenizer: model.tokenizer)
                    let request = GenerationRequest(promptTokens: ids, sampling: params,
                                                    maxTokens: item.maxTokens ?? item.chat.completionTokenLimit ?? sampling.maxTokens,
                                                    stopTokens: Prompt.stopTokens)
                    group.addTask {
                        do {
                            try Prompt.checkFits(ids, engine: model.engine)
                            return (item, .success(try await model.engine.run(request, tokenizer: model.tokenizer)))
                        } catch {
                            return (item, .failure(error))
                        }
                    }
                }
                for try await (item, result) in group {
                    switch result {
                    case .success(let o):
                        promptTokens += o.summary.usage.promptTokens
                        generatedTokens += o.summary.usage.completionTokens
                        var record: JSON = [
                            "index": .number(JSONNumber(item.index)),
                            "text": .string(o.text),
                            "reasoning": .string(o.reasoning),
                            "tokens": OutputJSON.tokens(o.tokens),
                            "finish_reason": .string(o.summary.reason.rawValue),
                            "usage": OutputJSON.usage(o.summary.usage),
                        ]
                        if !o.toolCalls.isEmpty, case .object(var obj) = record {
                            obj["tool_calls"] = OutputJSON.toolCalls(o.toolCalls)
                            record = .object(obj)
                        }
                        try sink.append(index: item.index, record)
                    case .failure(let error):
                        failed += 1
                        if Terminal.stderrIsTTY { Terminal.err("\r\u{1B}[2K") }
                        Terminal.err("error: \(input) line \(item.line): \(error)\n")
                        try sink.append(index: item.index, ["index": .number(JSONNumber(item.index)),
                                                            "line": .number(JSONNumber(item.line)),
                                                            "error": .string(String(describing: error))])
                    }
                    done += 1
                    progress.update(done: done, generatedTokens: generatedTokens, now: Clock.seconds())
                }
            }
        }
        try sink.finishSorted()
        let wall = max(Clock.seconds() - start, 1e-9)
        Terminal.err(String(format: "batch: %d requests (%d ok, %d failed) · prompt tokens %d · generated tokens %d · wall %.2f s · output %.1f tok/s · total %.1f tok/s\n",
                            todo.count, todo.count - failed, failed, promptTokens, generatedTokens, wall,
                            Double(generatedTokens) / wall, Double(promptTokens + generatedTokens) / wall))
        if failed > 0 { throw ExitCode.failure }
    }
}

/// Monotonic seconds for the batch timings and progress bar.
enum Clock {
    static func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
