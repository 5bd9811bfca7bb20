// `gptoss synth`: writes a random-weight checkpoint in the exact gpt-oss release format (see
// Core.SyntheticCheckpoint) so anyone can benchmark without downloading the real weights.
import ArgumentParser
import Core
import Foundation

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic gpt-oss checkpoint (random weights, real format and shapes).")

    @Option(help: "Model shape: tiny, small, 20b or 120b.")
    var preset: String

    @Option(help: "Directory to write (created if missing).")
    var output: String

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    func validate() throws {
        guard SyntheticCheckpoint.Preset(rawValue: preset) != nil else {
            throw ValidationError("unknown preset '\(preset)'; choose one of: \(SyntheticCheckpoint.Preset.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let config = SyntheticCheckpoint.config(SyntheticCheckpoint.Preset(rawValue: preset)!)
        let dir = URL(fileURLWithPath: output)
        let start = Date()
        var lastReport = Date.distantPast
        do {
            let total = try SyntheticCheckpoint.write(config: config, to: dir, seed: seed) { done, total in
                let now = Date()
                if now.timeIntervalSince(lastReport) >= 2 || done == total {
                    lastReport = now
                    FileHandle.standardError.write(Data(String(format: "\rsynth: %.2f / %.2f GB", Double(done) / 1e9, Double(total) / 1e9).utf8))
                }
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print("wrote \(preset) checkpoint to \(dir.path): \(total) tensor bytes in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        } catch {
            throw CLIError("\(error)")
        }
    }
}
