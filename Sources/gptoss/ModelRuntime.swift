// Turning `--model` / `--device` into a running Engine: locate the checkpoint (ModelLocator), make the
// tiny model on first use, load weights, pick the backend (auto → CUDA when it initializes, else CPU
// with a notice), load the tokenizer, start the engine. Shared by generate, chat, batch (and serve).
import Core
import CPUBackend
import CUDABackend
import Engine
import Foundation
import Tokenizer

struct LoadedModel {
    let engine: Engine
    let tokenizer: O200kTokenizer
    let config: ModelConfig
    let location: ModelLocation
    /// Seconds from the start of loading to a ready engine.
    let loadSeconds: Double
    let backendName: String
}

enum ModelRuntime {
    /// Tokens per backend step (decode tokens + prefill chunks); the CUDA backend sizes buffers for it.
    static let maxStepTokens = 512

    /// `slots`: sequences run at once (1 for generate/chat, more for batch). `reusePrefixes` (chat, serve):
    /// the engine keeps a finished sequence's KV and a request sharing its first tokens prefills only the
    /// rest. `fullSlidingCache` (chat): the CPU's sliding-window layers keep every position (≈ 4 KB per
    /// position, sliding layer and slot), so any prefix can be reused; without it a CPU slot is reused only
    /// while the tokens cut off did not wrap its ring (CUDA caches keep every position anyway).
    static func load(_ options: ModelOptions, slots: Int, reusePrefixes: Bool = false,
                     fullSlidingCache: Bool = false) throws -> LoadedModel {
        let start = DispatchTime.now().uptimeNanoseconds
        let env = ProcessInfo.processInfo.environment
        let location = try ModelLocator.locate(flag: options.model, environment: env)
        if location.origin == .tiny { try TinyModel.ensure(at: location.directory) }
        let weights = try ModelWeights.load(directory: location.directory)
        let config = weights.config
        let context = min(options.context, config.maxPositionEmbeddings)
        let backend = try makeBackend(weights: weights, device: options.device, slots: slots,
                                      context: context, threads: options.threads, fullSlidingCache: fullSlidingCache)
        let tokenizer = try O200kTokenizer.harmony()
        let engine = Engine(backend: backend, options: EngineOptions(maxStepTokens: maxStepTokens, reusePrefixes: reusePrefixes))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return LoadedModel(engine: engine, tokenizer: tokenizer, config: config, location: location,
                           loadSeconds: seconds, backendName: backend.name)
    }

    static func makeBackend(weights: ModelWeights, device: Device, slots: Int, context: Int,
                            threads: Int?, fullSlidingCache: Bool = false) throws -> Backend {
        func cpu() -> Backend {
            CPUBackend(weights: weights, maxSlots: slots, maxContext: context, threads: threads,
                       fullSlidingCache: fullSlidingCache)
        }
        switch device {
        case .cpu:
            return cpu()
        case .cuda:
            do {
                return try cudaBackend(weights: weights, slots: slots, context: context)
            } catch {
                throw RuntimeError(description: "--device cuda: \(error)\nhint: --device auto falls back to the CPU when CUDA is unavailable")
            }
        case .auto:
            do {
                return try cudaBackend(weights: weights, slots: slots, context: context)
            } catch {
                var reason = String(describing: error)
                if let cut = reason.range(of: " (tried") ?? reason.range(of: "\n") { reason = String(reason[..<cut.lowerBound]) }
                Terminal.note("CUDA is not available (\(reason)); running on the CPU")
                return cpu()
            }
        }
    }
}

private func cudaBackend(weights: ModelWeights, slots: Int, context: Int) throws -> Backend {
    var options = CUDABackendOptions()
    options.maxSlots = slots
    options.maxContext = context
    options.maxTokensPerStep = ModelRuntime.maxStepTokens
    options.verbose = false
    return try CUDABackend(weights: weights, options: options)
}

/// `--model tiny`: a 3-layer random model with the full o200k_harmony vocabulary (so harmony prompts and
/// special tokens work), generated deterministically (seed 0) by Core's SyntheticCheckpoint on first use.
/// Its text is random; it exists to show and test the whole pipeline without downloading weights.
enum TinyModel {
    static var config: ModelConfig {
        var c = SyntheticCheckpoint.config(.tiny)
        c.vocabSize = 201_088
        return c
    }

    static func ensure(at directory: URL) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: directory.appendingPathComponent("config.json").path) { return }
        // Write beside the target and rename, so concurrent first runs never see half a checkpoint.
        let parent = directory.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(directory.lastPathComponent)-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            Terminal.note("creating the tiny model in \(directory.path) (first use)")
            try SyntheticCheckpoint.write(config: config, to: staging, seed: 0)
            do {
                try fm.moveItem(at: staging, to: directory)
            } catch where fm.fileExists(atPath: directory.appendingPathComponent("config.json").path) {
                try? fm.removeItem(at: staging)  // another process finished first
            }
        } catch {
            try? fm.removeItem(at: staging)
            throw RuntimeError(description: "could not create the tiny model in \(directory.path): \(error)\nhint: set GPTOSS_CACHE to a writable folder")
        }
    }
}
