// Writing to stdout/stderr without buffering surprises (streamed text is flushed per token), TTY
// detection, the closing stats block, and the batch progress bar.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum Terminal {
    static let stderrIsTTY = isatty(STDERR_FILENO) == 1
    static let stdinIsTTY = isatty(STDIN_FILENO) == 1
    static let stdoutIsTTY = isatty(STDOUT_FILENO) == 1

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
    static func err(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
    /// A notice on stderr ("note: ...").
    static func note(_ text: String) { err("note: \(text)\n") }

    /// Dim text on a terminal (the reasoning stream), plain otherwise.
    static func dim(_ text: String, enabled: Bool) -> String { enabled ? "\u{1B}[2m\(text)\u{1B}[0m" : text }

    static func seconds(_ s: Double) -> String { String(format: "%.3f s", s) }
    static func rate(_ r: Double?) -> String { r.map { String(format: "%.1f tok/s", $0) } ?? "n/a" }

    /// "prompt tokens 12 · generated 40 · load 0.81 s · first token 0.02 s · decode 120.3 tok/s"
    static func statsLine(promptTokens: Int, generatedTokens: Int, loadSeconds: Double?,
                          timeToFirstToken: Double?, decodeRate: Double?, extra: [String] = []) -> String {
        var parts = ["prompt tokens \(promptTokens)", "generated tokens \(generatedTokens)"]
        if let loadSeconds { parts.append("load \(seconds(loadSeconds))") }
        parts.append("time to first token \(timeToFirstToken.map(seconds) ?? "n/a")")
        parts.append("decode \(rate(decodeRate))")
        return (parts + extra).joined(separator: " · ")
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "--:--" }  // Int() of a huge value traps
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                         : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

/// The batch progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise.
struct ProgressBar {
    let total: Int
    let start: Double
    private var lastDecile = -1

    init(total: Int, start: Double) { self.total = total; self.start = start }

    mutating func update(done: Int, generatedTokens: Int, now: Double) {
        guard total > 0 else { return }
        let elapsed = max(now - start, 1e-9)
        let rate = Double(generatedTokens) / elapsed
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : .infinity
        let text = "\(done)/\(total)  \(String(format: "%.1f", rate)) tok/s  ETA \(Terminal.clock(eta))"
        if Terminal.stderrIsTTY {
            let width = 30
            let filled = width * done / total
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            Terminal.err("\r\u{1B}[2K[\(bar)] \(text)")
            if done == total { Terminal.err("\n") }
        } else {
            let decile = done * 10 / total
            if decile != lastDecile { lastDecile = decile; Terminal.err("progress: \(text)\n") }
        }
    }
}
