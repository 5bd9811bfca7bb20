// `gptoss tokenize`: encode a text file (or stdin) with o200k_harmony and print the ids as a JSON array;
// `--bench` times encoding instead (see BENCHMARKS.md).
import ArgumentParser
import Foundation
import Tokenizer

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode text with the o200k_harmony tokenizer and print the token ids as a JSON array.")

    @Option(name: .long, help: "Text file to encode ('-' reads standard input).")
    var file: String

    @Flag(name: .long, help: "Recognize special-token strings such as <|start|> (otherwise they are ordinary text).")
    var allowSpecial = false

    @Option(name: .long, help: "Vocabulary: a .tiktoken file or a Hugging Face tokenizer.json (default: the embedded o200k_base).")
    var vocab: String?

    @Flag(name: .long, help: "Benchmark: encode the file repeatedly and print MB/s instead of ids.")
    var bench = false

    @Option(name: .long, help: "With --bench: seconds to keep encoding (at least one pass).")
    var seconds: Double = 3

    func run() throws {
        do {
            let start = DispatchTime.now().uptimeNanoseconds
            let tokenizer = try vocab.map { try O200kTokenizer(vocabularyFile: $0) } ?? O200kTokenizer.harmony()
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let bytes = try readInput()
            let allowed: AllowedSpecial = allowSpecial ? .all : .none
            if bench {
                try runBenchmark(tokenizer, bytes: bytes, allowed: allowed, loadSeconds: loadSeconds)
                return
            }
            let ids = try tokenizer.encode(utf8: bytes, allowedSpecial: allowed)
            var out = "["
            out.reserveCapacity(ids.count * 7 + 2)
            for (i, id) in ids.enumerated() {
                if i > 0 { out += ", " }
                out += String(id)
            }
            out += "]\n"
            FileHandle.standardOutput.write(Data(out.utf8))
        } catch let error as TokenizerError {
            throw CLIError("tokenize: \(error.description)")
        }
    }

    private func readInput() throws -> [UInt8] {
        if file == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("tokenize: cannot read input file \(file)")
        }
        return [UInt8](data)
    }

    private func runBenchmark(_ tokenizer: O200kTokenizer, bytes: [UInt8], allowed: AllowedSpecial, loadSeconds: Double) throws {
        var passes = 0
        var tokens = 0
        var best = Double.infinity
        let begin = DispatchTime.now().uptimeNanoseconds
        repeat {
            let t0 = DispatchTime.now().uptimeNanoseconds
            tokens = try tokenizer.encode(utf8: bytes, allowedSpecial: allowed).count
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            passes += 1
        } while Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e9 < seconds
        let mb = Double(bytes.count) / 1e6
        print(String(format: "vocabulary load %.3f s; %d bytes -> %d tokens; best of %d passes %.4f s = %.2f MB/s",
                     loadSeconds, bytes.count, tokens, passes, best, mb / best))
    }
}
