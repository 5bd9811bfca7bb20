// `gptoss cuda-check`: GPU correctness on the tiny fixture models (logits vs the Hugging Face fp32
// references, greedy tokens alone and batched) for machines without XCTest, e.g. the GPU host.
import ArgumentParser
import CPUBackend
import CUDABackend
import Core
import Foundation

struct CUDACheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cuda-check",
        abstract: "Check the CUDA backend against the tiny fixture models' reference outputs.")

    @Argument(help: "Fixture model directories (each with config.json, safetensors and reference/).")
    var models: [String] = []

    @Option(help: "Largest allowed |Δlogit| against the fp32 reference.")
    var tolerance: Float = 1e-3

    @Option(name: .customLong("vs-cpu"), help: "Also compare GPU and CPU logits on this checkpoint (e.g. a synthetic full-size model) over a random prompt.")
    var vsCPU: String?

    @Option(name: .customLong("vs-cpu-tokens"), help: "Prompt length for --vs-cpu.")
    var vsCPUTokens: Int = 8

    @Option(name: .customLong("vs-cpu-steps"), help: "Greedy steps for --vs-cpu.")
    var vsCPUSteps: Int = 3

    @Option(name: .customLong("tensor-core-rows"), help: "Run steps of at least this many rows on the bf16 tensor-core path (0: exact f32 kernels only). Checked against --bf16-tolerance.")
    var tensorCoreRows: Int = 0

    @Option(name: .customLong("bf16-tolerance"), help: "With --tensor-core-rows: largest allowed |Δlogit| as a fraction of max|logit| (greedy tokens must still be identical).")
    var bf16Tolerance: Float = 2e-2

    @Option(name: .customLong("tensor-core-selftest"), help: "Compare every tensor-core kernel with its f32 counterpart on random inputs at gpt-oss-20b shapes for these token counts (e.g. 160,2048).")
    var selfTest: String?

    func run() throws {
        var failed = false
        if let spec = selfTest {
            let dev = try CUDADevice()
            print("kernel                              max|Δ|/max|ref|   f32 ms    tc ms   tc TFLOP/s")
            for t in spec.split(separator: ",").compactMap({ Int($0) }) {
                for r in try TensorCoreSelfTest.run(device: dev, tokens: t) {
                    let ok = r.relErr <= bf16Tolerance
                    failed = failed || !ok
                    print(String(format: "%-35@ %12.2e %9.3f %8.3f %10.1f  %@", r.name, r.relErr, r.f32Ms, r.tcMs, r.tflops, ok ? "ok" : "FAIL"))
                }
            }
        }
        if let dir = vsCPU {
            do {
                let weights = try ModelWeights.load(directory: URL(fileURLWithPath: dir))
                var opts = CUDABackendOptions()
                opts.maxSlots = 1; opts.maxContext = vsCPUTokens + vsCPUSteps + 1; opts.verbose = false
                opts.tensorCoreMinRows = tensorCoreRows
                opts.maxTokensPerStep = max(512, vsCPUTokens)
                let gpu = try CUDABackend(weights: weights, options: opts)
                let cpu = CPUBackend(weights: weights, maxSlots: 1, maxContext: vsCPUTokens + vsCPUSteps + 1)
                let t0 = Date()
                let r = try FixtureCheck.compareRandom(gpu, cpu, promptTokens: vsCPUTokens, steps: vsCPUSteps)
                let rel = r.maxAbs / max(r.maxRef, 1e-30)
                let ok = rel <= (tensorCoreRows > 0 ? bf16Tolerance : 1e-4) && r.tokensA == r.tokensB
                failed = failed || !ok
                print(String(format: "%@ GPU%@ vs CPUBackend, %d-token random prompt + %d steps: max|Δlogit| %.3e, max|logit| %.3f, ratio %.2e, tokens %@  %@ (%.1f s)",
                             (dir as NSString).lastPathComponent, tensorCoreRows > 0 ? " (bf16 tensor cores)" : "", vsCPUTokens, vsCPUSteps, r.maxAbs, r.maxRef, rel,
                             r.tokensA == r.tokensB ? "identical" : "DIFFER \(r.tokensA) vs \(r.tokensB)", ok ? "ok" : "FAIL",
                             Date().timeIntervalSince(t0)))
            } catch {
                FileHandle.standardError.write(Data("error: \(dir): \(error)\n".utf8))
                failed = true
            }
        }
        if !models.isEmpty {
            print("model   case       prefill max|Δ|  greedy max|Δ|  max|ref|  tokens(alone)  tokens(batched)")
        }
        for m in models {
            do {
                let weights = try ModelWeights.load(directory: URL(fileURLWithPath: m))
                var opts = CUDABackendOptions()
                opts.maxSlots = 4; opts.maxContext = 256; opts.maxTokensPerStep = 64; opts.verbose = false
                opts.tensorCoreMinRows = tensorCoreRows
                let backend = try CUDABackend(weights: weights, options: opts)
                for r in try FixtureCheck.run(backend: backend, modelDir: URL(fileURLWithPath: m)) {
                    let tol = tensorCoreRows > 0 ? bf16Tolerance * r.maxAbsReference : tolerance
                    let ok = r.prefillMaxAbs <= tol && r.greedyMaxAbs <= tol && r.tokensMatch
                    failed = failed || !ok
                    print(String(format: "%-7@ %-10@ %14.3e %14.3e %9.3f  %@  %@  %@", r.model, r.name, r.prefillMaxAbs,
                                 r.greedyMaxAbs, r.maxAbsReference, r.tokens == r.expectedTokens ? "identical    " : "DIFFER       ",
                                 r.batchedTokens == r.expectedTokens ? "identical      " : "DIFFER         ", ok ? "ok" : "FAIL"))
                    if r.tokens != r.expectedTokens || r.batchedTokens != r.expectedTokens {
                        print("  expected \(r.expectedTokens)\n  alone    \(r.tokens)\n  batched  \(r.batchedTokens)")
                    }
                }
                let cpu = CPUBackend(weights: weights, maxSlots: 4, maxContext: 256)
                let cmp = try FixtureCheck.compare(backend, cpu, modelDir: URL(fileURLWithPath: m))
                let ok = cmp.maxAbs <= (tensorCoreRows > 0 ? bf16Tolerance * cmp.maxRef : tolerance) && cmp.tokensIdentical
                failed = failed || !ok
                print(String(format: "%@ GPU vs CPUBackend: max|Δlogit| %.3e, greedy tokens %@  %@", (m as NSString).lastPathComponent,
                             cmp.maxAbs, cmp.tokensIdentical ? "identical" : "DIFFER", ok ? "ok" : "FAIL"))
            } catch {
                FileHandle.standardError.write(Data("error: \(m): \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
