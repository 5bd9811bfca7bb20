// CUDABackend module (to be written).
import Core
