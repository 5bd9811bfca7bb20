// `gptoss cuda-check`: GPU correctness on the tiny fixture models (logits vs the Hugging Face fp32
// references, greedy tokens alone and batched) for machines without XCTest, e.g. the GPU host.
import ArgumentParser
import CUDABackend
import Core
import Foundation

struct CUDACheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda-check",
        abstract: "Check the CUDA backend against the tiny fixture models' reference outputs.")

    @Argument(help: "Fixture model directories (each with config.json, safetensors and reference/).")
    var models: [String]

    @Option(help: "Largest allowed |Δlogit| against the fp32 reference.")
    var tolerance: Float = 1e-3

    func run() throws {
        var failed = false
        print("model   case       prefill max|Δ|  greedy max|Δ|  max|ref|  tokens(alone)  tokens(batched)")
        for m in models {
            do {
                let weights = try ModelWeights.load(directory: URL(fileURLWithPath: m))
                var opts = CUDABackendOptions()
                opts.maxSlots = 4; opts.maxContext = 256; opts.maxTokensPerStep = 64; opts.verbose = false
                let backend = try CUDABackend(weights: weights, options: opts)
                for r in try FixtureCheck.run(backend: backend, modelDir: URL(fileURLWithPath: m)) {
                    let ok = r.prefillMaxAbs <= tolerance && r.greedyMaxAbs <= tolerance && r.tokensMatch
                    failed = failed || !ok
                    print(String(format: "%-7@ %-10@ %14.3e %14.3e %9.3f  %@  %@  %@", r.model, r.name, r.prefillMaxAbs,
                                 r.greedyMaxAbs, r.maxAbsReference, r.tokens == r.expectedTokens ? "identical    " : "DIFFER       ",
                                 r.batchedTokens == r.expectedTokens ? "identical      " : "DIFFER         ", ok ? "ok" : "FAIL"))
                    if r.tokens != r.expectedTokens || r.batchedTokens != r.expectedTokens {
                        print("  expected \(r.expectedTokens)\n  alone    \(r.tokens)\n  batched  \(r.batchedTokens)")
                    }
                }
            } catch {
                FileHandle.standardError.write(Data("error: \(m): \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
