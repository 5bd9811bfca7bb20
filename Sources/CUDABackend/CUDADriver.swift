// CUDADriver: the CUDA driver API (libcuda.so.1) loaded with dlopen, one typed function pointer per
// call we use (`_v2` names where the driver has them), and `check` that turns a CUresult into a
// CUDAError naming the call and the result (cuGetErrorName / cuGetErrorString).
import Foundation

public typealias CUdeviceptr = UInt64
typealias CUresult = Int32
typealias Handle = OpaquePointer?

final class CUDADriver {
    typealias FInit = @convention(c) (UInt32) -> CUresult
    typealias FIntOut = @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult
    typealias FDeviceGet = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> CUresult
    typealias FDeviceGetName = @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32) -> CUresult
    typealias FDeviceGetAttribute = @convention(c) (UnsafeMutablePointer<Int32>?, Int32, Int32) -> CUresult
    typealias FDeviceTotalMem = @convention(c) (UnsafeMutablePointer<Int>?, Int32) -> CUresult
    typealias FPrimaryCtxRetain = @convention(c) (UnsafeMutablePointer<Handle>?, Int32) -> CUresult
    typealias FDeviceInt = @convention(c) (Int32) -> CUresult
    typealias FHandle = @convention(c) (Handle) -> CUresult
    typealias FVoid = @convention(c) () -> CUresult
    typealias FMemGetInfo = @convention(c) (UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int>?) -> CUresult
    typealias FMemAlloc = @convention(c) (UnsafeMutablePointer<CUdeviceptr>?, Int) -> CUresult
    typealias FMemFree = @convention(c) (CUdeviceptr) -> CUresult
    typealias FMemAllocHost = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int) -> CUresult
    typealias FMemFreeHost = @convention(c) (UnsafeMutableRawPointer?) -> CUresult
    typealias FMemcpyHtoD = @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int) -> CUresult
    typealias FMemcpyDtoH = @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int) -> CUresult
    typealias FMemcpyHtoDAsync = @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int, Handle) -> CUresult
    typealias FMemcpyDtoHAsync = @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int, Handle) -> CUresult
    typealias FMemcpyDtoDAsync = @convention(c) (CUdeviceptr, CUdeviceptr, Int, Handle) -> CUresult
    typealias FMemsetD8Async = @convention(c) (CUdeviceptr, UInt8, Int, Handle) -> CUresult
    typealias FMemsetD32Async = @convention(c) (CUdeviceptr, UInt32, Int, Handle) -> CUresult
    typealias FModuleLoadData = @convention(c) (UnsafeMutablePointer<Handle>?, UnsafeRawPointer?) -> CUresult
    typealias FModuleGetFunction = @convention(c) (UnsafeMutablePointer<Handle>?, Handle, UnsafePointer<CChar>?) -> CUresult
    typealias FFuncSetAttribute = @convention(c) (Handle, Int32, Int32) -> CUresult
    typealias FLaunchKernel = @convention(c) (Handle, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, Handle,
                                              UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                              UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult
    /// cuLaunchKernelEx(const CUlaunchConfig *, CUfunction, void **params, void **extra); the config is
    /// built as raw bytes by CUDADevice (56-byte CUlaunchConfig, 72-byte CUlaunchAttribute).
    typealias FLaunchKernelEx = @convention(c) (UnsafeRawPointer?, Handle, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                                UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult
    typealias FStreamCreate = @convention(c) (UnsafeMutablePointer<Handle>?, UInt32) -> CUresult
    typealias FStreamBeginCapture = @convention(c) (Handle, Int32) -> CUresult
    typealias FStreamEndCapture = @convention(c) (Handle, UnsafeMutablePointer<Handle>?) -> CUresult
    typealias FGraphInstantiate = @convention(c) (UnsafeMutablePointer<Handle>?, Handle, UInt64) -> CUresult
    typealias FGraphLaunch = @convention(c) (Handle, Handle) -> CUresult
    typealias FEventCreate = @convention(c) (UnsafeMutablePointer<Handle>?, UInt32) -> CUresult
    typealias FEventRecord = @convention(c) (Handle, Handle) -> CUresult
    typealias FEventElapsed = @convention(c) (UnsafeMutablePointer<Float>?, Handle, Handle) -> CUresult
    typealias FGetErrorString = @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CUresult

    let lib: DynamicLibrary
    let cuInit: FInit
    let cuDriverGetVersion: FIntOut
    let cuDeviceGetCount: FIntOut
    let cuDeviceGet: FDeviceGet
    let cuDeviceGetName: FDeviceGetName
    let cuDeviceGetAttribute: FDeviceGetAttribute
    let cuDeviceTotalMem: FDeviceTotalMem
    let cuDevicePrimaryCtxRetain: FPrimaryCtxRetain
    let cuDevicePrimaryCtxRelease: FDeviceInt
    let cuCtxSetCurrent: FHandle
    let cuCtxSynchronize: FVoid
    let cuMemGetInfo: FMemGetInfo
    let cuMemAlloc: FMemAlloc
    let cuMemFree: FMemFree
    let cuMemAllocHost: FMemAllocHost
    let cuMemFreeHost: FMemFreeHost
    let cuMemcpyHtoD: FMemcpyHtoD
    let cuMemcpyDtoH: FMemcpyDtoH
    let cuMemcpyHtoDAsync: FMemcpyHtoDAsync
    let cuMemcpyDtoHAsync: FMemcpyDtoHAsync
    let cuMemcpyDtoDAsync: FMemcpyDtoDAsync
    let cuMemsetD8Async: FMemsetD8Async
    let cuMemsetD32Async: FMemsetD32Async
    let cuModuleLoadData: FModuleLoadData
    let cuModuleUnload: FHandle
    let cuModuleGetFunction: FModuleGetFunction
    let cuFuncSetAttribute: FFuncSetAttribute
    let cuLaunchKernel: FLaunchKernel
    /// nil on drivers before CUDA 11.8 (programmatic dependent launch is then not used).
    let cuLaunchKernelEx: FLaunchKernelEx?
    let cuStreamCreate: FStreamCreate
    let cuStreamDestroy: FHandle
    let cuStreamSynchronize: FHandle
    let cuStreamBeginCapture: FStreamBeginCapture
    let cuStreamEndCapture: FStreamEndCapture
    let cuGraphInstantiate: FGraphInstantiate
    let cuGraphLaunch: FGraphLaunch
    let cuGraphExecDestroy: FHandle
    let cuGraphDestroy: FHandle
    let cuEventCreate: FEventCreate
    let cuEventRecord: FEventRecord
    let cuEventSynchronize: FHandle
    let cuEventElapsedTime: FEventElapsed
    let cuEventDestroy: FHandle
    let cuGetErrorName: FGetErrorString
    let cuGetErrorString: FGetErrorString

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Result<CUDADriver, Error>?

    /// Loads libcuda once per process and calls cuInit(0).
    static func shared() throws -> CUDADriver {
        lock.lock(); defer { lock.unlock() }
        if let c = cached { return try c.get() }
        let r = Result { try CUDADriver() }
        cached = r
        return try r.get()
    }

    private init() throws {
        var candidates = ["libcuda.so.1", "libcuda.so"]
        if let p = ProcessInfo.processInfo.environment["GPTOSS_CUDA_DRIVER_PATH"] { candidates.insert(p, at: 0) }
        candidates += ["/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1",
                       "/usr/lib64/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1"]
        lib = try DynamicLibrary.open(candidates, library: "libcuda.so.1 (the NVIDIA driver)",
                                      hint: "Install the NVIDIA driver, or use --device cpu.")
        cuInit = try lib.symbol("cuInit", as: FInit.self)
        cuDriverGetVersion = try lib.symbol("cuDriverGetVersion", as: FIntOut.self)
        cuDeviceGetCount = try lib.symbol("cuDeviceGetCount", as: FIntOut.self)
        cuDeviceGet = try lib.symbol("cuDeviceGet", as: FDeviceGet.self)
        cuDeviceGetName = try lib.symbol("cuDeviceGetName", as: FDeviceGetName.self)
        cuDeviceGetAttribute = try lib.symbol("cuDeviceGetAttribute", as: FDeviceGetAttribute.self)
        cuDeviceTotalMem = try lib.symbol("cuDeviceTotalMem_v2", as: FDeviceTotalMem.self)
        cuDevicePrimaryCtxRetain = try lib.symbol("cuDevicePrimaryCtxRetain", as: FPrimaryCtxRetain.self)
        cuDevicePrimaryCtxRelease = try lib.symbol("cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease", as: FDeviceInt.self)
        cuCtxSetCurrent = try lib.symbol("cuCtxSetCurrent", as: FHandle.self)
        cuCtxSynchronize = try lib.symbol("cuCtxSynchronize", as: FVoid.self)
        cuMemGetInfo = try lib.symbol("cuMemGetInfo_v2", as: FMemGetInfo.self)
        cuMemAlloc = try lib.symbol("cuMemAlloc_v2", as: FMemAlloc.self)
        cuMemFree = try lib.symbol("cuMemFree_v2", as: FMemFree.self)
        cuMemAllocHost = try lib.symbol("cuMemAllocHost_v2", as: FMemAllocHost.self)
        cuMemFreeHost = try lib.symbol("cuMemFreeHost", as: FMemFreeHost.self)
        cuMemcpyHtoD = try lib.symbol("cuMemcpyHtoD_v2", as: FMemcpyHtoD.self)
        cuMemcpyDtoH = try lib.symbol("cuMemcpyDtoH_v2", as: FMemcpyDtoH.self)
        cuMemcpyHtoDAsync = try lib.symbol("cuMemcpyHtoDAsync_v2", as: FMemcpyHtoDAsync.self)
        cuMemcpyDtoHAsync = try lib.symbol("cuMemcpyDtoHAsync_v2", as: FMemcpyDtoHAsync.self)
        cuMemcpyDtoDAsync = try lib.symbol("cuMemcpyDtoDAsync_v2", as: FMemcpyDtoDAsync.self)
        cuMemsetD8Async = try lib.symbol("cuMemsetD8Async", as: FMemsetD8Async.self)
        cuMemsetD32Async = try lib.symbol("cuMemsetD32Async", as: FMemsetD32Async.self)
        cuModuleLoadData = try lib.symbol("cuModuleLoadData", as: FModuleLoadData.self)
        cuModuleUnload = try lib.symbol("cuModuleUnload", as: FHandle.self)
        cuModuleGetFunction = try lib.symbol("cuModuleGetFunction", as: FModuleGetFunction.self)
        cuFuncSetAttribute = try lib.symbol("cuFuncSetAttribute", as: FFuncSetAttribute.self)
        cuLaunchKernel = try lib.symbol("cuLaunchKernel", as: FLaunchKernel.self)
        cuLaunchKernelEx = try? lib.symbol("cuLaunchKernelEx", as: FLaunchKernelEx.self)
        cuStreamCreate = try lib.symbol("cuStreamCreate", as: FStreamCreate.self)
        cuStreamDestroy = try lib.symbol("cuStreamDestroy_v2", "cuStreamDestroy", as: FHandle.self)
        cuStreamSynchronize = try lib.symbol("cuStreamSynchronize", as: FHandle.self)
        cuStreamBeginCapture = try lib.symbol("cuStreamBeginCapture_v2", as: FStreamBeginCapture.self)
        cuStreamEndCapture = try lib.symbol("cuStreamEndCapture", as: FStreamEndCapture.self)
        cuGraphInstantiate = try lib.symbol("cuGraphInstantiateWithFlags", as: FGraphInstantiate.self)
        cuGraphLaunch = try lib.symbol("cuGraphLaunch", as: FGraphLaunch.self)
        cuGraphExecDestroy = try lib.symbol("cuGraphExecDestroy", as: FHandle.self)
        cuGraphDestroy = try lib.symbol("cuGraphDestroy", as: FHandle.self)
        cuEventCreate = try lib.symbol("cuEventCreate", as: FEventCreate.self)
        cuEventRecord = try lib.symbol("cuEventRecord", as: FEventRecord.self)
        cuEventSynchronize = try lib.symbol("cuEventSynchronize", as: FHandle.self)
        cuEventElapsedTime = try lib.symbol("cuEventElapsedTime_v2", "cuEventElapsedTime", as: FEventElapsed.self)
        cuEventDestroy = try lib.symbol("cuEventDestroy_v2", "cuEventDestroy", as: FHandle.self)
        cuGetErrorName = try lib.symbol("cuGetErrorName", as: FGetErrorString.self)
        cuGetErrorString = try lib.symbol("cuGetErrorString", as: FGetErrorString.self)
        try check(cuInit(0), "cuInit")
    }

    /// Throws CUDAError.driver naming `call` and the result's name unless `result` is CUDA_SUCCESS.
    @inline(__always)
    func check(_ result: CUresult, _ call: @autoclosure () -> String) throws {
        if result != 0 { throw error(result, call()) }
    }

    func error(_ result: CUresult, _ call: String) -> CUDAError {
        var namePtr: UnsafePointer<CChar>?
        var msgPtr: UnsafePointer<CChar>?
        _ = cuGetErrorName(result, &namePtr)
        _ = cuGetErrorString(result, &msgPtr)
        let name = namePtr.map { String(cString: $0) } ?? "CUDA_ERROR_\(result)"
        let msg = msgPtr.map { String(cString: $0) } ?? "unknown error"
        return .driver(call: call, code: result, name: name, message: msg)
    }
}
