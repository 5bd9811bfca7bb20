// Running the server until SIGTERM/SIGINT: one ServiceGroup holding the HTTP application and an engine
// hook. Graceful shutdown goes in reverse order: the server stops accepting and waits for in-flight
// requests, then the engine is shut down. If requests are still running after `shutdownGrace`
// seconds, the group is cancelled: their handlers are cancelled, which cancels their engine requests.
import Hummingbird
import Logging
import ServiceLifecycle

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
            services: [.init(service: ShutdownHook(action: onShutdown)), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        config.maximumGracefulShutdownDuration = .milliseconds(Int64(shutdownGrace * 1000))
        let group = ServiceGroup(configuration: config)
        do {
            try await group.run()
        } catch let error as ServiceGroupError {
            // The grace period ran out and in-flight requests were cancelled: still a clean exit.
            logger.notice("shutdown: \(error)")
        }
        onShutdown()
    }
}
