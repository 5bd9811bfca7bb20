#!/usr/bin/env python3
"""Compile one kernel source with NVRTC (the PyPI libnvrtc, no GPU needed) and print ptxas's resource
report (registers, shared memory, stack frame, spills) per kernel. Usage:
  tools/nvrtc_report.py Sources/CUDABackend/kernels/decode.cu [sm_90 [out.cubin]]
The library is found via GPTOSS_NVRTC_PATH or ~/.cache/gpt-oss-swift/nvrtc-13.0.88 (scripts/test.sh)."""
import ctypes, glob, os, sys

src_path = sys.argv[1]
arch = sys.argv[2] if len(sys.argv) > 2 else "sm_90"
cands = [os.environ.get("GPTOSS_NVRTC_PATH", "")] + glob.glob(os.path.expanduser("~/.cache/gpt-oss-swift/nvrtc-*/nvidia/cu13/lib"))
lib = None
for c in cands:
    p = os.path.join(c, "libnvrtc.so.13")
    if c and os.path.exists(p):
        lib = ctypes.CDLL(p); break
if lib is None:
    sys.exit("libnvrtc.so.13 not found (run scripts/test.sh once, or set GPTOSS_NVRTC_PATH)")
kdir = os.path.dirname(src_path)
hdr = open(os.path.join(kdir, "gptoss_common.h"), "rb").read()
src = open(src_path, "rb").read()
prog = ctypes.c_void_p()
names = (ctypes.c_char_p * 1)(b"gptoss_common.h"); texts = (ctypes.c_char_p * 1)(hdr)
assert lib.nvrtcCreateProgram(ctypes.byref(prog), src, os.path.basename(src_path).encode(), 1, texts, names) == 0
opts = [f"--gpu-architecture={arch}", "--std=c++17", "-default-device", "--fmad=true", "-DGPTOSS_WARP=32",
        "--ptxas-options=-v"]
arr = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
r = lib.nvrtcCompileProgram(prog, len(opts), arr)
n = ctypes.c_size_t(); lib.nvrtcGetProgramLogSize(prog, ctypes.byref(n))
buf = ctypes.create_string_buffer(n.value); lib.nvrtcGetProgramLog(prog, buf)
print(buf.value.decode(errors="replace"))
print("result", r)
if r == 0 and len(sys.argv) > 3:   # third argument: write the cubin there (disassemble with nvdisasm)
    n = ctypes.c_size_t(); lib.nvrtcGetCUBINSize(prog, ctypes.byref(n))
    cub = ctypes.create_string_buffer(n.value); lib.nvrtcGetCUBIN(prog, cub)
    open(sys.argv[3], "wb").write(cub.raw)
sys.exit(0 if r == 0 else 1)
