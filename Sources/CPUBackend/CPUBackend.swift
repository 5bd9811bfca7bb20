// CPUBackend: the forward pass of gpt-oss (spec §3) on the CPU, conforming to Core.Backend. fp32
// activations; weights read in place from the memory map and decoded in registers by the CPUKernels
// C kernels (bf16 widened, MXFP4 looked up through a scaled 16-entry table; AVX-512 or AVX2 chosen
// at run time). `useReferenceKernels` runs the simple reference kernels instead (per-row dot
// products, MXFP4 rows decoded into a scratch row), which the tests compare against. All tokens of a step
// (every sequence of the batch) go through the linear layers and experts together; attention runs
// per sequence over its KV slot. Every (token, output) value is computed the same way whatever the
// batch holds, so a batch gives exactly the results of single runs.
import Core
import CPUKernels
import Foundation

public final class CPUBackend: Backend {
    public let config: ModelConfig
    public let weights: ModelWeights
    public let maxSlots: Int
    public let maxContext: Int
    public var name: String {
        "cpu, \(parallel.threads) threads, " + (useReferenceKernels ? "reference kernels" : ["portable C", "AVX2", "AVX-512", "AVX-512 VNNI"][Int(gk_level())])
    }
    /// Runs the simple reference kernels instead of CPUKernels (tests; much slower).
    public let useReferenceKernels: Bool
    /// Sliding-window layers keep every position (not a ring), so `keepPrefix` can cut anywhere; costs
    /// maxContext × nKV·d × 8 bytes per sliding layer and slot (prefix reuse, e.g. `gptoss chat`).
    public let fullSlidingCache: Bool

    let parallel: Parallel
    let rope: RotaryEmbedding
    var slots: [KVCache?]
    var slotInUse: [Bool]
    var scratch: Scratch
    let profile = PhaseProfile()
    /// byte → two FP4 values (unscaled).
    let fp4Pairs: UnsafeMutablePointer<SIMD2<Float>>

    /// - Parameters:
    ///   - weights: the loaded model (kept alive by the backend).
    ///   - maxSlots: sequences that can hold a KV cache at once.
    ///   - maxContext: positions per slot (full-attention layers allocate maxContext × nKV·d f32 for K and V).
    ///   - threads: worker count (default: active processor count).
    ///   - useReferenceKernels: run the reference kernels (for tests).
    ///   - fullSlidingCache: sliding layers keep every position (see the property).
    public init(weights: ModelWeights, maxSlots: Int = 4, maxContext: Int = 4096, threads: Int? = nil,
                useReferenceKernels: Bool = false, fullSlidingCache: Bool = false) {
        _ = gk_level()   // cpuid detection and tables, before any worker thread runs a kernel
        self.useReferenceKernels = useReferenceKernels
        self.fullSlidingCache = fullSlidingCache
        self.weights = weights
        config = weights.config
        self.maxSlots = max(1, maxSlots)
        self.maxContext = max(1, min(maxContext, weights.config.maxPositionEmbeddings))
        parallel = Parallel(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        rope = RotaryEmbedding(config: weights.config)
        slots = Array(repeating: nil, count: self.maxSlots)
        slotInUse = Array(repeating: false, count: self.maxSlots)
        scratch = Scratch(config: weights.config, tokens: 16, workers: parallel.maxChunks)
        fp4Pairs = .allocate(capacity: 256)
        for (i, p) in Kernels.fp4Pairs.enumerated() { fp4Pairs[i] = p }
    }

    /// Loads `directory` and builds a backend over it.
    public convenience init(modelDirectory: URL, maxSlots: Int = 4, maxContext: Int = 4096, threads: Int? = nil,
                            useReferenceKernels: Bool = false, fullSlidingCache: Bool = false) throws {
        self.init(weights: try ModelWeights.load(directory: modelDirectory), maxSlots: maxSlots,
                  maxContext: maxContext, threads: threads, useReferenceKernels: useReferenceKernels,
                  fullSlidingCache: fullSlidingCache)
    }

    deinit { fp4Pairs.deallocate() }

    public func allocateSlot() throws -> Int {
        guard let s = slotInUse.firstIndex(of: false) else { throw BackendError.noFreeSlot(maxSlots: maxSlots) }
        slotInUse[s] = true
        if slots[s] == nil { slots[s] = KVCache(config: config, maxContext: maxContext, fullSliding: fullSlidingCache) }
        slots[s]!.length = 0
        return s
    }

    public func freeSlot(_ slot: Int) {
        guard slot >= 0, slot < maxSlots else { return }
        slotInUse[slot] = false
        slots[slot]?.length = 0
    }

    public func keepPrefix(ofSlot slot: Int, length: Int) -> Int {
        guard slot >= 0, slot < maxSlots, slotInUse[slot], let cache = slots[slot] else { return 0 }
        let kept = min(max(0, length), cache.length)
        // A ring layer (capacity C < maxContext, window W) holds the last C positions; the next query at
        // `kept` reads keys kept − W < u < kept, which later tokens have not overwritten only while
        // cache.length − kept ≤ C − W.
        for l in 0..<config.numHiddenLayers where cache.capacity[l] < maxContext {
            if cache.length - kept > cache.capacity[l] - config.slidingWindow {
                cache.length = 0
                return 0
            }
        }
        cache.length = kept
        return kept
    }

    /// Number of tokens in a slot's cache.
    public func length(ofSlot slot: Int) -> Int { slots[slot]?.length ?? 0 }

    public func step(_ batch: [SequenceStep]) throws -> [SequenceResult] {
        if batch.isEmpty { return [] }
        // Validate everything before touching any cache.
        var seen = Set<Int>()
        for s in batch {
            guard s.slot >= 0, s.slot < maxSlots, slotInUse[s.slot], let cache = slots[s.slot] else {
                throw BackendError.invalidSlot(s.slot)
            }
            guard seen.insert(s.slot).inserted else { throw BackendError.duplicateSlot(s.slot) }
            guard !s.tokens.isEmpty else { throw BackendError.emptyStep(slot: s.slot) }
            guard s.startPosition == cache.length else {
                throw BackendError.positionMismatch(slot: s.slot, expected: cache.length, got: s.startPosition)
            }
            guard s.startPosition + s.tokens.count <= maxContext else {
                throw BackendError.contextOverflow(slot: s.slot, needed: s.startPosition + s.tokens.count, maxContext: maxContext)
            }
            for t in s.tokens where t < 0 || Int(t) >= config.vocabSize {
                throw BackendError.tokenOutOfRange(token: t, vocabSize: config.vocabSize)
            }
        }
        return forward(batch)
    }
}
