// `gptoss chat`: a multi-turn conversation on the terminal or over piped stdin (one turn per line).
// History is kept as chat messages and rendered to harmony every turn (old reasoning dropped by the
// renderer's rule). The engine reuses the KV of the previous turn's longest matching prefix
// (EngineOptions.reusePrefixes), so a turn prefills only what changed since the last one. Ctrl-C stops
// the current answer; at the prompt it leaves.
import ArgumentParser
import Core
import Dispatch
import Engine
import Foundation
import Harmony
#if canImport(Glibc)
import Glibc
#endif

struct Chat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Chat with the model (interactive, or one turn per line of piped stdin).",
        discussion: """
        Commands: /reset (forget the conversation), /effort low|medium|high (reasoning effort from the \
        next turn), /reasoning (show or hide the reasoning), /exit. Ctrl-C stops the current answer.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var reasoning: ReasoningOptions

    @Flag(name: .long, help: "Stream the analysis channel (the model's reasoning) too, set apart from the answer.")
    var showReasoning = false

    @Option(name: .long, help: ArgumentHelp("Instructions for the whole conversation (harmony developer message).", valueName: "text"))
    var system: String?

    func run() async throws {
        let model = try ModelRuntime.load(modelOptions, slots: 1, reusePrefixes: true, fullSlidingCache: true)
        defer { model.engine.shutdown() }
        let interactive = Terminal.stdinIsTTY
        let base: [ChatMessage] = system.map { [.developer($0)] } ?? []
        var history = base
        var effort = reasoning.reasoningEffort
        var show = showReasoning
        let seed = sampling.resolvedSeed()
        var turn: UInt64 = 0

        let current = CurrentRequest()
        let interrupt = InterruptHandler { [engine = model.engine] in
            if let id = current.id { engine.cancel(id); return true }
            return false
        }
        defer { interrupt.stop() }

        if interactive {
            Terminal.err("gptoss chat · \(model.backendName) · reasoning \(effort.rawValue) · /reset /effort /reasoning /exit · Ctrl-C stops an answer\n")
        }
        while true {
            if interactive { Terminal.out("> ") }
            guard let line = readLine() else { break }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input.isEmpty { continue }
            if input.hasPrefix("/") {
                let words = input.split(separator: " ").map(String.init)
                switch words[0] {
                case "/exit", "/quit":
                    return
                case "/reset":
                    history = base
                    Terminal.note("conversation reset")
                case "/effort":
                    if words.count == 2, let e = Effort(rawValue: words[1]) {
                        effort = e
                        Terminal.note("reasoning effort \(e.rawValue)")
                    } else {
                        Terminal.note("usage: /effort low|medium|high (now \(effort.rawValue))")
                    }
                case "/reasoning":
                    show.toggle()
                    Terminal.note(show ? "showing reasoning" : "hiding reasoning")
                default:
                    Terminal.note("unknown command \(words[0]); commands: /reset /effort /reasoning /exit")
                }
                continue
            }

            history.append(.user(parts: [line], name: nil))
            let ids = Prompt.render(ChatRequest(messages: history, reasoningEffort: effort.harmony), tokenizer: model.tokenizer)
            do {
                try Prompt.checkFits(ids, engine: model.engine, what: "the conversation")
            } catch {
                history.removeLast()
                Terminal.err("error: \(error)\nhint: /reset starts a new conversation\n")
                continue
            }
            let request = GenerationRequest(promptTokens: ids, sampling: sampling.params(seed: seed &+ turn),
                                            maxTokens: sampling.maxTokens, stopTokens: Prompt.stopTokens)
            turn += 1
            var printer = AnswerPrinter(showReasoning: show)
            let outcome = try await model.engine.run(request, tokenizer: model.tokenizer,
                                                     onStart: { current.id = $0 },
                                                     onPiece: { printer.print($0) })
            current.id = nil
            printer.end()
            if outcome.summary.reason == .cancelled { Terminal.note("answer stopped") }
            history.append(.assistant(ChatAssistantMessage(
                reasoning: outcome.reasoning.isEmpty ? nil : outcome.reasoning,
                content: outcome.text.isEmpty ? [] : [outcome.text])))
            let t = outcome.summary.timings
            Terminal.err(Terminal.statsLine(
                promptTokens: outcome.summary.usage.promptTokens,
                generatedTokens: outcome.summary.usage.completionTokens, loadSeconds: nil,
                timeToFirstToken: t.timeToFirstTokenSeconds,
                decodeRate: t.decodeTokensPerSecond(completionTokens: outcome.summary.usage.completionTokens),
                extra: ["finish \(outcome.summary.reason.rawValue)"]) + "\n")
        }
    }
}

/// The request being answered, shared with the Ctrl-C handler.
final class CurrentRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var _id: RequestID?
    var id: RequestID? {
        get { lock.lock(); defer { lock.unlock() }; return _id }
        set { lock.lock(); _id = newValue; lock.unlock() }
    }
}

/// Routes SIGINT to `onInterrupt`; when it returns false (nothing to stop) the process exits 130.
final class InterruptHandler: @unchecked Sendable {
    private let source: DispatchSourceSignal

    init(onInterrupt: @escaping @Sendable () -> Bool) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if !onInterrupt() {
                Terminal.err("\n")
                exit(130)
            }
        }
        source.resume()
    }

    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
