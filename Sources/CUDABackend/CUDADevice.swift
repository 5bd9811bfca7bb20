// CUDADevice: one GPU's primary context and stream, device memory (tracked, with a peak), pinned host
// memory, events, kernel modules compiled on first use (cubin cache), typed kernel launches, and
// stream capture into CUDA graphs. Every driver call is checked.
import Foundation

/// A kernel argument; each is passed by address to cuLaunchKernel.
enum KernelArg {
    case ptr(CUdeviceptr)
    case i32(Int32)
    case f32(Float)
    static func int(_ v: Int) -> KernelArg { .i32(Int32(v)) }
}

/// A device allocation; freed when the last reference goes.
public final class DeviceBuffer {
    let device: CUDADevice
    public let pointer: CUdeviceptr
    public let byteCount: Int
    init(device: CUDADevice, pointer: CUdeviceptr, byteCount: Int) {
        self.device = device; self.pointer = pointer; self.byteCount = byteCount
    }
    deinit { device.release(self) }
    /// Address `bytes` into the buffer.
    func at(_ bytes: Int) -> CUdeviceptr { pointer + CUdeviceptr(bytes) }
}

public final class CUDADevice {
    let driver: CUDADriver
    public let ordinal: Int32
    public let name: String
    public let computeCapability: (major: Int, minor: Int)
    public let multiprocessors: Int
    /// The most dynamic shared memory one block may opt in to (bytes; 227 KB on sm_90, 163 KB on sm_80).
    public let maxSharedPerBlockOptin: Int
    public let totalMemory: Int
    public var arch: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }
    private var context: OpaquePointer?
    private(set) var stream: OpaquePointer?
    private var modules: [String: OpaquePointer?] = [:]
    private var functions: [String: OpaquePointer?] = [:]
    /// The dynamic shared memory each function has been opted in to (bytes above 48 KB).
    private var sharedOptin: [String: Int] = [:]
    /// Bytes we have allocated now, and the most at any time.
    public private(set) var allocatedBytes = 0
    public private(set) var peakAllocatedBytes = 0
    /// Seconds spent compiling or loading kernels (first use).
    public private(set) var kernelLoadSeconds = 0.0

    /// Per-kernel time when profiling (GPTOSS_PROFILE=1): every launch is timed with events and
    /// synchronized, so graphs are off and totals are slower than real runs; use for proportions.
    public let profiling = ProcessInfo.processInfo.environment["GPTOSS_PROFILE"] == "1"
    public private(set) var profile: [String: (count: Int, ms: Double)] = [:]
    public func resetProfile() { profile = [:] }
    /// The profile as table rows, largest total first.
    public func profileReport() -> String {
        let total = profile.values.reduce(0) { $0 + $1.ms }
        return profile.sorted { $0.value.ms > $1.value.ms }.map { k, v in
            String(format: "%-36@ %7d calls %10.3f ms %6.1f %% %9.2f us/call", k as NSString, v.count, v.ms, 100 * v.ms / max(total, 1e-9), 1000 * v.ms / Double(v.count))
        }.joined(separator: "\n")
    }

    /// Minimum compute capability: sm_80 (we compile and test for sm_80 and sm_90).
    public static let minimumComputeCapability = (8, 0)

    public init(ordinal: Int = 0) throws {
        let driver = try CUDADriver.shared()
        self.driver = driver
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard count > 0 else { throw CUDAError.noDevice }
        guard ordinal < count else {
            throw CUDAError.invalidArgument("device \(ordinal) requested but only \(count) GPU(s) are visible")
        }
        var dev: Int32 = 0
        try driver.check(driver.cuDeviceGet(&dev, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        self.ordinal = dev
        var buf = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&buf, 256, dev), "cuDeviceGetName")
        name = String(cString: buf)
        func attr(_ a: Int32, _ what: String) throws -> Int {
            var v: Int32 = 0
            try driver.check(driver.cuDeviceGetAttribute(&v, a, dev), "cuDeviceGetAttribute(\(what))")
            return Int(v)
        }
        computeCapability = (try attr(75, "COMPUTE_CAPABILITY_MAJOR"), try attr(76, "COMPUTE_CAPABILITY_MINOR"))
        multiprocessors = try attr(16, "MULTIPROCESSOR_COUNT")
        maxSharedPerBlockOptin = try attr(97, "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN")
        var total = 0
        try driver.check(driver.cuDeviceTotalMem(&total, dev), "cuDeviceTotalMem_v2")
        totalMemory = total
        let cc = computeCapability
        if (cc.major, cc.minor) < CUDADevice.minimumComputeCapability {
            throw CUDAError.unsupportedArchitecture(device: name, computeCapability: "\(cc.major).\(cc.minor)", minimum: "8.0")
        }
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, dev), "cuDevicePrimaryCtxRetain")
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        try driver.check(driver.cuStreamCreate(&stream, 1 /* CU_STREAM_NON_BLOCKING */), "cuStreamCreate")
        supportsProgrammaticLaunch = cc.major >= 9 && driver.cuLaunchKernelEx != nil
            && ProcessInfo.processInfo.environment["GPTOSS_PDL"] != "0"
    }

    deinit {
        for (_, m) in modules { _ = driver.cuModuleUnload(m) }
        if stream != nil { _ = driver.cuStreamDestroy(stream) }
        _ = driver.cuDevicePrimaryCtxRelease(ordinal)
    }

    /// Makes this device's context current on the calling thread.
    func makeCurrent() throws { try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent") }

    public func memoryInfo() throws -> (free: Int, total: Int) {
        var free = 0, total = 0
        try driver.check(driver.cuMemGetInfo(&free, &total), "cuMemGetInfo_v2")
        return (free, total)
    }

    // MARK: memory

    func alloc(_ bytes: Int, what: String) throws -> DeviceBuffer {
        var p: CUdeviceptr = 0
        let r = driver.cuMemAlloc(&p, max(bytes, 256))
        if r == 2 /* CUDA_ERROR_OUT_OF_MEMORY */ {
            let free = (try? memoryInfo().free) ?? 0
            throw CUDAError.outOfMemory(device: name, neededBytes: bytes, freeBytes: free, what: what)
        }
        try driver.check(r, "cuMemAlloc_v2(\(bytes) bytes for \(what))")
        allocatedBytes += bytes
        peakAllocatedBytes = max(peakAllocatedBytes, allocatedBytes)
        return DeviceBuffer(device: self, pointer: p, byteCount: bytes)
    }

    fileprivate func release(_ b: DeviceBuffer) {
        _ = driver.cuMemFree(b.pointer)
        allocatedBytes -= b.byteCount
    }

    func allocHost(_ bytes: Int) throws -> UnsafeMutableRawPointer {
        var p: UnsafeMutableRawPointer?
        try driver.check(driver.cuMemAllocHost(&p, bytes), "cuMemAllocHost_v2(\(bytes))")
        guard let p else { throw CUDAError.invalidArgument("cuMemAllocHost returned null") }
        return p
    }
    func freeHost(_ p: UnsafeMutableRawPointer) { _ = driver.cuMemFreeHost(p) }

    func copyToDevice(_ dst: CUdeviceptr, _ src: UnsafeRawPointer, _ bytes: Int) throws {
        try driver.check(driver.cuMemcpyHtoDAsync(dst, src, bytes, stream), "cuMemcpyHtoDAsync_v2(\(bytes))")
    }
    func copyToHost(_ dst: UnsafeMutableRawPointer, _ src: CUdeviceptr, _ bytes: Int) throws {
        try driver.check(driver.cuMemcpyDtoHAsync(dst, src, bytes, stream), "cuMemcpyDtoHAsync_v2(\(bytes))")
    }
    func upload<T>(_ array: [T], to dst: CUdeviceptr) throws {
        try array.withUnsafeBytes { try copyToDevice(dst, $0.baseAddress!, $0.count) }
        try synchronize()
    }
    func download<T>(_ src: CUdeviceptr, count: Int, as: T.Type) throws -> [T] {
        var out = [T](unsafeUninitializedCapacity: count) { _, n in n = count }
        try out.withUnsafeMutableBytes { try copyToHost($0.baseAddress!, src, $0.count) }
        try synchronize()
        return out
    }
    func memset32(_ dst: CUdeviceptr, _ value: UInt32, count: Int) throws {
        try driver.check(driver.cuMemsetD32Async(dst, value, count, stream), "cuMemsetD32Async")
    }

    public func synchronize() throws {
        try driver.check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }

    // MARK: kernels

    /// Compiles (or loads cached cubins for) every embedded kernel source for this device.
    func loadKernels() throws {
        let t0 = Date()
        let compiler = try KernelCompiler(arch: arch)
        for src in KernelSources.all where modules[src.name] == nil {
            let out = try compiler.cubin(for: src)
            var m: OpaquePointer?
            try out.cubin.withUnsafeBytes {
                try driver.check(driver.cuModuleLoadData(&m, $0.baseAddress), "cuModuleLoadData(\(src.name) for \(arch))")
            }
            modules[src.name] = m
        }
        kernelLoadSeconds += Date().timeIntervalSince(t0)
    }

    func function(_ name: String) throws -> OpaquePointer? {
        if let f = functions[name] { return f }
        for (src, m) in modules {
            var f: OpaquePointer?
            if driver.cuModuleGetFunction(&f, m, name) == 0 {
                functions[name] = f
                _ = src
                return f
            }
        }
        throw CUDAError.invalidArgument("no kernel named \(name) in the embedded sources")
    }

    /// Whether launches may ask for programmatic dependent launch: sm_90+, cuLaunchKernelEx present, and
    /// not switched off with GPTOSS_PDL=0. On by default since decode v10 (docs/perf-notes.md "Version 10b"):
    /// once the weight loads really precede griddepcontrol.wait, PDL is worth +7 % on the H200 (v10 533–539
    /// tok/s with it, 501 without; v6, whose wait ptxas hoisted above its loads, gained ≈ 2 %).
    /// Read once at init: Foundation rebuilds the whole environment dictionary on every
    /// `ProcessInfo.environment` access (≈ 150 µs on the device host), and this is asked on every launch
    /// (eager decode without graphs ran at 40 tok/s instead of ~300 because of it).
    public let supportsProgrammaticLaunch: Bool

    /// Launches kernel `name` on the stream. The argument list must match the kernel's parameters.
    /// `programmatic`: the kernel may start before the previous one on the stream finishes (it must call
    /// griddepcontrol.wait before reading that kernel's results; see kernels/decode.cu).
    func launch(_ name: String, grid: (Int, Int, Int), block: Int, sharedBytes: Int = 0, programmatic: Bool = false,
                _ args: [KernelArg]) throws {
        let f = try function(name)
        if sharedBytes > 48 * 1024 && (sharedOptin[name] ?? 0) < sharedBytes {
            try driver.check(driver.cuFuncSetAttribute(f, 8 /* MAX_DYNAMIC_SHARED_SIZE_BYTES */, Int32(sharedBytes)),
                             "cuFuncSetAttribute(\(name), \(sharedBytes) B shared)")
            sharedOptin[name] = sharedBytes   // once per function and size, not once per launch
        }
        var storage = [UInt64](repeating: 0, count: args.count)
        for (i, a) in args.enumerated() {
            switch a {
            case .ptr(let p): storage[i] = p
            case .i32(let v): storage[i] = UInt64(UInt32(bitPattern: v))
            case .f32(let v): storage[i] = UInt64(v.bitPattern)
            }
        }
        let pdl = programmatic && supportsProgrammaticLaunch
        if profiling {
            let ms = try time { try rawLaunch(f, name, grid, block, sharedBytes, &storage) }
            let old = profile[name] ?? (0, 0)
            profile[name] = (old.count + 1, old.ms + ms)
            return
        }
        if pdl, let ex = driver.cuLaunchKernelEx {
            try launchProgrammatic(ex, f, name, grid, block, sharedBytes, &storage)
            return
        }
        try rawLaunch(f, name, grid, block, sharedBytes, &storage)
    }

    /// cuLaunchKernelEx with CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION (id 6) = 1.
    /// CUlaunchConfig (56 bytes): grid x/y/z, block x/y/z, sharedMemBytes (u32 each), pad, hStream at 32,
    /// attrs at 40, numAttrs (u32) at 48. CUlaunchAttribute (72 bytes): id (u32), pad, 64-byte value union.
    private func launchProgrammatic(_ ex: CUDADriver.FLaunchKernelEx, _ f: OpaquePointer?, _ name: String,
                                    _ grid: (Int, Int, Int), _ block: Int, _ sharedBytes: Int,
                                    _ storage: inout [UInt64]) throws {
        let attr = UnsafeMutableRawPointer.allocate(byteCount: 72, alignment: 8)
        let cfg = UnsafeMutableRawPointer.allocate(byteCount: 56, alignment: 8)
        defer { attr.deallocate(); cfg.deallocate() }
        attr.initializeMemory(as: UInt8.self, repeating: 0, count: 72)
        cfg.initializeMemory(as: UInt8.self, repeating: 0, count: 56)
        attr.storeBytes(of: UInt32(6), toByteOffset: 0, as: UInt32.self)
        attr.storeBytes(of: Int32(1), toByteOffset: 8, as: Int32.self)
        let dims: [UInt32] = [UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block), 1, 1, UInt32(sharedBytes)]
        for (i, v) in dims.enumerated() { cfg.storeBytes(of: v, toByteOffset: 4 * i, as: UInt32.self) }
        cfg.storeBytes(of: UInt(bitPattern: stream.map { Int(bitPattern: UnsafeRawPointer($0)) } ?? 0), toByteOffset: 32, as: UInt.self)
        cfg.storeBytes(of: UInt(bitPattern: Int(bitPattern: attr)), toByteOffset: 40, as: UInt.self)
        cfg.storeBytes(of: UInt32(1), toByteOffset: 48, as: UInt32.self)
        let n = storage.count
        let r: CUresult = storage.withUnsafeMutableBufferPointer { sb in
            var ptrs = (0..<n).map { UnsafeMutableRawPointer(sb.baseAddress! + $0) as UnsafeMutableRawPointer? }
            return ptrs.withUnsafeMutableBufferPointer { pb in ex(UnsafeRawPointer(cfg), f, pb.baseAddress, nil) }
        }
        try driver.check(r, "cuLaunchKernelEx(\(name), grid \(grid), block \(block), programmatic)")
    }

    private func rawLaunch(_ f: OpaquePointer?, _ name: String, _ grid: (Int, Int, Int), _ block: Int, _ sharedBytes: Int,
                           _ storage: inout [UInt64]) throws {
        let n = storage.count
        let r: CUresult = storage.withUnsafeMutableBufferPointer { sb in
            var ptrs = (0..<n).map { UnsafeMutableRawPointer(sb.baseAddress! + $0) as UnsafeMutableRawPointer? }
            return ptrs.withUnsafeMutableBufferPointer { pb in
                driver.cuLaunchKernel(f, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block), 1, 1,
                                      UInt32(sharedBytes), stream, pb.baseAddress, nil)
            }
        }
        try driver.check(r, "cuLaunchKernel(\(name), grid \(grid), block \(block))")
    }

    // MARK: graphs and events

    /// Records everything `body` launches on the stream into a graph and instantiates it.
    func capture(_ body: () throws -> Void) throws -> CUDAGraph {
        try driver.check(driver.cuStreamBeginCapture(stream, 1 /* THREAD_LOCAL */), "cuStreamBeginCapture_v2")
        var graph: OpaquePointer?
        do { try body() } catch {
            _ = driver.cuStreamEndCapture(stream, &graph)
            if graph != nil { _ = driver.cuGraphDestroy(graph) }
            throw error
        }
        try driver.check(driver.cuStreamEndCapture(stream, &graph), "cuStreamEndCapture")
        var exec: OpaquePointer?
        let r = driver.cuGraphInstantiate(&exec, graph, 0)
        _ = driver.cuGraphDestroy(graph)
        try driver.check(r, "cuGraphInstantiateWithFlags")
        return CUDAGraph(device: self, exec: exec)
    }

    func launchGraph(_ g: CUDAGraph) throws {
        try driver.check(driver.cuGraphLaunch(g.exec, stream), "cuGraphLaunch")
    }

    /// Milliseconds the stream takes to run `body` (events around it; synchronizes).
    public func time(_ body: () throws -> Void) throws -> Double {
        var a: OpaquePointer?, b: OpaquePointer?
        try driver.check(driver.cuEventCreate(&a, 0), "cuEventCreate")
        try driver.check(driver.cuEventCreate(&b, 0), "cuEventCreate")
        defer { _ = driver.cuEventDestroy(a); _ = driver.cuEventDestroy(b) }
        try driver.check(driver.cuEventRecord(a, stream), "cuEventRecord")
        try body()
        try driver.check(driver.cuEventRecord(b, stream), "cuEventRecord")
        try driver.check(driver.cuEventSynchronize(b), "cuEventSynchronize")
        var ms: Float = 0
        try driver.check(driver.cuEventElapsedTime(&ms, a, b), "cuEventElapsedTime")
        return Double(ms)
    }

    /// Device-to-device copy bandwidth (bytes read + written per second) over a `bytes`-sized buffer.
    public func measureCopyBandwidth(bytes: Int = 1 << 30, repeats: Int = 10) throws -> Double {
        let a = try alloc(bytes, what: "bandwidth probe"), b = try alloc(bytes, what: "bandwidth probe")
        try driver.check(driver.cuMemsetD8Async(a.pointer, 1, bytes, stream), "cuMemsetD8Async")
        try driver.check(driver.cuMemcpyDtoDAsync(b.pointer, a.pointer, bytes, stream), "cuMemcpyDtoDAsync_v2")
        var times: [Double] = []
        for _ in 0..<repeats {
            times.append(try time { try driver.check(driver.cuMemcpyDtoDAsync(b.pointer, a.pointer, bytes, stream), "cuMemcpyDtoDAsync_v2") })
        }
        times.sort()
        return 2.0 * Double(bytes) / (times[times.count / 2] / 1000)
    }
}

/// An instantiated CUDA graph (cuGraphExec).
final class CUDAGraph {
    let device: CUDADevice
    let exec: OpaquePointer?
    init(device: CUDADevice, exec: OpaquePointer?) { self.device = device; self.exec = exec }
    deinit { _ = device.driver.cuGraphExecDestroy(exec) }
}
