// Placeholder: the Core helper replaces this with the full config.json decoding (spec §1).
public struct ModelConfig: Sendable {
    public var vocabSize: Int
    public init(vocabSize: Int) { self.vocabSize = vocabSize }
}
