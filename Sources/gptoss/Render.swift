// `gptoss render`: a chat-completions request (JSON file) → the harmony prompt ids for the assistant's
// completion, printed as a JSON array (ends with <|start|>assistant = 200006, 173781).
// `--text` prints the rendered prompt as text instead (special tokens written as their names).
import ArgumentParser
import Foundation
import Harmony
import Tokenizer

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a chat-completions request as harmony and print the prompt token ids as a JSON array.",
        discussion: "The request→harmony mapping is described in docs/harmony-mapping.md.")

    @Option(name: .long, help: "Chat-completions request body, a JSON file ('-' reads standard input).")
    var request: String

    @Option(name: .long, help: "Current date written into the system message (YYYY-MM-DD). Omitted: no date line.")
    var date: String?

    @Flag(name: .long, help: "Print the rendered prompt as text instead of ids.")
    var text = false

    func validate() throws {
        if let date, !HarmonyDate.isValid(date) {
            throw ValidationError("--date must be a calendar date written YYYY-MM-DD, got \"\(date)\"")
        }
    }

    func run() throws {
        let bytes: [UInt8]
        if request == "-" {
            bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        } else {
            // FileHandle also reads pipes such as /dev/fd/N (process substitution).
            guard let handle = FileHandle(forReadingAtPath: request),
                  let data = try? handle.readToEnd() ?? Data() else {
                throw CLIError( "render: cannot read request file \(request)")
            }
            bytes = [UInt8](data)
        }
        let parsed: ChatRequest
        do {
            parsed = try ChatRequest.parse(jsonBytes: bytes)
        } catch {
            throw CLIError( "render: \(request): \(error.description)")
        }
        let pieces = HarmonyRenderer().piecesForCompletion(parsed, date: date)
        if text {
            FileHandle.standardOutput.write(Data((pieces.renderedText + "\n").utf8))
            return
        }
        let tokenizer: O200kTokenizer
        do { tokenizer = try O200kTokenizer.harmony() } catch {
            throw CLIError( "render: cannot load the embedded vocabulary: \(error)")
        }
        let ids = HarmonyRenderer.tokenIDs(pieces, encoder: tokenizer)
        let out = "[" + ids.map(String.init).joined(separator: ", ") + "]\n"
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
