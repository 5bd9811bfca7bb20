// `gptoss serve`: the OpenAI-compatible HTTP server (Server module) over one engine. Loads the model
// like the other modes (ModelRuntime), serves /v1/chat/completions, /v1/completions, /v1/models,
// /health and /metrics on host:port, and shuts down cleanly on SIGTERM/SIGINT (stop accepting, let
// in-flight requests finish for up to --shutdown-grace seconds, cancel the rest, exit 0).
import ArgumentParser
import Engine
import Foundation
import Server

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the OpenAI chat-completions and completions API over HTTP.",
        discussion: """
        Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health, GET /metrics \
        (Prometheus). Requests are batched by the engine (--max-batch run at once, the rest queue). \
        With --api-key (or $GPTOSS_API_KEY), /v1/* needs `Authorization: Bearer KEY`. \
        tool_choice naming a function forces a call to it. See docs/server.md.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "Address to listen on (127.0.0.1: this machine only; 0.0.0.0: every interface).")
    var host = "127.0.0.1"

    @Option(name: .long, help: "TCP port (0 picks a free one and prints it).")
    var port = 8000

    @Option(name: .long, help: ArgumentHelp("Require this bearer token on /v1/* (default: $GPTOSS_API_KEY, else none).",
                                            valueName: "key"))
    var apiKey: String?

    @Option(name: .long, help: ArgumentHelp("Requests decoded together (KV slots); the rest wait in a queue.", valueName: "n"))
    var maxBatch = 16

    @Option(name: .long, help: ArgumentHelp("The model id clients use (default: from the checkpoint, e.g. gpt-oss-20b).",
                                            valueName: "id"))
    var servedModelName: String?

    @Option(name: .long, help: ArgumentHelp("Largest request body accepted, in bytes (larger: 413).", valueName: "bytes"))
    var maxBodyBytes = 4 << 20

    @Option(name: .long, help: ArgumentHelp("On SIGTERM, seconds in-flight requests get to finish before they are cancelled.",
                                            valueName: "s"))
    var shutdownGrace = 30.0

    func validate() throws {
        guard (0 ... 65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
        guard maxBatch >= 1 else { throw ValidationError("--max-batch must be 1 or more, got \(maxBatch)") }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes must be at least 1024, got \(maxBodyBytes)") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must be 0 or more, got \(shutdownGrace)") }
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
    }

    func run() async throws {
        // Multi-turn clients resend the conversation: reuse what a kept slot already holds.
        let model = try ModelRuntime.load(modelOptions, slots: maxBatch, reusePrefixes: true)
        let key = apiKey ?? ProcessInfo.processInfo.environment["GPTOSS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let modelID = servedModelName ?? Self.modelID(for: model.location)
        let state = ServerState(engine: model.engine, format: HarmonyChatFormat(tokenizer: model.tokenizer),
                                options: ServerOptions(modelID: modelID, apiKey: key, maxBodyBytes: maxBodyBytes))
        let engine = model.engine
        let slots = maxBatch, context = model.engine.maxContext
        let backend = model.backendName, load = model.loadSeconds
        do {
            try await serve(state: state, key: key, engine: engine, modelID: modelID, slots: slots,
                            context: context, backend: backend, load: load)
        } catch {
            engine.shutdown()
            throw RuntimeError(description: "could not serve on \(host):\(port): \(error)\nhint: is the port already in use, or the address not one of this machine's? Try another --port, or --host 127.0.0.1")
        }
        Terminal.note("server stopped")
    }

    private func serve(state: ServerState, key: String?, engine: Engine, modelID: String, slots: Int, context: Int,
                       backend: String, load: Double) async throws {
        let host = self.host
        try await OpenAIServer.run(
            state: state, apiKey: key, host: host, port: port, shutdownGrace: shutdownGrace,
            onShutdown: { engine.shutdown() },
            onServerRunning: { port in
                Terminal.note(String(format: "serving %@ on http://%@:%d (%@, %d slots × %d tokens, loaded in %.2f s)%@",
                                     modelID, host, port, backend, slots, context, load,
                                     key == nil ? "" : ", API key required"))
            })
    }

    /// `gpt-oss-20b` for a hub checkpoint (…/models--openai--gpt-oss-20b/snapshots/HASH), `gpt-oss-tiny`
    /// for the toy model, else the folder's name.
    static func modelID(for location: ModelLocation) -> String {
        switch location.origin {
        case .tiny: return "gpt-oss-tiny"
        case .huggingFaceCache(let repo): return String(repo.split(separator: "/").last ?? Substring(repo))
        case .flag, .environment:
            for part in location.directory.pathComponents.reversed() where part.hasPrefix("models--") {
                return part.components(separatedBy: "--").last ?? part
            }
            return location.directory.lastPathComponent
        }
    }
}
