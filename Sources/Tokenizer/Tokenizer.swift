// Tokenizer module (to be written).
import Core
import EmbeddedData
