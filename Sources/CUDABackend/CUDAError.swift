// CUDAError: every failure of the CUDA backend, naming the library, the driver/NVRTC call and its
// result name, or the kernel and NVRTC's log, with a hint where one helps.
import Foundation

public enum CUDAError: Error, CustomStringConvertible, Equatable {
    /// A shared library could not be dlopen'ed from any of `tried`.
    case libraryNotFound(library: String, tried: [String], hint: String)
    /// The library loaded but lacks a symbol we need (too old a driver or NVRTC).
    case symbolMissing(library: String, symbol: String)
    /// A driver API call returned an error.
    case driver(call: String, code: Int32, name: String, message: String)
    /// An NVRTC call returned an error.
    case nvrtc(call: String, code: Int32, message: String)
    /// NVRTC rejected a kernel source (or warned under --check); `log` is its compile log.
    case compile(source: String, arch: String, log: String)
    /// The driver is present but reports no device.
    case noDevice
    /// The device's compute capability is below what our kernels need.
    case unsupportedArchitecture(device: String, computeCapability: String, minimum: String)
    /// The model does not fit in the device's free memory.
    case outOfMemory(device: String, neededBytes: Int, freeBytes: Int, what: String)
    /// A model or step that this backend cannot run (shape limits, bad slot, ...).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .libraryNotFound(library, tried, hint):
            return "cuda: could not load \(library) (tried: \(tried.joined(separator: ", "))). \(hint)"
        case let .symbolMissing(library, symbol):
            return "cuda: \(library) has no symbol \(symbol); the driver or NVRTC is too old (need CUDA 12 or newer)"
        case let .driver(call, code, name, message):
            return "cuda: \(call) failed: \(name) (\(code)): \(message)"
        case let .nvrtc(call, code, message):
            return "nvrtc: \(call) failed (\(code)): \(message)"
        case let .compile(source, arch, log):
            return "nvrtc: compiling \(source) for \(arch) failed:\n\(log)"
        case .noDevice:
            return "cuda: the driver found no GPU (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
        case let .unsupportedArchitecture(device, cc, minimum):
            return "cuda: \(device) has compute capability \(cc); these kernels need \(minimum) or newer"
        case let .outOfMemory(device, needed, free, what):
            let gb = { (b: Int) in String(format: "%.2f GB", Double(b) / 1e9) }
            return "cuda: \(what) needs \(gb(needed)) of device memory but \(device) has \(gb(free)) free"
        case let .invalidArgument(message):
            return "cuda: \(message)"
        }
    }
}
