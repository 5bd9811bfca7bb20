// Host memory read bandwidth, the denominator of the CPU decode floor (weight bytes per token / bandwidth).
import CPUKernels
import Foundation

extension CPUBackend {
    /// Best of `repeats` passes reading a freshly written `bytes` buffer with `threads` threads, in bytes/s.
    public static func measureReadBandwidth(threads: Int, bytes: Int = 1 << 30, repeats: Int = 5) -> Double {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        defer { buffer.deallocate() }
        memset(buffer, 0x5A, bytes)
        return gk_read_bandwidth(buffer, bytes, Int32(threads), Int32(repeats))
    }
}
