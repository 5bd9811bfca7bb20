#!/usr/bin/env python3
"""Tokenizer benchmark helper (not run in CI).

  python3 tools/bench_tokenizer.py corpus OUT.txt [--mb 8] [--only prose|code|cjk|scripts|emoji]
                                                           write a mixed corpus (English prose, code,
                                                           CJK, emoji, other scripts) from local files
  python3 tools/bench_tokenizer.py unicode-sweep OUT.txt   every scalar in regex contexts (then `check` it)
  python3 tools/bench_tokenizer.py check FILE...           our ids (release gptoss) == tiktoken's on each file
  python3 tools/bench_tokenizer.py tiktoken FILE           time tiktoken o200k_harmony encode_ordinary on FILE
                                                            (single thread, best of several passes)

Compare with: .build/release/gptoss tokenize --bench --file FILE
"""
import glob
import json
import os
import random
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(path):
    with open(path, encoding="utf-8", errors="ignore", newline="") as f:
        return f.read()


def corpus(out, mb, only=None):
    rng = random.Random(7)
    prose = [read(p) for p in sorted(glob.glob("/usr/share/common-licenses/*")) if os.path.isfile(p)]
    pylib = os.path.dirname(os.__file__)
    code = [read(os.path.join(pylib, n)) for n in ["argparse.py", "json/decoder.py", "typing.py", "difflib.py",
                                                    "ast.py", "dataclasses.py", "_pydecimal.py"]]
    cjk_dirs = glob.glob("/root/.pyenv/versions/*/lib/python3*/test/cjkencodings") + [os.path.join(pylib, "test", "cjkencodings")]
    cjk = []
    for d in cjk_dirs:
        cjk += [read(p) for p in sorted(glob.glob(os.path.join(d, "*-utf8.txt")))]
    cases = json.load(open(os.path.join(ROOT, "Tests", "Fixtures", "tokenizer", "encode_cases.json")))["cases"]
    scripts = "\n".join(c["text"] for c in cases if any(ord(ch) > 0x7F for ch in c["text"]))
    emoji = ["😀", "🎉", "🚀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "🇯🇵", "❤️", "🔥", "✨", "🙏🏿", "🤖"]
    words = read("/usr/share/common-licenses/GPL-3").split()
    emoji_text = "\n".join(" ".join(rng.choice(words) + (rng.choice(emoji) if rng.random() < 0.3 else "")
                                    for _ in range(12)) for _ in range(2000))
    parts = {"prose": "\n\n".join(prose), "code": "\n\n".join(code), "cjk": "\n".join(cjk) * 4,
             "scripts": scripts * 8, "emoji": emoji_text}
    if only:
        parts = {only: parts[only]}
    target = int(mb * 1e6)
    pieces = []
    size = 0
    while size < target:
        for name, text in parts.items():
            start = rng.randrange(0, max(1, len(text) - 20000))
            chunk = text[start:start + 20000]
            pieces.append(chunk)
            size += len(chunk.encode())
    data = "".join(pieces)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(data)
    shares = {k: len(v.encode()) for k, v in parts.items()}
    print(f"wrote {out}: {len(data.encode())} bytes; source sizes {shares}")


def unicode_sweep(out):
    """Every scalar of planes 0-3 and 14 (planes 4-13 and 15-16 sampled) in several regex contexts."""
    lines = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or (0x40000 <= cp < 0xE0000 and cp % 13) or (cp >= 0xF0000 and cp % 97):
            continue
        c = chr(cp)
        lines.append(f"x{c}y {c}Z{c}{c}1 '{c}s A{c}'S\t{c} \n")
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write("".join(lines))
    print(f"wrote {out}: {len(lines)} lines")


def make_encoding():
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from make_tokenizer_fixtures import PAT, harmony_special_tokens
    ranks = load_tiktoken_bpe("/work/shared/data/o200k_base.tiktoken")
    return tiktoken.Encoding(name="o200k_harmony", pat_str=PAT, mergeable_ranks=ranks,
                             special_tokens=harmony_special_tokens())


def check(path):
    """Our ids (gptoss tokenize) must equal tiktoken's on the whole file."""
    import subprocess
    ours = json.loads(subprocess.run([os.path.join(ROOT, ".build", "release", "gptoss"), "tokenize", "--file", path],
                                     check=True, capture_output=True).stdout)
    theirs = make_encoding().encode_ordinary(read(path))
    same = ours == theirs
    print(f"{path}: {len(ours)} ids, {'identical to' if same else 'DIFFERENT from'} tiktoken")
    return same


def bench_tiktoken(path, seconds=4.0):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    from make_tokenizer_fixtures import PAT, harmony_special_tokens
    t0 = time.perf_counter()
    ranks = load_tiktoken_bpe("/work/shared/data/o200k_base.tiktoken")
    enc = tiktoken.Encoding(name="o200k_harmony", pat_str=PAT, mergeable_ranks=ranks,
                            special_tokens=harmony_special_tokens())
    load = time.perf_counter() - t0
    text = read(path)
    nbytes = len(text.encode())
    best = float("inf")
    passes = 0
    begin = time.perf_counter()
    while True:
        t = time.perf_counter()
        ids = enc.encode_ordinary(text)
        best = min(best, time.perf_counter() - t)
        passes += 1
        if time.perf_counter() - begin > seconds:
            break
    print(f"tiktoken {tiktoken.__version__}: vocabulary load {load:.3f} s; {nbytes} bytes -> {len(ids)} tokens; "
          f"best of {passes} passes {best:.4f} s = {nbytes / 1e6 / best:.2f} MB/s")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "corpus":
        mb = float(sys.argv[sys.argv.index("--mb") + 1]) if "--mb" in sys.argv else 8
        only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
        corpus(sys.argv[2], mb, only)
    elif len(sys.argv) >= 3 and sys.argv[1] == "unicode-sweep":
        unicode_sweep(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        sys.exit(0 if all(check(p) for p in sys.argv[2:]) else 1)
    elif len(sys.argv) >= 3 and sys.argv[1] == "tiktoken":
        bench_tiktoken(sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)
