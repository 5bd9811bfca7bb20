// Running the server until SIGTERM/SIGINT: one ServiceGroup holding the HTTP application and an engine
// hook. Graceful shutdown goes in reverse order: the server stops accepting and waits for in-flight
// requests, then the engine is shut down. If requests are still running after `shutdownGrace`
// seconds, the group is cancelled: their handlers are cancelled, which cancels their engine requests.
//
// The signal handlers are installed before the group starts (not by ServiceGroup, which installs them
// from a child task): otherwise a SIGTERM right after the server reports it is listening could still
// meet the default action and kill the process with status 143 instead of shutting down with 0.
import Dispatch
import Hummingbird
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Calls `action` once graceful shutdown reaches it (or the group is cancelled).
struct ShutdownHook: Service {
    let action: @Sendable () -> Void
    func run() async throws {
        try? await gracefulShutdown()
        action()
    }
}

extension OpenAIServer {
    /// Serves until a shutdown signal. Returns normally after a graceful (or grace-limited) shutdown.
    public static func run(state: ServerState, apiKey: String?, host: String, port: Int,
                           shutdownGrace: Double, onShutdown: @escaping @Sendable () -> Void,
                           onServerRunning: @escaping @Sendable (Int) async -> Void) async throws {
        var logger = Logger(label: "gptoss.serve")
        logger.logLevel = .warning
        let app = makeApplication(state: state, apiKey: apiKey, host: host, port: port,
                                  onServerRunning: onServerRunning)
        var config = ServiceGroupConfiguration(
            services: [.init(service: ShutdownHook(action: onShutdown)), .init(service: app)], logger: logger)
        config.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownGrace * 1000))
        let group = ServiceGroup(configuration: config)
        let sources = [SIGTERM, SIGINT].map { sig -> any DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { Task { await group.triggerGracefulShutdown() } }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }
        do {
            try await group.run()
        } catch let error as ServiceGroupError {
            // The grace period ran out and in-flight requests were cancelled: still a clean exit.
            logger.notice("shutdown: \(error)")
        }
        onShutdown()
    }
}
