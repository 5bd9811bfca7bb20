// Safetensors container parsing (spec §2.1): 8-byte LE header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}} (+ optional __metadata__), then raw data.
// Every entry is validated against the file (offsets inside the data, no overlaps, byte size equal
// to shape × dtype size, known dtype) with errors naming the file and the tensor.
import Foundation

public enum DType: String, Sendable, Equatable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8e4m3 = "F8_E4M3", f8e5m2 = "F8_E5M2"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64"

    public var byteSize: Int {
        switch self {
        case .bool, .u8, .i8, .f8e4m3, .f8e5m2: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64: return 8
        }
    }
}

/// One tensor's header entry. `byteRange` is absolute within the file.
public struct TensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var byteRange: Range<Int>
    public var elementCount: Int { shape.reduce(1, *) }
    public init(name: String, dtype: DType, shape: [Int], byteRange: Range<Int>) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.byteRange = byteRange
    }
}

public final class SafetensorsFile: @unchecked Sendable {
    public let file: MappedFile
    public var path: String { file.path }
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// `__metadata__` (string → string), if any.
    public let metadata: [String: String]
    /// Offset of the data section (8 + N).
    public let dataStart: Int

    public convenience init(path: String) throws {
        try self.init(file: try MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let path = file.path
        guard file.size >= 8 else {
            throw CheckpointError.badHeader(file: path, reason: "file is \(file.size) bytes, shorter than the 8-byte header length")
        }
        let lenBytes = file.bytes(0..<8)
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(lenBytes[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(file.size - 8) else {
            throw CheckpointError.badHeader(file: path, reason: "header length \(n) runs past the end of the file (\(file.size) bytes)")
        }
        let headerLen = Int(n)
        dataStart = 8 + headerLen
        let headerData = Data(file.bytes(8..<dataStart))
        let root: JSONValue
        do { root = try JSONValue.parse(headerData) } catch {
            throw CheckpointError.badHeader(file: path, reason: "header is not valid JSON")
        }
        guard let dict = root.objectValue else {
            throw CheckpointError.badHeader(file: path, reason: "header is not a JSON object")
        }
        let dataSize = file.size - dataStart
        var tensors: [String: TensorInfo] = [:]
        var meta: [String: String] = [:]
        for (name, entry) in dict {
            if name == "__metadata__" {
                for (k, v) in entry.objectValue ?? [:] { if let s = v.stringValue { meta[k] = s } }
                continue
            }
            func bad(_ reason: String) -> CheckpointError { .badTensor(file: path, tensor: name, reason: reason) }
            guard let e = entry.objectValue else { throw bad("header entry is not an object") }
            guard let ds = e["dtype"]?.stringValue else { throw bad("missing dtype") }
            guard let dtype = DType(rawValue: ds) else { throw bad("unknown dtype '\(ds)'") }
            guard let shapeArr = e["shape"]?.arrayValue else { throw bad("missing shape") }
            var shape: [Int] = []
            for d in shapeArr {
                guard let v = d.intValue, v >= 0 else { throw bad("shape entry \(d.brief) is not a non-negative integer") }
                shape.append(v)
            }
            guard let offs = e["data_offsets"]?.arrayValue, offs.count == 2,
                  let begin = offs[0].intValue, let end = offs[1].intValue else {
                throw bad("data_offsets must be two integers")
            }
            guard begin >= 0, begin <= end else { throw bad("data_offsets [\(begin), \(end)] are reversed or negative") }
            guard end <= dataSize else {
                throw bad("data_offsets [\(begin), \(end)] run past the end of the file (data section is \(dataSize) bytes)")
            }
            var count = dtype.byteSize
            for d in shape {
                let (m, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw bad("shape \(shape) overflows") }
                count = m
            }
            guard end - begin == count else {
                throw bad("holds \(end - begin) bytes but shape \(shape) × \(dtype.rawValue) needs \(count)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape,
                                       byteRange: (dataStart + begin)..<(dataStart + end))
        }
        // Overlap check: sort by start, each must begin at or after the previous end.
        let sorted = tensors.values.filter { !$0.byteRange.isEmpty }.sorted { $0.byteRange.lowerBound < $1.byteRange.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where b.byteRange.lowerBound < a.byteRange.upperBound {
            throw CheckpointError.badTensor(file: path, tensor: b.name,
                                            reason: "data_offsets overlap those of '\(a.name)'")
        }
        self.tensors = tensors
        self.metadata = meta
    }

    /// The raw bytes of a tensor (a view into the mapping).
    public func bytes(of info: TensorInfo) -> UnsafeRawBufferPointer { file.bytes(info.byteRange) }
}

/// Writes a safetensors file tensor by tensor (used by `gptoss synth` and tests): the header is
/// computed up front from (name, dtype, shape), then each tensor's bytes are streamed in order.
public struct SafetensorsWriterPlan {
    public struct Entry { public var name: String; public var dtype: DType; public var shape: [Int]
        public var byteCount: Int { shape.reduce(dtype.byteSize, *) } }
    public var entries: [Entry] = []
    public init() {}
    public mutating func add(_ name: String, _ dtype: DType, _ shape: [Int]) {
        entries.append(Entry(name: name, dtype: dtype, shape: shape))
    }
    public var dataBytes: Int { entries.reduce(0) { $0 + $1.byteCount } }

    /// 8-byte length + JSON header padded with spaces to a multiple of 8.
    public func header(metadata: [String: String] = ["format": "pt"]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let m = metadata.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
            parts.append("\"__metadata__\":{\(m)}")
        }
        var offset = 0
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append("\"\(e.name)\":{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + e.byteCount)]}")
            offset += e.byteCount
        }
        var json = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out: [UInt8] = []
        var n = UInt64(json.count)
        for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
        return out + json
    }
}
