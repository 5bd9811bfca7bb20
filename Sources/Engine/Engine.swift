// Engine module (to be written).
import Core
