// CUDABackend+Sampling: temperature / top-k / top-p sampling on the GPU (kernels/sample.cu, f32_sample)
// so only token ids come back. Owns the 32-byte per-sequence parameter record shared with the kernel
// and the launch; the rule itself is Core.Sampler's (Sources/Core/Sampling.swift).
import Core

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

    /// Launches f32_sample over B sequences: logits [*, V] f32, rows [B] i32, params [B] records,
    /// tokens [B] i32 (argmax already there; overwritten where temperature > 0).
    static func launch(_ dev: CUDADevice, logits: CUdeviceptr, rows: CUdeviceptr, V: Int, params: CUdeviceptr,
                       tokens: CUdeviceptr, B: Int) throws {
        try dev.launch("f32_sample", grid: (B, 1, 1), block: blockThreads,
                       [.ptr(logits), .ptr(rows), .int(V), .ptr(params), .ptr(tokens)])
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
                               V: V, params: sampleParams.pointer, tokens: tokensOut.pointer, B: B)
    }
}
