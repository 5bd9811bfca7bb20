// The gptoss modes driven as a subprocess with --model tiny (random weights, so assertions are about
// shapes, counts, finish reasons, determinism and errors, never about the text itself).
import Foundation
import Harmony
import Tokenizer
import XCTest

final class CLITests: XCTestCase {
    private let tiny = ["--model", "tiny", "--device", "cpu"]

    /// The prompt length harmony gives a one-message conversation (what generate must report).
    private func renderedLength(_ prompt: String, effort: ReasoningEffort = .medium) throws -> Int {
        let request = ChatRequest(messages: [.user(parts: [prompt], name: nil)], reasoningEffort: effort)
        return HarmonyRenderer().renderForCompletion(request, encoder: try O200kTokenizer.harmony()).count
    }

    private func tokens(_ object: [String: Any]) -> [Int] { (object["tokens"] as? [Int]) ?? [] }

    // MARK: generate

    func testGenerateStreamsAndPrintsStats() throws {
        let r = try CLI.run(["generate"] + tiny + ["--max-tokens", "8", "--seed", "1", "Hello there"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for field in ["prompt tokens \(try renderedLength("Hello there"))", "generated tokens", "load ",
                      "time to first token", "decode ", "seed 1"] {
            XCTAssertTrue(r.stderr.contains(field), "missing \(field) in: \(r.stderr)")
        }
    }

    func testGenerateJSONReportsTokensUsageAndTimings() throws {
        let r = try CLI.run(["generate"] + tiny + ["--max-tokens", "6", "--temperature", "0", "--json", "Count to three"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try CLI.json(r.stdout)
        let usage = try XCTUnwrap(o["usage"] as? [String: Int])
        XCTAssertEqual(usage["prompt_tokens"], try renderedLength("Count to three"))
        XCTAssertEqual(usage["completion_tokens"], tokens(o).count)
        XCTAssertEqual(usage["total_tokens"], usage["prompt_tokens"]! + usage["completion_tokens"]!)
        let reason = try XCTUnwrap(o["finish_reason"] as? String)
        XCTAssertTrue(reason == "length" ? tokens(o).count == 6 : reason == "stop" && [200002, 200012].contains(tokens(o).last!))
        XCTAssertNotNil(o["text"] as? String)
        XCTAssertNotNil(o["reasoning"] as? String)
        let timings = try XCTUnwrap(o["timings"] as? [String: Any])
        XCTAssertNotNil(timings["load_s"] as? Double)
        XCTAssertNotNil(timings["time_to_first_token_s"] as? Double)
    }

    func testSameSeedGivesSameTokensAndOtherSeedDiffers() throws {
        let args = ["generate"] + tiny + ["--max-tokens", "6", "--temperature", "1", "--json", "Hi"]
        let a = try CLI.json(try CLI.run(args + ["--seed", "7"]).stdout)
        let b = try CLI.json(try CLI.run(args + ["--seed", "7"]).stdout)
        let c = try CLI.json(try CLI.run(args + ["--seed", "8"]).stdout)
        XCTAssertEqual(tokens(a).count, 6)
        XCTAssertEqual(tokens(a), tokens(b))
        XCTAssertNotEqual(tokens(a), tokens(c))
    }

    /// --seed takes any UInt64; --json once trapped converting one above Int.max to Int.
    func testJSONKeepsASeedAboveIntMax() throws {
        let r = try CLI.run(["generate"] + tiny + ["--max-tokens", "1", "--seed", "18446744073709551615", "--json", "Hi"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"seed\":18446744073709551615"), r.stdout)
    }

    func testPromptTokensBypassHarmony() throws {
        let r = try CLI.run(["generate"] + tiny + ["--prompt-tokens", "200006,1844,31064", "--max-tokens", "5",
                                                   "--temperature", "0", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try CLI.json(r.stdout)
        XCTAssertEqual((o["usage"] as? [String: Int])?["prompt_tokens"], 3)
        XCTAssertEqual(tokens(o).count, 5, "raw mode has no stop tokens")
        XCTAssertEqual(o["finish_reason"] as? String, "length")
    }

    // MARK: chat

    func testChatOverPipedStdin() throws {
        let script = "Hello\n/effort low\nAnd again?\n/reset\n/bogus\nThird turn\n/exit\nnever sent\n"
        let r = try CLI.run(["chat"] + tiny + ["--max-tokens", "4", "--seed", "3"], stdin: script)
        XCTAssertEqual(r.status, 0, r.stderr)
        let stats = r.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("prompt tokens") }
        XCTAssertEqual(stats.count, 3, r.stderr)
        XCTAssertTrue(r.stderr.contains("reasoning effort low"), r.stderr)
        XCTAssertTrue(r.stderr.contains("conversation reset"), r.stderr)
        XCTAssertTrue(r.stderr.contains("unknown command /bogus"), r.stderr)
        // The second turn's prompt holds the first turn, so it is longer; /reset makes the third short again.
        let lengths = stats.compactMap { line -> Int? in
            line.split(separator: "·").first.flatMap { Int($0.split(separator: " ").last ?? "") }
        }
        XCTAssertEqual(lengths.count, 3)
        XCTAssertGreaterThan(lengths[1], lengths[0])
        XCTAssertEqual(lengths[2], try renderedLength("Third turn", effort: .low))
    }

    // MARK: batch

    func testBatchSeedFormatWritesResultsInInputOrder() throws {
        let dir = try CLI.temporaryDirectory()
        let input = dir.appendingPathComponent("prompts.txt"), output = dir.appendingPathComponent("out.jsonl")
        try "3\nFirst prompt\nSecond prompt\nThird prompt\n".write(to: input, atomically: true, encoding: .utf8)
        let r = try CLI.run(["getp"] + tiny + ["--input", input.path, "--output", output.path, "--max-tokens", "5",
                                               "--concurrency", "2", "--seed", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try CLI.jsonLines(try String(contentsOf: output, encoding: .utf8))
        XCTAssertEqual(lines.map { $0["index"] as? Int }, [0, 1, 2])
        for line in lines {
            let usage = try XCTUnwrap(line["usage"] as? [String: Int])
            XCTAssertEqual(usage["completion_tokens"], tokens(line).count)
            XCTAssertNotNil(line["finish_reason"] as? String)
            XCTAssertNotNil(line["text"] as? String)
        }
        XCTAssertTrue(r.stderr.contains("batch: 3 requests (3 ok, 0 failed)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("output "), r.stderr)
        XCTAssertTrue(r.stderr.contains("progress: 3/3"), r.stderr)
    }

    func testBatchOfGreedyRequestsEqualsSingleRuns() throws {
        let dir = try CLI.temporaryDirectory()
        let prompts = ["What is 2 + 2?", "Name a colour.", "Say hi", "Tell me a long story about a dragon."]
        let input = dir.appendingPathComponent("in.jsonl"), output = dir.appendingPathComponent("out.jsonl")
        try prompts.map { "{\"prompt\": \"\($0)\", \"temperature\": 0, \"max_tokens\": 7}" }.joined(separator: "\n")
            .write(to: input, atomically: true, encoding: .utf8)
        let r = try CLI.run(["batch"] + tiny + ["--input", input.path, "--output", output.path, "--concurrency", "4"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let batch = try CLI.jsonLines(try String(contentsOf: output, encoding: .utf8))
        XCTAssertEqual(batch.count, prompts.count)
        for (i, p) in prompts.enumerated() {
            let single = try CLI.json(try CLI.run(["generate"] + tiny + ["--temperature", "0", "--max-tokens", "7", "--json", p]).stdout)
            XCTAssertEqual(tokens(batch[i]), tokens(single), "prompt \(i)")
            XCTAssertEqual(tokens(single).count > 0, true)
        }
    }

    func testBatchReportsBadLinesAndRunsTheRest() throws {
        let dir = try CLI.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl"), output = dir.appendingPathComponent("out.jsonl")
        try """
        {"prompt": "ok one", "max_tokens": 3, "seed": 5}
        {"prompt": "broken"
        {"messages": [{"role": "user", "content": "ok two"}], "max_tokens": 3}
        {"prompt": "bad temperature", "temperature": 9}
        {"nothing": 1}
        """.write(to: input, atomically: true, encoding: .utf8)
        let r = try CLI.run(["batch"] + tiny + ["--input", input.path, "--output", output.path])
        r.assertFailure(status: 1, contains: "line 2: invalid JSON")
        XCTAssertTrue(r.stderr.contains("line 4: temperature must be between 0 and 2"), r.stderr)
        XCTAssertTrue(r.stderr.contains("line 5: a request needs \"prompt\""), r.stderr)
        XCTAssertTrue(r.stderr.contains("batch: 5 requests (2 ok, 3 failed)"), r.stderr)
        let lines = try CLI.jsonLines(try String(contentsOf: output, encoding: .utf8))
        XCTAssertEqual(lines.map { $0["index"] as? Int }, [0, 1, 2, 3, 4])
        XCTAssertEqual(lines.map { $0["error"] == nil }, [true, false, true, false, false])
        XCTAssertEqual(lines[1]["line"] as? Int, 2)
        XCTAssertEqual(tokens(lines[0]).count, 3)
    }

    func testBatchResumeSkipsFinishedRequests() throws {
        let dir = try CLI.temporaryDirectory()
        let input = dir.appendingPathComponent("in.txt"), output = dir.appendingPathComponent("out.jsonl")
        try "3\nalpha\nbeta\ngamma\n".write(to: input, atomically: true, encoding: .utf8)
        // An interrupted earlier run: index 1 finished, then a line cut short.
        let kept = #"{"index":1,"text":"kept","reasoning":"","tokens":[1,2],"finish_reason":"stop","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#
        try (kept + "\n{\"index\":2,\"te").write(to: output, atomically: true, encoding: .utf8)
        let r = try CLI.run(["batch"] + tiny + ["--input", input.path, "--output", output.path, "--resume",
                                                "--max-tokens", "3", "--seed", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("1 of 3 requests already in"), r.stderr)
        XCTAssertTrue(r.stderr.contains("batch: 2 requests"), r.stderr)
        let text = try String(contentsOf: output, encoding: .utf8)
        let lines = try CLI.jsonLines(text)
        XCTAssertEqual(lines.map { $0["index"] as? Int }, [0, 1, 2])
        XCTAssertEqual(text.split(separator: "\n")[1], Substring(kept))
    }

    // MARK: errors

    func testInvalidOptionValuesFailClearly() throws {
        try CLI.run(["generate"] + tiny + ["--max-tokens", "-3", "hi"])
            .assertFailure(status: 64, contains: "--max-tokens must be 0 or more, got -3")
        try CLI.run(["generate"] + tiny + ["--temperature", "2.5", "hi"])
            .assertFailure(status: 64, contains: "--temperature must be between 0 and 2, got 2.5")
        try CLI.run(["generate"] + tiny + ["--top-p", "0", "hi"])
            .assertFailure(status: 64, contains: "--top-p must be in (0, 1]")
        try CLI.run(["generate", "--model", "tiny", "--device", "tpu", "hi"])
            .assertFailure(status: 64, contains: "'tpu' is invalid for '--device")
        try CLI.run(["chat", "--reasoning-effort", "extreme"])
            .assertFailure(status: 64, contains: "'extreme' is invalid for '--reasoning-effort")
        try CLI.run(["generate"] + tiny)
            .assertFailure(status: 64, contains: "give a prompt")
        try CLI.run(["generate"] + tiny + ["--prompt-tokens", "1,x,3"])
            .assertFailure(status: 1, contains: "--prompt-tokens: item 2 (\"x\") is not a token id")
        try CLI.run(["generate"] + tiny + ["--prompt-tokens", "999999", "--max-tokens", "1"])
            .assertFailure(status: 1, contains: "outside the vocabulary")
        try CLI.run(["logits", "--model", "tiny", "--tokens", "1,-2", "--output", "/dev/null"])
            .assertFailure(status: 64, contains: "--tokens: item 2 (\"-2\") is not a token id")
        try CLI.run(["generate"] + tiny + ["--threads", "1000000", "hi"])
            .assertFailure(status: 64, contains: "--threads must be between 1 and 1024, got 1000000")
    }

    func testBadPromptFilesFailClearly() throws {
        let dir = try CLI.temporaryDirectory()
        let empty = dir.appendingPathComponent("empty.txt")
        try "  \n".write(to: empty, atomically: true, encoding: .utf8)
        try CLI.run(["generate"] + tiny + ["--file", empty.path]).assertFailure(status: 1, contains: "is empty")
        try CLI.run(["generate"] + tiny + ["--file", dir.appendingPathComponent("missing.txt").path])
            .assertFailure(status: 1, contains: "cannot read the prompt file")
        try CLI.run(["batch"] + tiny + ["--input", empty.path, "--output", dir.appendingPathComponent("o.jsonl").path])
            .assertFailure(status: 1, contains: "is empty")
        try CLI.run(["batch"] + tiny + ["--input", dir.appendingPathComponent("nope").path, "--output", dir.appendingPathComponent("o.jsonl").path])
            .assertFailure(status: 1, contains: "cannot read the input file")
        let short = dir.appendingPathComponent("short.txt")
        try "5\none\ntwo\n".write(to: short, atomically: true, encoding: .utf8)
        try CLI.run(["batch"] + tiny + ["--input", short.path, "--output", dir.appendingPathComponent("o.jsonl").path])
            .assertFailure(status: 1, contains: "declares 5 prompts on line 1 but has 2 lines")
    }

    func testPromptLongerThanTheContextFailsClearly() throws {
        let long = String(repeating: "word ", count: 200)
        try CLI.run(["generate"] + tiny + ["--context", "64", long])
            .assertFailure(status: 1, contains: "tokens but the context holds 64")
    }

    func testMissingModelExplainsHowToGetOne() throws {
        let home = try CLI.temporaryDirectory()
        let env = ["HOME": home.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]
        try CLI.run(["generate", "hi"], environment: env)
            .assertFailure(status: 1, contains: "hf download openai/gpt-oss-20b")
        try CLI.run(["generate", "hi"], environment: env).assertFailure(status: 1, contains: "--model tiny")
        try CLI.run(["generate", "--model", home.appendingPathComponent("nope").path, "hi"], environment: env)
            .assertFailure(status: 1, contains: "does not exist")
    }
}
