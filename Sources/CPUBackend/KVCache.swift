// Per-slot KV cache of the CPU backend: post-RoPE K and V in f32 for every layer. Full-attention
// layers keep every position; sliding layers keep a ring of `sliding_window + chunk` positions
// (position u lives at u mod capacity): a query at t only reads keys t − window < u ≤ t (spec §3.7),
// and the extra `chunk` rows let a whole chunk of new tokens enter the ring before any of them
// attends (one parallel pass per chunk instead of one per token). With `fullSliding` (prefix reuse)
// sliding layers keep every position too, so the cache can be cut back anywhere (CPUBackend.keepPrefix).

final class KVCache {
    /// Positions each layer can hold: maxContext (full) or min(window, maxContext) (sliding).
    let capacity: [Int]
    let kvDim: Int
    /// Per layer: [capacity[l], kvDim] f32.
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    /// Tokens cached so far (= next position).
    var length = 0

    /// New tokens that may be written to a sliding layer's ring before they attend.
    static let chunk = 256

    init(config: ModelConfig, maxContext: Int, fullSliding: Bool = false) {
        kvDim = config.kvDim
        capacity = (0..<config.numHiddenLayers).map {
            config.isSliding(layer: $0) && !fullSliding ? min(config.slidingWindow + Self.chunk, maxContext) : maxContext
        }
        keys = capacity.map { UnsafeMutablePointer<Float>.allocate(capacity: $0 * config.kvDim) }
        values = capacity.map { UnsafeMutablePointer<Float>.allocate(capacity: $0 * config.kvDim) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    /// Row index of absolute position `pos` in layer `layer`.
    @inline(__always) func index(layer: Int, position pos: Int) -> Int { pos % capacity[layer] }
    @inline(__always) func key(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        keys[layer] + index(layer: layer, position: position) * kvDim
    }
    @inline(__always) func value(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        values[layer] + index(layer: layer, position: position) * kvDim
    }
}

import Core
