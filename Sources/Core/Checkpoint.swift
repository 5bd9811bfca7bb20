// Checkpoint: a model directory as downloaded — config.json plus either model.safetensors.index.json
// with its shards, a single model.safetensors, or (openai `original/` layout) every *.safetensors in
// the folder. All files are memory-mapped; `tensor(_:)` returns views, never copies.
import Foundation

/// A tensor located in a mapped file: header info plus its bytes (a view into the mapping).
public struct TensorRef: @unchecked Sendable {
    public let file: SafetensorsFile
    public let info: TensorInfo
    public var path: String { file.path }
    public var bytes: UnsafeRawBufferPointer { file.bytes(of: info) }
}

public final class Checkpoint: @unchecked Sendable {
    public enum Layout: String, Sendable { case huggingFace, original }

    public let directory: URL
    public let config: ModelConfig
    public let layout: Layout
    /// The mapped safetensors files, in name order.
    public let files: [SafetensorsFile]
    private let index: [String: (file: Int, info: TensorInfo)]

    public var tensorNames: [String] { index.keys.sorted() }
    /// Sum of all tensor bytes.
    public var totalTensorBytes: Int { index.values.reduce(0) { $0 + $1.info.byteRange.count } }

    /// Opens `directory` (see the file header for the accepted layouts).
    public init(directory: URL) throws {
        self.directory = directory
        let dirPath = directory.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dirPath, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError.fileMissing(file: dirPath, hint: "Pass a model directory (with config.json and *.safetensors).")
        }
        config = try ModelConfig.load(from: directory.appendingPathComponent("config.json"))

        let fm = FileManager.default
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        let single = directory.appendingPathComponent("model.safetensors")
        var files: [SafetensorsFile] = []
        var index: [String: (file: Int, info: TensorInfo)] = [:]

        if fm.fileExists(atPath: indexURL.path) {
            let weightMap = try Checkpoint.readIndex(indexURL)
            let shardNames = Set(weightMap.values).sorted()
            for (i, shard) in shardNames.enumerated() {
                let url = directory.appendingPathComponent(shard)
                guard fm.fileExists(atPath: url.path) else {
                    throw CheckpointError.fileMissing(file: url.path, hint: "It is listed in \(indexURL.lastPathComponent); the download is incomplete.")
                }
                files.append(try SafetensorsFile(path: url.path))
                _ = i
            }
            let fileIndex = Dictionary(uniqueKeysWithValues: shardNames.enumerated().map { ($1, $0) })
            for (name, shard) in weightMap {
                let fi = fileIndex[shard]!
                guard let info = files[fi].tensors[name] else {
                    throw CheckpointError.badIndex(file: indexURL.path, reason: "tensor '\(name)' is mapped to \(shard), which does not contain it")
                }
                index[name] = (fi, info)
            }
        } else {
            var paths: [String]
            if fm.fileExists(atPath: single.path) {
                paths = [single.path]
            } else {
                let names = (try? fm.contentsOfDirectory(atPath: dirPath)) ?? []
                paths = names.filter { $0.hasSuffix(".safetensors") }.sorted().map { directory.appendingPathComponent($0).path }
                if paths.isEmpty {
                    throw CheckpointError.fileMissing(file: single.path, hint: "No model.safetensors.index.json, model.safetensors or *.safetensors in \(dirPath).")
                }
            }
            for p in paths {
                let f = try SafetensorsFile(path: p)
                for (name, info) in f.tensors {
                    if let prev = index[name] {
                        throw CheckpointError.badTensor(file: p, tensor: name, reason: "also present in \(files[prev.file].path)")
                    }
                    index[name] = (files.count, info)
                }
                files.append(f)
            }
        }
        self.files = files
        self.index = index
        layout = index["embedding.weight"] != nil && index["model.embed_tokens.weight"] == nil ? .original : .huggingFace
    }

    private static func readIndex(_ url: URL) throws -> [String: String] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.io(file: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        guard let root = try? JSONValue.parse(data), let obj = root.objectValue else {
            throw CheckpointError.badIndex(file: url.path, reason: "not a JSON object")
        }
        guard let wm = obj["weight_map"]?.objectValue else {
            throw CheckpointError.badIndex(file: url.path, reason: "missing 'weight_map'")
        }
        var out: [String: String] = [:]
        for (k, v) in wm {
            guard let s = v.stringValue, !s.contains("/"), s.hasSuffix(".safetensors") else {
                throw CheckpointError.badIndex(file: url.path, reason: "weight_map entry for '\(k)' is not a .safetensors file name in this directory")
            }
            out[k] = s
        }
        if out.isEmpty { throw CheckpointError.badIndex(file: url.path, reason: "weight_map is empty") }
        return out
    }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The tensor `name`, or `tensorMissing`.
    public func tensor(_ name: String) throws -> TensorRef {
        guard let loc = index[name] else {
            throw CheckpointError.tensorMissing(tensor: name, location: directory.path)
        }
        return TensorRef(file: files[loc.file], info: loc.info)
    }

    /// The tensor `name`, checked for dtype and shape.
    public func tensor(_ name: String, dtype: DType, shape: [Int]) throws -> TensorRef {
        let t = try tensor(name)
        if t.info.dtype != dtype {
            throw CheckpointError.wrongDType(file: t.path, tensor: name, expected: dtype.rawValue, actual: t.info.dtype.rawValue)
        }
        if t.info.shape != shape {
            throw CheckpointError.wrongShape(file: t.path, tensor: name, expected: shape, actual: t.info.shape)
        }
        return t
    }
}
