// HarmonyRenderer: harmony conversation → pieces → token ids, exactly as openai-harmony renders them.
// Owns: message grammar (spec §6.2), system/developer content text (§6.3, §6.4), dropping old analysis
// (§6.6), the completion prompt suffix and the stop set (§6.5). Tool schemas are in
// ToolNamespaceRenderer.swift.

/// Renders conversations and chat-completions requests to harmony token ids (spec §6).
public struct HarmonyRenderer: Sendable {
    /// Sampling stops on `<|return|>` and `<|call|>` (spec §6.5); `<|end|>` only closes one message.
    public static let stopTokens: [UInt32] = [HarmonySpecialToken.return.id, HarmonySpecialToken.call.id]

    /// harmony's `auto_drop_analysis` (default true): see `droppingOldAnalysis`.
    public var autoDropAnalysis: Bool

    public init(autoDropAnalysis: Bool = true) { self.autoDropAnalysis = autoDropAnalysis }

    // MARK: pieces

    /// The conversation's pieces followed by `<|start|>` + next role (the prompt for sampling).
    public func piecesForCompletion(_ conversation: HarmonyConversation,
                                    nextRole: HarmonyRole = .assistant) -> [HarmonyPiece] {
        var out = pieces(conversation)
        out.append(.special(.start))
        out.append(.text(nextRole.rawValue))
        return out
    }

    /// The conversation's pieces (old analysis dropped when `autoDropAnalysis`).
    public func pieces(_ conversation: HarmonyConversation) -> [HarmonyPiece] {
        let messages = autoDropAnalysis ? Self.droppingOldAnalysis(conversation.messages) : conversation.messages
        let hasFunctionTools = conversation.messages.contains { msg in
            msg.content.contains { c in
                if case .developer(let dev) = c {
                    return dev.tools.contains { $0.name == "functions" && !$0.tools.isEmpty }
                }
                return false
            }
        }
        var out: [HarmonyPiece] = []
        for m in messages { appendMessage(m, hasFunctionTools: hasFunctionTools, into: &out) }
        return out
    }

    /// harmony's rule (spec §6.6): if the last assistant message is on channel `final`, drop every
    /// `analysis` message that comes before the first `final` message. Otherwise keep everything.
    public static func droppingOldAnalysis(_ messages: [HarmonyMessage]) -> [HarmonyMessage] {
        guard let lastAssistant = messages.last(where: { $0.author.role == .assistant }),
              lastAssistant.channel == "final",
              let firstFinal = messages.firstIndex(where: { $0.channel == "final" })
        else { return messages }
        return messages.enumerated().filter { idx, msg in
            !(idx < firstFinal && msg.channel == "analysis")
        }.map(\.element)
    }

    /// One message: `<|start|>ROLE[:NAME][ to=R][<|channel|>CH][ TYPE]<|message|>CONTENT<|end|>|<|call|>`.
    public func appendMessage(_ m: HarmonyMessage, hasFunctionTools: Bool, into out: inout [HarmonyPiece]) {
        out.append(.special(.start))
        if m.author.role == .tool {
            out.append(.text(m.author.name ?? "tool"))
        } else {
            out.append(.text(m.author.role.rawValue))
            if let name = m.author.name { out.append(.text(":" + name)) }
        }
        if let r = m.recipient, r != "all" { out.append(.text(" to=" + r)) }
        if let ch = m.channel {
            out.append(.special(.channel))
            out.append(.text(ch))
        }
        if let ct = m.contentType {
            let marker = HarmonySpecialToken.constrain.text
            if ct.hasPrefix(marker) {
                out.append(.text(" "))
                out.append(.special(.constrain))
                let rest = String(ct.dropFirst(marker.count))
                if !rest.isEmpty { out.append(.text(rest)) }
            } else {
                out.append(.text(" " + ct))
            }
        }
        out.append(.special(.message))
        for c in m.content {
            switch c {
            case .text(let t): out.append(.text(t))
            case .system(let sys): out.append(.text(Self.systemText(sys, hasFunctionTools: hasFunctionTools)))
            case .developer(let dev): out.append(.text(Self.developerText(dev)))
            }
        }
        out.append(.special(m.author.role == .assistant && m.recipient != nil ? .call : .end))
    }

    /// System message text (spec §6.3).
    public static func systemText(_ sys: SystemContent, hasFunctionTools: Bool) -> String {
        var sections: [String] = []
        var top: [String] = []
        if let id = sys.modelIdentity { top.append(id) }
        if let k = sys.knowledgeCutoff { top.append("Knowledge cutoff: \(k)") }
        if let d = sys.conversationStartDate { top.append("Current date: \(d)") }
        if !top.isEmpty { sections.append(top.joined(separator: "\n")) }
        if let e = sys.reasoningEffort { sections.append("Reasoning: \(e.rawValue)") }
        if !sys.tools.isEmpty {
            sections.append(ToolNamespaceRenderer.toolsSection(sys.tools.sorted { $0.name < $1.name }))
        }
        if !sys.validChannels.isEmpty {
            var header = "# Valid channels: \(sys.validChannels.joined(separator: ", "))."
            if sys.channelRequired { header += " Channel must be included for every message." }
            if hasFunctionTools { header += "\nCalls to these tools must go to the commentary channel: 'functions'." }
            sections.append(header)
        }
        return sections.joined(separator: "\n\n")
    }

    /// Developer message text (spec §6.4, §6.11).
    public static func developerText(_ dev: DeveloperContent) -> String {
        var sections: [String] = []
        if let instr = dev.instructions {
            sections.append("# Instructions")
            sections.append(instr)
        }
        if !dev.tools.isEmpty {
            sections.append(ToolNamespaceRenderer.toolsSection(dev.tools.sorted { $0.name < $1.name }))
        }
        return sections.joined(separator: "\n\n")
    }

    // MARK: ids

    /// Maps pieces to ids: special tokens are one id each, every text piece is encoded on its own.
    public static func tokenIDs(_ pieces: [HarmonyPiece], encoder: some OrdinaryTextEncoder) -> [UInt32] {
        var ids: [UInt32] = []
        for p in pieces {
            switch p {
            case .special(let t): ids.append(t.id)
            case .text(let s): if !s.isEmpty { ids.append(contentsOf: encoder.encodeOrdinary(s)) }
            }
        }
        return ids
    }

    /// The token ids that prompt the assistant (ends with `<|start|>assistant`).
    public func renderForCompletion(_ conversation: HarmonyConversation,
                                    encoder: some OrdinaryTextEncoder) -> [UInt32] {
        Self.tokenIDs(piecesForCompletion(conversation), encoder: encoder)
    }
}
