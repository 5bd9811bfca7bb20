// The CLI's one error type: a message for the terminal. ArgumentParser prints `Error: <description>`
// to stderr and exits 1, with no stack trace.

/// An error whose message is printed as is (no stack trace) with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
    init(description: String) { self.description = description }
}

/// The name the model-loading and input-reading code uses for the same error.
typealias RuntimeError = CLIError
