// Reading `gptoss batch` input: the seed project's format (first line the count N, then one prompt per
// line) or JSONL with one request per line, {"prompt": ...} or a chat-completions body {"messages": ...},
// each with optional max_tokens, temperature, top_p, seed (and reasoning_effort). A bad line becomes a
// `.bad` entry with its line number; only an unreadable, empty or unrecognisable file is fatal.
import Foundation
import Harmony

struct BatchItem {
    var index: Int
    /// 1-based line in the input file.
    var line: Int
    var chat: ChatRequest
    var maxTokens: Int?
    var temperature: Float?
    var topP: Float?
    var seed: UInt64?
}

enum BatchEntry {
    case item(BatchItem)
    case bad(index: Int, line: Int, message: String)

    var index: Int {
        switch self { case .item(let i): return i.index; case .bad(let i, _, _): return i }
    }
}

enum BatchInput {
    enum Format: String { case seed = "count + one prompt per line", jsonl = "JSONL" }

    static func read(path: String, effort: Effort) throws -> (Format, [BatchEntry]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RuntimeError(description: "cannot read the input file \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied or not a regular file" : "no such file")")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuntimeError(description: "the input file \(path) is not valid UTF-8 text")
        }
        return try parse(text, path: path, effort: effort)
    }

    static func parse(_ text: String, path: String, effort: Effort) throws -> (Format, [BatchEntry]) {
        var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw RuntimeError(description: "the input file \(path) is empty")
        }
        let head = lines[first].trimmingCharacters(in: .whitespaces)
        if let count = Int(head) {
            return (.seed, try seedFormat(lines, countLine: first, count: count, path: path, effort: effort))
        }
        if head.hasPrefix("{") { return (.jsonl, jsonl(lines, effort: effort)) }
        throw RuntimeError(description: "\(path) line \(first + 1): expected a prompt count (the seed format: N, then one prompt per line) or a JSON object per line (JSONL)")
    }

    private static func seedFormat(_ lines: [String], countLine: Int, count: Int, path: String,
                                   effort: Effort) throws -> [BatchEntry] {
        guard count > 0 else { throw RuntimeError(description: "\(path) line \(countLine + 1): the prompt count must be positive, got \(count)") }
        let prompts = Array(lines[(countLine + 1)...].prefix(count))
        guard prompts.count == count else {
            throw RuntimeError(description: "\(path) declares \(count) prompts on line \(countLine + 1) but has \(prompts.count) lines after it")
        }
        return prompts.enumerated().map { i, p in
            let line = countLine + 2 + i
            if p.trimmingCharacters(in: .whitespaces).isEmpty {
                return .bad(index: i, line: line, message: "empty prompt")
            }
            return .item(BatchItem(index: i, line: line, chat: Prompt.userRequest(p, effort: effort)))
        }
    }

    private static func jsonl(_ lines: [String], effort: Effort) -> [BatchEntry] {
        var entries: [BatchEntry] = []
        for (n, raw) in lines.enumerated() where !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            let index = entries.count
            do {
                entries.append(.item(try jsonLine(raw, index: index, line: n + 1, effort: effort)))
            } catch {
                entries.append(.bad(index: index, line: n + 1, message: String(describing: error)))
            }
        }
        return entries
    }

    private struct LineError: Error, CustomStringConvertible { let description: String }

    private static func jsonLine(_ raw: String, index: Int, line: Int, effort: Effort) throws -> BatchItem {
        let value: JSON
        do { value = try JSONParser.parse(raw) } catch { throw LineError(description: String(describing: error)) }
        guard let object = value.objectValue else {
            throw LineError(description: "expected a JSON object, got \(value.typeName)")
        }
        var chat: ChatRequest
        if object["messages"] != nil {
            do { chat = try ChatRequest.parse(value) } catch { throw LineError(description: String(describing: error)) }
            if object["reasoning_effort"] == nil { chat.reasoningEffort = effort.harmony }
        } else if let prompt = object["prompt"] {
            guard let text = prompt.stringValue else {
                throw LineError(description: "\"prompt\" must be a string, got \(prompt.typeName)")
            }
            if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw LineError(description: "empty prompt") }
            chat = Prompt.userRequest(text, effort: effort)
            if let e = object["reasoning_effort"] {
                guard let s = e.stringValue, let parsed = Effort(rawValue: s) else {
                    throw LineError(description: "\"reasoning_effort\" must be \"low\", \"medium\" or \"high\"")
                }
                chat.reasoningEffort = parsed.harmony
            }
        } else {
            throw LineError(description: "a request needs \"prompt\" (text) or \"messages\" (a chat-completions body)")
        }
        var item = BatchItem(index: index, line: line, chat: chat)
        item.maxTokens = try int(object, "max_completion_tokens") ?? int(object, "max_tokens")
        item.temperature = try number(object, "temperature").map(Float.init)
        item.topP = try number(object, "top_p").map(Float.init)
        item.seed = try int(object, "seed").map { UInt64(bitPattern: Int64($0)) }
        if let m = item.maxTokens, m < 0 { throw LineError(description: "max_tokens must be 0 or more, got \(m)") }
        if let t = item.temperature, !(t >= 0 && t <= 2) { throw LineError(description: "temperature must be between 0 and 2, got \(t)") }
        if let p = item.topP, !(p > 0 && p <= 1) { throw LineError(description: "top_p must be in (0, 1], got \(p)") }
        return item
    }

    private static func number(_ o: JSONObject, _ key: String) throws -> Double? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let n = v.numberValue else { throw LineError(description: "\"\(key)\" must be a number, got \(v.typeName)") }
        return n.doubleValue
    }

    private static func int(_ o: JSONObject, _ key: String) throws -> Int? {
        guard let v = o[key], !v.isNull else { return nil }
        guard let n = v.numberValue, let i = n.intValue else {
            throw LineError(description: "\"\(key)\" must be an integer, got \(v.numberValue.map { $0.text } ?? v.typeName)")
        }
        return i
    }
}
