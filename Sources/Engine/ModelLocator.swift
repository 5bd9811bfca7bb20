// Finding the checkpoint to run: `--model DIR` (or `--model tiny`), else $GPTOSS_MODEL, else the
// Hugging Face hub cache (openai/gpt-oss-20b first, then -120b; under $HF_HUB_CACHE, $HF_HOME/hub,
// $XDG_CACHE_HOME/huggingface/hub and ~/.cache/huggingface/hub; the snapshot refs/main points at, else
// the newest). Pure filesystem logic with the environment passed in, so tests need no real cache.
import Foundation

/// The checkpoint folder chosen to run, and what chose it.
public struct ModelLocation: Equatable, Sendable {
    public enum Origin: Equatable, Sendable {
        case flag                         // --model DIR
        case environment                  // $GPTOSS_MODEL
        case huggingFaceCache(repo: String)
        case tiny                         // --model tiny: the bundled toy model
    }
    /// The checkpoint directory (config.json + safetensors). For `.tiny`, where it lives or will be made.
    public var directory: URL
    public var origin: Origin
    public init(directory: URL, origin: Origin) { self.directory = directory; self.origin = origin }
}

public enum ModelLocatorError: Error, Equatable, CustomStringConvertible {
    case notFound(searched: [String])
    case missingDirectory(path: String, source: String)
    case notACheckpoint(path: String, source: String)

    public var description: String {
        switch self {
        case let .notFound(searched):
            return """
            no gpt-oss model found. Looked at --model, $GPTOSS_MODEL and the Hugging Face cache:
            \(searched.map { "  " + $0 }.joined(separator: "\n"))
            Download the weights (about 13 GB; the hf command comes with pip install -U huggingface_hub) with
              hf download openai/gpt-oss-20b --exclude "*/*"
            or point at a checkpoint with --model DIR (or GPTOSS_MODEL=DIR).
            To see the whole pipeline work without weights, run with --model tiny (a small random model).
            """
        case let .missingDirectory(path, source):
            return "model directory \(path) (from \(source)) does not exist; pass a folder holding config.json and *.safetensors, or --model tiny"
        case let .notACheckpoint(path, source):
            return "\(path) (from \(source)) has no config.json: expected a Hugging Face gpt-oss checkpoint folder (config.json + *.safetensors)"
        }
    }
}

/// Resolves `--model` / `$GPTOSS_MODEL` / the Hugging Face cache to a checkpoint folder (file header).
public enum ModelLocator {
    /// Hub repos tried in order when nothing names a model.
    public static let hubRepos = ["openai/gpt-oss-20b", "openai/gpt-oss-120b"]
    /// The name `--model` accepts for the bundled toy model.
    public static let tinyName = "tiny"

    /// Resolves the model to run. `flag` is `--model`'s value; `environment` is usually
    /// `ProcessInfo.processInfo.environment`; `home` the user's home directory.
    public static func locate(flag: String?, environment: [String: String],
                              home: URL = FileManager.default.homeDirectoryForCurrentUser) throws -> ModelLocation {
        if let flag, !flag.isEmpty {
            if flag == tinyName { return ModelLocation(directory: tinyDirectory(environment: environment, home: home), origin: .tiny) }
            return ModelLocation(directory: try checkpoint(at: flag, source: "--model"), origin: .flag)
        }
        if let env = environment["GPTOSS_MODEL"], !env.isEmpty {
            if env == tinyName { return ModelLocation(directory: tinyDirectory(environment: environment, home: home), origin: .tiny) }
            return ModelLocation(directory: try checkpoint(at: env, source: "$GPTOSS_MODEL"), origin: .environment)
        }
        var searched: [String] = []
        for repo in hubRepos {
            for root in hubCacheRoots(environment: environment, home: home) {
                let repoDir = root.appendingPathComponent("models--" + repo.replacingOccurrences(of: "/", with: "--"))
                searched.append(repoDir.path)
                if let snapshot = newestSnapshot(in: repoDir) {
                    return ModelLocation(directory: snapshot, origin: .huggingFaceCache(repo: repo))
                }
            }
        }
        throw ModelLocatorError.notFound(searched: searched)
    }

    /// Hub cache folders in the order the Hugging Face libraries consult them (duplicates removed).
    public static func hubCacheRoots(environment: [String: String], home: URL) -> [URL] {
        var roots: [URL] = []
        if let v = environment["HF_HUB_CACHE"], !v.isEmpty { roots.append(URL(fileURLWithPath: v)) }
        if let v = environment["HUGGINGFACE_HUB_CACHE"], !v.isEmpty { roots.append(URL(fileURLWithPath: v)) }
        if let v = environment["HF_HOME"], !v.isEmpty { roots.append(URL(fileURLWithPath: v).appendingPathComponent("hub")) }
        if let v = environment["XDG_CACHE_HOME"], !v.isEmpty {
            roots.append(URL(fileURLWithPath: v).appendingPathComponent("huggingface/hub"))
        }
        roots.append(home.appendingPathComponent(".cache/huggingface/hub"))
        var seen = Set<String>()
        return roots.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }

    /// Where `--model tiny` is generated (versioned so a changed recipe regenerates): $GPTOSS_CACHE/tiny-v1,
    /// else $XDG_CACHE_HOME/gptoss/tiny-v1, else ~/.cache/gptoss/tiny-v1.
    public static func tinyDirectory(environment: [String: String], home: URL) -> URL {
        if let v = environment["GPTOSS_CACHE"], !v.isEmpty { return URL(fileURLWithPath: v).appendingPathComponent("tiny-v1") }
        if let v = environment["XDG_CACHE_HOME"], !v.isEmpty {
            return URL(fileURLWithPath: v).appendingPathComponent("gptoss/tiny-v1")
        }
        return home.appendingPathComponent(".cache/gptoss/tiny-v1")
    }

    /// A user-named folder: a checkpoint itself, or a hub cache repo folder (models--org--name).
    static func checkpoint(at path: String, source: String) throws -> URL {
        let expanded = (path as NSString).expandingTildeInPath
        let url = URL(fileURLWithPath: expanded).standardizedFileURL
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue else {
            throw ModelLocatorError.missingDirectory(path: path, source: source)
        }
        if hasConfig(url) { return url }
        if let snapshot = newestSnapshot(in: url) { return snapshot }
        throw ModelLocatorError.notACheckpoint(path: path, source: source)
    }

    /// In a hub repo folder: the snapshot refs/main names if it holds a config.json, else the most
    /// recently modified snapshot that does.
    static func newestSnapshot(in repoDir: URL) -> URL? {
        let snapshots = repoDir.appendingPathComponent("snapshots")
        let fm = FileManager.default
        if let ref = try? String(contentsOf: repoDir.appendingPathComponent("refs/main"), encoding: .utf8) {
            let dir = snapshots.appendingPathComponent(ref.trimmingCharacters(in: .whitespacesAndNewlines))
            if hasConfig(dir) { return dir }
        }
        guard let names = try? fm.contentsOfDirectory(atPath: snapshots.path) else { return nil }
        let candidates = names.map { snapshots.appendingPathComponent($0) }.filter(hasConfig)
        func modified(_ u: URL) -> Date {
            ((try? fm.attributesOfItem(atPath: u.path))?[.modificationDate] as? Date) ?? .distantPast
        }
        return candidates.max { (modified($0), $0.lastPathComponent) < (modified($1), $1.lastPathComponent) }
    }

    static func hasConfig(_ dir: URL) -> Bool {
        FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path)
    }
}
