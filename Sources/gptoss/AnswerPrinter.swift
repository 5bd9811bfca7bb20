// Writing an answer to the terminal as it streams (generate and chat): the answer on stdout, the
// reasoning (when shown) dimmed under [reasoning] / [answer] labels, tool calls on their own line.

/// Streams answer pieces to stdout, reasoning set apart (dimmed and labelled) when shown.
struct AnswerPrinter {
    let showReasoning: Bool
    private var inReasoning = false
    private var endsWithNewline = true

    init(showReasoning: Bool) { self.showReasoning = showReasoning }

    mutating func print(_ piece: AnswerPiece) {
        switch piece {
        case .reasoning(let s):
            guard showReasoning else { return }
            if !inReasoning {
                if !endsWithNewline { write("\n") }
                write(Terminal.dim("[reasoning]\n", enabled: Terminal.stdoutIsTTY))
                inReasoning = true
            }
            write(Terminal.dim(s, enabled: Terminal.stdoutIsTTY))
        case .answer(let s):
            if inReasoning {
                if !endsWithNewline { write("\n") }
                write(Terminal.dim("[answer]\n", enabled: Terminal.stdoutIsTTY))
                inReasoning = false
            }
            write(s)
        case .toolCall(let call):
            if !endsWithNewline { write("\n") }
            write("[tool call \(call.recipient)] \(call.arguments)\n")
        }
    }

    /// Ends the output with a newline.
    mutating func end() { if !endsWithNewline { write("\n") } }

    private mutating func write(_ s: String) {
        guard !s.isEmpty else { return }
        Terminal.out(s)
        endsWithNewline = s.hasSuffix("\n")
    }
}
