// DynamicLibrary: dlopen/dlsym with the list of places tried, so a missing libcuda or libnvrtc is
// reported with where we looked and how to fix it.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class DynamicLibrary {
    let handle: UnsafeMutableRawPointer
    let path: String

    private init(handle: UnsafeMutableRawPointer, path: String) {
        self.handle = handle; self.path = path
    }

    /// Opens the first of `candidates` that loads (bare names go through the loader's search path).
    static func open(_ candidates: [String], library: String, hint: String) throws -> DynamicLibrary {
        var tried: [String] = []
        for c in candidates where !tried.contains(c) {
            tried.append(c)
            if c.hasPrefix("/") && !FileManager.default.fileExists(atPath: c) { continue }
            if let h = dlopen(c, RTLD_NOW | RTLD_GLOBAL) { return DynamicLibrary(handle: h, path: c) }
        }
        throw CUDAError.libraryNotFound(library: library, tried: tried, hint: hint)
    }

    /// The first of `names` the library exports (newer versioned names first, e.g. cuMemAlloc_v2).
    func symbol<T>(_ names: String..., as type: T.Type) throws -> T {
        for n in names {
            if let p = dlsym(handle, n) { return unsafeBitCast(p, to: type) }
        }
        throw CUDAError.symbolMissing(library: path, symbol: names.joined(separator: " / "))
    }
}
