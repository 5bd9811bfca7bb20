// `gptoss logits`: runs the model over given token ids through Backend.step (the generation code
// path) and writes little-endian f32 logits [1 or T, vocab] for comparison with references.
import ArgumentParser
import Core
import CPUBackend
import Foundation

struct Logits: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the logits of a token sequence (raw little-endian f32, [1 or T, vocab]).")

    @Option(help: "Model directory (config.json + safetensors).")
    var model: String

    @Option(help: "Comma-separated token ids, e.g. 1,2,3.")
    var tokens: String

    @Flag(help: "Write logits for every position ([T, vocab]) instead of the last only ([1, vocab]).")
    var allPositions = false

    @Option(help: "Backend: cpu.")
    var device: String = "cpu"

    @Option(help: "CPU worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Output file.")
    var output: String

    func validate() throws {
        guard device == "cpu" else { throw ValidationError("unknown device '\(device)'; available: cpu") }
        if let threads, !(1...ModelOptions.maxThreads).contains(threads) {
            throw ValidationError("--threads must be between 1 and \(ModelOptions.maxThreads), got \(threads)")
        }
        _ = try parseTokens()
    }

    /// The ids of --tokens (the same parser as generate --prompt-tokens); a usage error when malformed.
    func parseTokens() throws -> [Int32] {
        do { return try Prompt.parseTokenList(tokens, option: "--tokens") } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        let ids = try parseTokens()
        do {
            let backend = try CPUBackend(modelDirectory: URL(fileURLWithPath: model), maxSlots: 1,
                                         maxContext: ids.count, threads: threads)
            let slot = try backend.allocateSlot()
            let result = try backend.step([SequenceStep(slot: slot, tokens: ids, startPosition: 0,
                                                        logits: allPositions ? .all : .last)])[0]
            let rows = allPositions ? ids.count : 1
            let V = backend.config.vocabSize
            precondition(result.logits.count == rows * V)
            let data = result.logits.withUnsafeBufferPointer { buf -> Data in
                var d = Data(capacity: buf.count * 4)
                for x in buf { withUnsafeBytes(of: x.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
                return d
            }
            try data.write(to: URL(fileURLWithPath: output))
            print("logits [\(rows), \(V)] f32 written to \(output) (next token \(result.token))")
        } catch {
            throw CLIError("\(error)")
        }
    }
}
