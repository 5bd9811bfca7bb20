// CUDABackend+Sampling: temperature / top-k / top-p sampling on the GPU (kernels/sample.cu, f32_sample)
// so only token ids come back. Owns the 32-byte per-sequence parameter record shared with the kernel
// and the launch; the rule itself is Core.Sampler's (Sources/Core/Sampling.swift).
import Core
import Foundation

enum GPUSampling {
    /// Bytes per SampleParams record: f32 temperature, f32 top_p, i32 top_k, i32 pad, u64 seed, u64 counter.
    static let paramsStride = 32
    /// Threads per f32_sample block (one block per sequence).
    static let blockThreads = 1024

    /// Writes record `j` at `base` (host memory, `paramsStride`-byte records).
    static func write(_ p: SamplingParams, sampleIndex: UInt64, at base: UnsafeMutableRawPointer, index j: Int) {
        let r = base + j * paramsStride
        r.storeBytes(of: p.isGreedy ? Float(0) : p.temperature, toByteOffset: 0, as: Float.self)
        r.storeBytes(of: p.topP, toByteOffset: 4, as: Float.self)
        r.storeBytes(of: Int32(clamping: max(0, p.topK)), toByteOffset: 8, as: Int32.self)
        r.storeBytes(of: Int32(0), toByteOffset: 12, as: Int32.self)
        r.storeBytes(of: p.seed, toByteOffset: 16, as: UInt64.self)
        r.storeBytes(of: sampleIndex, toByteOffset: 24, as: UInt64.self)
    }

    /// Blocks per sequence of the preparation kernels (keys, maxima, fixed-point weights).
    static let prepBlocks = 64
    /// GPTOSS_SAMPLE_PREP=0 makes f32_sample compute keys and weights itself in every pass (one block
    /// per sequence, slower; kept as the reference the self-test compares against too).
    static let usePrep = ProcessInfo.processInfo.environment["GPTOSS_SAMPLE_PREP"] != "0"

    /// Device scratch of the preparation kernels for up to `sequences` rows of V logits.
    struct Scratch {
        let keys: DeviceBuffer   // [S, V] u32: order-preserving keys of z = logit / T
        let qs: DeviceBuffer     // [S, V] u64: fixed-point weights q
        let part: DeviceBuffer   // [S, prepBlocks] f32: per-block maxima of z
        let zmax: DeviceBuffer   // [S] f32
        static func bytes(sequences S: Int, vocab V: Int) -> Int { 12 * S * V + 4 * S * (prepBlocks + 1) }
        init(device dev: CUDADevice, sequences S: Int, vocab V: Int) throws {
            keys = try dev.alloc(4 * S * V, what: "sampling keys")
            qs = try dev.alloc(8 * S * V, what: "sampling weights")
            part = try dev.alloc(4 * S * prepBlocks, what: "sampling maxima")
            zmax = try dev.alloc(4 * S, what: "sampling zmax")
        }
    }

    /// Launches the sampler over B sequences: logits [*, V] f32, rows [B] i32, params [B] records,
    /// tokens [B] i32 (argmax already there; overwritten where temperature > 0). With scratch (sized for
    /// ≥ B sequences), two many-block kernels first precompute keys and weights.
    static func launch(_ dev: CUDADevice, logits: CUdeviceptr, rows: CUdeviceptr, V: Int, params: CUdeviceptr,
                       tokens: CUdeviceptr, B: Int, scratch: Scratch?) throws {
        if let sc = scratch {
            try dev.launch("f32_sample_prep1", grid: (prepBlocks, B, 1), block: 256,
                           [.ptr(logits), .ptr(rows), .int(V), .ptr(params), .ptr(sc.keys.pointer), .ptr(sc.part.pointer)])
            try dev.launch("f32_sample_prep2", grid: (prepBlocks, B, 1), block: 256,
                           [.int(V), .ptr(params), .ptr(sc.keys.pointer), .ptr(sc.part.pointer), .ptr(sc.zmax.pointer), .ptr(sc.qs.pointer)])
        }
        try dev.launch("f32_sample", grid: (B, 1, 1), block: blockThreads,
                       [.ptr(logits), .ptr(rows), .int(V), .ptr(params), .ptr(tokens),
                        .ptr(scratch?.keys.pointer ?? 0), .ptr(scratch?.qs.pointer ?? 0), .ptr(scratch?.zmax.pointer ?? 0)])
    }
}

extension CUDABackend {
    /// Uploads one parameter record per sampled sequence (greedy ones get temperature 0 and are left
    /// alone by the kernel) and launches f32_sample after the forward on the same stream.
    func encodeSampling(_ seqs: [(params: SamplingParams, sampleIndex: UInt64)]) throws {
        let B = seqs.count
        guard B > 0 else { return }
        for (j, s) in seqs.enumerated() { GPUSampling.write(s.params, sampleIndex: s.sampleIndex, at: sampleParamsHost, index: j) }
        try device.copyToDevice(sampleParams.pointer, UnsafeRawPointer(sampleParamsHost), GPUSampling.paramsStride * B)
        try GPUSampling.launch(device, logits: logits.pointer, rows: meta.pointer + CUdeviceptr(4 * (3 * tMax + lrMax)),
                               V: V, params: sampleParams.pointer, tokens: tokensOut.pointer, B: B,
                               scratch: GPUSampling.usePrep ? sampleScratch : nil)
    }
}
