// MappedFile: a whole file memory-mapped read-only (MAP_PRIVATE, PROT_READ). Tensor views point
// into it; nothing is copied, and pages are read from disk on first touch. The mapping lives as
// long as the object, so views must keep their MappedFile (via Checkpoint) alive.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// Size of the file in bytes.
    public let size: Int
    /// Start of the mapping (nil for an empty file).
    public let base: UnsafeRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT {
                throw CheckpointError.fileMissing(file: path, hint: "Check the path; every shard listed in the index must be present.")
            }
            throw CheckpointError.io(file: path, reason: "cannot open: \(String(cString: strerror(e)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw CheckpointError.io(file: path, reason: "cannot stat: \(String(cString: strerror(errno)))")
        }
        size = Int(st.st_size)
        if size == 0 { base = nil; return }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw CheckpointError.io(file: path, reason: "cannot mmap \(size) bytes: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Bytes `range` of the file. Precondition: the range lies inside the file (checked by callers).
    public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "range outside \(path)")
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// Ask the kernel to read ahead (sequential access) or drop caching hints; purely advisory.
    public func advise(sequential: Bool) {
        guard let base else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), size, sequential ? MADV_SEQUENTIAL : MADV_RANDOM)
    }
}
