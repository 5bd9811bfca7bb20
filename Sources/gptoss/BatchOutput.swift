// The `gptoss batch` results file: JSONL lines appended as requests finish (an interrupted run keeps
// them), the earlier successes kept for --resume, and a final rewrite in input order.
import Foundation
import Harmony

/// The JSONL output: lines appended as results finish; `finishSorted` rewrites it in index order.
final class ResultFile {
    let url: URL
    /// Indices with a successful result in the file (skipped by --resume).
    private(set) var done: Set<Int> = []
    private var lines: [Int: String] = [:]
    private let handle: FileHandle

    init(path: String, resume: Bool) throws {
        url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        if resume, let data = fm.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                // A line cut short by an interruption fails to parse and is simply run again.
                guard let value = try? JSONParser.parse(String(line)), let index = value["index"]?.numberValue?.intValue,
                      value["error"] == nil else { continue }
                lines[index] = String(line)
                done.insert(index)
            }
        }
        let kept = lines.sorted { $0.key < $1.key }.map { $0.value + "\n" }.joined()
        guard fm.createFile(atPath: path, contents: Data(kept.utf8)), let h = FileHandle(forWritingAtPath: path) else {
            throw RuntimeError(description: "cannot write the output file \(path)")
        }
        handle = h
        handle.seekToEndOfFile()
    }

    func append(index: Int, _ record: JSON) throws {
        let line = record.compactJSON()
        lines[index] = line
        handle.write(Data((line + "\n").utf8))
    }

    /// Rewrites the file with every line in index order (atomically).
    func finishSorted() throws {
        handle.closeFile()
        let text = lines.sorted { $0.key < $1.key }.map { $0.value + "\n" }.joined()
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}
