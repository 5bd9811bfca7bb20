// CPUBackend module (to be written).
import Core
