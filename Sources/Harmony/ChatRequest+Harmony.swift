// Chat-completions request → harmony conversation (issue 3 item 4, spec §6.11; docs/harmony-mapping.md).
// Owns: the mapping only. System message generated; system+developer contents joined into one developer
// message placed right after it; assistant → analysis, final, tool calls; tool → functions.NAME results.

extension ChatRequest {
    /// The harmony conversation this request renders as. `date` (YYYY-MM-DD) adds `Current date:`.
    public func harmonyConversation(date: String? = nil) -> HarmonyConversation {
        var system = SystemContent()
        system.reasoningEffort = reasoningEffort
        system.conversationStartDate = date
        var out = [HarmonyMessage(author: HarmonyAuthor(.system), content: [.system(system)])]

        var instructions: [String] = []
        for m in messages {
            switch m {
            case .system(let t?), .developer(let t?): instructions.append(t)
            default: break
            }
        }
        if !instructions.isEmpty || !tools.isEmpty {
            var dev = DeveloperContent()
            if !instructions.isEmpty { dev.instructions = instructions.joined(separator: "\n\n") }
            if !tools.isEmpty {
                dev.tools = [ToolNamespace(name: "functions", tools: tools.map {
                    ToolDescription(name: $0.name, description: $0.description, parameters: $0.parameters)
                })]
            }
            out.append(HarmonyMessage(author: HarmonyAuthor(.developer), content: [.developer(dev)]))
        }

        for m in messages {
            switch m {
            case .system, .developer:
                continue
            case .user(let parts, let name):
                out.append(HarmonyMessage(author: HarmonyAuthor(.user, name: name), content: parts.map { .text($0) }))
            case .assistant(let a):
                if let r = a.reasoning {
                    out.append(HarmonyMessage(author: HarmonyAuthor(.assistant), content: [.text(r)], channel: "analysis"))
                }
                if !a.content.isEmpty {
                    out.append(HarmonyMessage(author: HarmonyAuthor(.assistant), content: a.content.map { .text($0) },
                                              channel: "final"))
                }
                for call in a.toolCalls {
                    out.append(HarmonyMessage(author: HarmonyAuthor(.assistant), content: [.text(call.arguments)],
                                              channel: "commentary", recipient: "functions." + call.name,
                                              contentType: "<|constrain|>json"))
                }
            case .tool(let t):
                out.append(HarmonyMessage(author: HarmonyAuthor(.tool, name: "functions." + t.name),
                                          content: t.content.map { .text($0) },
                                          channel: "commentary", recipient: "assistant"))
            }
        }
        return HarmonyConversation(out)
    }
}

extension HarmonyRenderer {
    /// Pieces of the assistant's completion prompt for a request.
    public func piecesForCompletion(_ request: ChatRequest, date: String? = nil) -> [HarmonyPiece] {
        piecesForCompletion(request.harmonyConversation(date: date))
    }

    /// Token ids of the assistant's completion prompt for a request (ends with `<|start|>assistant`).
    public func renderForCompletion(_ request: ChatRequest, date: String? = nil,
                                    encoder: some OrdinaryTextEncoder) -> [UInt32] {
        Self.tokenIDs(piecesForCompletion(request, date: date), encoder: encoder)
    }
}
