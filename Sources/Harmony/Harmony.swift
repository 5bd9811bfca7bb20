// Harmony module (to be written).
import Tokenizer
