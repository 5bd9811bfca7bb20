// Typed errors for everything Core loads: config.json, safetensors containers, checkpoint
// directories and the tensor set a model needs. Every case names the file (and tensor or field)
// and its description ends with a hint, so the CLI can print it as is.

/// A config.json that cannot be used: missing, unreadable, malformed, or with impossible values.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Path of the config file.
    public var file: String
    /// The JSON field at fault (e.g. "hidden_size", "rope_scaling.factor"); empty when the whole file is.
    public var field: String
    public var reason: String

    public init(file: String, field: String, reason: String) {
        self.file = file; self.field = field; self.reason = reason
    }
    public var description: String {
        field.isEmpty ? "\(file): \(reason)" : "\(file): field '\(field)': \(reason)"
    }
}

/// A problem with a checkpoint file or one of its tensors.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A file the checkpoint needs is not there (config, index, shard).
    case fileMissing(file: String, hint: String)
    /// The OS refused to open or map a file.
    case io(file: String, reason: String)
    /// The safetensors header is unusable (length past EOF, bad JSON, bad entry).
    case badHeader(file: String, reason: String)
    /// One tensor's header entry is inconsistent (offsets, size, unknown dtype).
    case badTensor(file: String, tensor: String, reason: String)
    /// The model needs a tensor that no file provides.
    case tensorMissing(tensor: String, location: String)
    /// A tensor exists but with the wrong shape for the config.
    case wrongShape(file: String, tensor: String, expected: [Int], actual: [Int])
    /// A tensor exists but with the wrong dtype.
    case wrongDType(file: String, tensor: String, expected: String, actual: String)
    /// The index (model.safetensors.index.json) is malformed or inconsistent with the shards.
    case badIndex(file: String, reason: String)
    /// The checkpoint uses a feature this engine does not load.
    case unsupported(file: String, reason: String)

    public var description: String {
        switch self {
        case let .fileMissing(file, hint):
            return "\(file): file not found. \(hint)"
        case let .io(file, reason):
            return "\(file): \(reason)"
        case let .badHeader(file, reason):
            return "\(file): invalid safetensors header: \(reason). The file may be truncated or not a safetensors file; re-download it."
        case let .badTensor(file, tensor, reason):
            return "\(file): tensor '\(tensor)': \(reason). The file may be corrupt; re-download it."
        case let .tensorMissing(tensor, location):
            return "\(location): tensor '\(tensor)' not found. Is this a gpt-oss checkpoint (HF layout), complete and matching config.json?"
        case let .wrongShape(file, tensor, expected, actual):
            return "\(file): tensor '\(tensor)' has shape \(actual), expected \(expected) from config.json. The config and weights do not belong together."
        case let .wrongDType(file, tensor, expected, actual):
            return "\(file): tensor '\(tensor)' has dtype \(actual), expected \(expected)."
        case let .badIndex(file, reason):
            return "\(file): invalid index: \(reason)"
        case let .unsupported(file, reason):
            return "\(file): \(reason)"
        }
    }
}
