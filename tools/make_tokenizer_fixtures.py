#!/usr/bin/env python3
"""Writes the tokenizer test fixtures (not run in CI).

  Tests/Fixtures/tokenizer/encode_cases.json   ~400 strings and their o200k_harmony ids from tiktoken
  Tests/Fixtures/tokenizer/subset.tiktoken     ranks 0..999 of o200k_base (a small, valid rank file)
  Tests/Fixtures/tokenizer/subset_tokenizer.json
      the same 1000 ranks converted by transformers' TikTokenConverter (the converter that produced the
      gpt-oss Hub tokenizer.json), with two added special tokens, plus ids for a few strings

Needs: pip install tiktoken tokenizers transformers (PyPI). Uses the local vocabulary, no network:
  python3 tools/make_tokenizer_fixtures.py [--vocab /work/shared/data/o200k_base.tiktoken]
"""
import argparse
import base64
import json
import os
import random
import sys

import tiktoken
from tiktoken.load import load_tiktoken_bpe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizer")

PAT = (r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"""
       r"""|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"""
       r"""|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""")


def harmony_special_tokens():
    named = {200002: "<|return|>", 200003: "<|constrain|>", 200005: "<|channel|>", 200006: "<|start|>",
             200007: "<|end|>", 200008: "<|message|>", 200012: "<|call|>"}
    specials = {"<|startoftext|>": 199998, "<|endoftext|>": 199999}
    for i in range(200000, 201088):
        specials[named.get(i, f"<|reserved_{i}|>")] = i
    specials["<|endofprompt|>"] = 200018
    return specials


SPEC_VECTOR = ('<|channel|>analysis<|message|>User asks: "What is 2 + 2?" Simple arithmetic. Provide answer.'
               '<|end|><|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>')

HAND = [
    "", " ", "  ", "a", "A", "hello world", "Hello World", " hello", "hello ", "hello  world",
    "The quick brown fox jumps over the lazy dog.",
    "It's a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.",
    # contractions in mixed case
    "I'm", "I'M", "you're", "YOU'RE", "You'Re", "we've", "WE'VE", "we'Ve", "he'll", "HE'LL", "He'Ll",
    "she'd", "SHE'D", "it's", "IT'S", "It'S", "don't", "DON'T", "Don'T", "'s", "'S", "'ll", " 'll", "'VE",
    "rock'n'roll", "o'clock", "Ma'am", "y'all'd've", "it'ſ", "IT'ſ", "cat'st", "x'  s", "''s", "a''ll",
    "Straße", "STRASSE", "ǅemal", "ǅ", "ʰello", "naïve café résumé", "Ångström", "Crème Brûlée",
    "élan", "ÉLAN", "Zürich", "façade", "piñata", "Dvořák", "Łódź", "Øresund", "Þórr",
    # Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai
    "Привет, мир!", "ПРИВЕТ мир", "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Γειά σου Κόσμε", "ΓΕΙΆ ΣΟΥ", "Ἀθῆναι", "مرحبا بالعالم", "السَّلَامُ عَلَيْكُمْ", "שָׁלוֹם עוֹלָם", "שלום",
    "नमस्ते दुनिया", "हिन्दी में लिखा गया वाक्य।", "สวัสดีชาวโลก", "ภาษาไทย ๑๒๓",
    "ক্ষ", "தமிழ்", "ગુજરાતી", "ಕನ್ನಡ", "മലയാളം", "ქართული", "Հայերեն", "አማርኛ", "ᏣᎳᎩ", "ᚠᚢᚦᚨᚱᚲ",
    # CJK, Hangul
    "你好，世界！", "我爱自然语言处理。", "日本語のテキストです。", "カタカナとひらがな", "ｶﾀｶﾅ", "한국어 텍스트입니다",
    "안녕하세요 세계", "漢字かな交じり文", "中文English混合text", "𠀀𠀁𠀂 plane two", "「引用」『二重』",
    # emoji
    "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🏳️‍🌈", "🇺🇸🇯🇵🇫🇷", "🇺", "#️⃣ 1️⃣", "❤️", "♥", "🧑🏿‍🦰",
    "emoji 🎉 in text 🚀!", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "😀 😀  😀", "a😀b", "AB😀cd",
    # combining marks
    "e\u0301", "E\u0301", "\u0301", "\u0301\u0301abc", " \u0301", "a\u0308\u0304", "\u0301ABC", "x\u20dd",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u0334\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333",
    "\u0915\u094d\u0937", "ABC\u0301def", "AB\u02b0CD", "\u02b0\u02b0", "A\u02b0", "ABCǅ",
    # whitespace
    "\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "a\nb", "a\r\nb", "a \n b", "a  \n\n  b", "\t", "\t\t", "a\tb", "a\t\tb",
    "  leading", "trailing  ", "trailing \n", "x   ", "x \t \n", " \n \n ", "\u00a0", "a\u00a0b", "a\u00a0\u00a0b",
    "\u3000全角", "a\u2003b", "a\u200bb", "\u2028", "a\u2029b", "\u0085", "a\u0085b", "\u1680x", "a\u180eb",
    "\x0b\x0c", "a\x0bb", "\ufeffBOM", "soft\u00adhyphen", "   \n", "\n   ", "\n\n\n\n\n", " \r\n ",
    "line1\nline2\r\nline3\rline4", "end with newline\n", "spaces    then\ttab", "\t\n\t\n",
    # numbers
    "0", "1", "12", "123", "1234", "12345", "123456", "1234567", "3.14159", "1,000,000", "1e10", "-42", "+7",
    "2024-01-01", "12:30:45", "v1.2.3", "0x1F", "0b1010", "1st 2nd 3rd 4th", "100%", "$19.99", "€5", "¥1000",
    "٠١٢٣٤٥٦٧٨٩", "१२३४५", "１２３４", "½ ¾ ²³", "Ⅻ ⅻ", "①②③", "๑๒๓", "a1b2c3", "abc123def", " 2", "  2", "x 2 y",
    # code
    "def f(x):\n    return x * 2\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "fn main() { println!(\"Hello, {}!\", name); }",
    "let x: [UInt32] = try tokenizer.encode(\"hi\")",
    "SELECT * FROM users WHERE id = 42;",
    "<html><body><p class=\"x\">Hi</p></body></html>",
    "#include <stdio.h>\nint main(void) { return 0; }",
    "const f = async (a, b) => { await g(a ?? b); };",
    "if x != nil && y >= 0 || z <= -1 { /* comment */ }",
    "// comment\n/* block */\n# python comment",
    "path/to/file.txt", "https://example.com/a/b?c=d&e=f#g", "C:\\Users\\name\\file", "user@example.com",
    "a//b", "///", "x/\n", "...\n\n", "!!!???", "---", "===", "***bold***", "__init__", "snake_case_name",
    "camelCaseName", "PascalCaseName", "HTTPServerError", "XMLHttpRequest", "iOS", "macOS", "GPT4o",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "    indented code\n        more", "\tif (x) {\n\t\ty();\n\t}",
    "[[1,2],[3,4]]", "a=b+c*d/e-f%g^h", "x <<= 2; y >>= 3;", "`code`", "```swift\nlet a = 1\n```",
    "$ ls -la | grep foo > out.txt 2>&1", "@property", "#pragma once", "~/.bashrc",
    # special-token look-alikes (ordinary text here)
    "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|return|>", "<|call|>", "<|constrain|>",
    "<|endoftext|>", "<|endofprompt|>", "<|startoftext|>", "<|reserved_200018|>", "<|reserved_201087|>",
    "<|reserved_201088|>", "<|start|>user<|message|>hi<|end|>", "<|", "|>", "<||>", "< |start| >", "<|START|>",
    "text <|end|> more", "<|<|start|>|>",
    # long
    "a" * 1000, "ab" * 300, "supercalifragilisticexpialidocious" * 20, "x" * 50 + " " * 50 + "y" * 50,
    " " * 300, "\n" * 100, "!" * 500, "1" * 100, "😀" * 100, "你" * 200, "Pneumonoultramicroscopicsilicovolcanoconiosis",
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft",
    "ThisIsAVeryLongCamelCaseIdentifierThatKeepsGoingAndGoingForeverAndEver",
    # math / symbols
    "∀x∈ℝ: x² ≥ 0", "𝐀𝐁𝐂 𝑎𝑏𝑐 𝔸𝔹ℂ", "→ ← ↑ ↓", "©®™", "§¶†‡", "°C", "µs", "Ω", "K", "Å", "ﬁ ﬂ", "№", "℃",
    "\u0000", "a\u0000b", "\u0001\u0002\u001f", "\u007f", "\ue000 private use", "\U000F0000", "\U0010FFFF",
    "\u0378 unassigned", "\U000E0041\U000E0042 tags", "\ufe0f", "a\ufe0fb",
    # Unicode 16 scalars (letters for tiktoken's regex tables) and Unicode 17 ones (unassigned there)
    "\u1c89\u1c8a tje", "\U00010d50\U00010d70 garay", "\U000105c0\U000105c1 todhri", "x\u1c89y",
    "x\u088fy \u088fZ", "x\u0c5cy", "a\u1acfb A\u1ad0", "x\ua7cey \ua7cfZ", "x\U00010940y \U00010941Z",
]

ALLOWED = [
    (SPEC_VECTOR, "all"),
    ("<|start|>user<|message|>Hello<|end|>", "all"),
    ("<|start|>user<|message|>Hello<|end|>", ["<|start|>"]),
    ("<|start|>user<|message|>Hello<|end|>", ["<|end|>", "<|message|>"]),
    ("x<|endofprompt|>y<|reserved_200018|>z", "all"),
    ("<|reserved_201088|><|reserved_201087|>", "all"),
    ("<|endoftext|><|endoftext|>", "all"),
    ("a <|start|> b", "all"),
    ("<|<|start|>|>", "all"),
    ("no specials at all", "all"),
    ("<|call|>{\"a\": 1}<|call|>", ["<|call|>"]),
    ("<|start|>assistant<|channel|>analysis<|message|>Think.<|end|>", "all"),
]


def generated(rng):
    cases = []
    for n in range(1, 26):
        cases.append("".join(str((i * 7 + n) % 10) for i in range(n)))
        cases.append("x" + "9" * n + "y")
    for c in ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"]:
        for word in ["word", "WORD", "Word", "wOrD", "ÉTÉ", "été"]:
            cases.append(word + c)
            cases.append(word + c.upper())
            cases.append(" " + word + c.title() + " next")
    ws = [" ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000"]
    for _ in range(40):
        cases.append("".join(rng.choice(ws + ["a", "B", "1", ".", "é"]) for _ in range(rng.randint(1, 12))))
    alphabet = (list("aAzZ09 .,'!?-_/\\\n\t\r") + ["é", "É", "ß", "ǅ", "ʰ", "\u0301", "\u0308", "Ж", "ж", "Ω", "ω",
                "ا", "ש", "न", "्", "ก", "ั", "中", "日", "한", "😀", "👍", "🏽", "\u200d", "🇺", "🇸", "１", "٣", "²",
                "\u00a0", "\u2003", "\u3000", "’", "“", "€", "𝐀", "𝑎", "𠀀", "\ufe0f", "'s", "'LL", "<|end|>"])
    for _ in range(120):
        cases.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))))
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", default="/work/shared/data/o200k_base.tiktoken")
    ap.add_argument("--no-full-check", action="store_true", help="skip the full-vocabulary HF conversion check")
    args = ap.parse_args()
    ranks = load_tiktoken_bpe(args.vocab)
    specials = harmony_special_tokens()
    enc = tiktoken.Encoding(name="o200k_harmony", pat_str=PAT, mergeable_ranks=ranks, special_tokens=specials)

    texts = HAND + generated(random.Random(1234))
    seen = set()
    cases = []
    for t in texts:
        if t in seen:
            continue
        seen.add(t)
        cases.append({"text": t, "ids": enc.encode_ordinary(t)})
        # encode with nothing allowed must treat special-looking text as ordinary
        assert enc.encode(t, allowed_special=set(), disallowed_special=()) == cases[-1]["ids"]
    for t, allowed in ALLOWED:
        allowed_arg = "all" if allowed == "all" else set(allowed)
        ids = enc.encode(t, allowed_special=allowed_arg, disallowed_special=())
        cases.append({"text": t, "ids": ids, "allowed_special": allowed})
    spec_ids = [int(x) for x in ("200005 35644 200008 1844 31064 25 392 4827 382 220 17 659 220 17 16842 12295 81645 13 "
                                 "51441 6052 13 200007 200006 173781 200005 17196 200008 17 659 220 17 314 220 19 13 200002").split()]
    assert enc.encode(SPEC_VECTOR, allowed_special="all") == spec_ids, "spec §5.5 vector mismatch"

    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "encode_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/make_tokenizer_fixtures.py", "tiktoken": tiktoken.__version__,
                   "encoding": "o200k_harmony", "cases": cases}, f, ensure_ascii=True, indent=0)
    with open(os.path.join(OUT, "special_tokens.json"), "w", encoding="utf-8") as f:
        json.dump(specials, f, ensure_ascii=True, indent=0, sort_keys=True)
    print(f"encode_cases.json: {len(cases)} cases")

    # Small rank subset + its TikTokenConverter tokenizer.json.
    n_subset = 1000
    subset = {b: r for b, r in ranks.items() if r < n_subset}
    assert len(subset) == n_subset and all(bytes([i]) in subset for i in range(256))
    subset_path = os.path.join(OUT, "subset.tiktoken")
    with open(subset_path, "w") as f:
        for b, r in sorted(subset.items(), key=lambda kv: kv[1]):
            f.write(base64.b64encode(b).decode() + " " + str(r) + "\n")
    from transformers.convert_slow_tokenizer import TikTokenConverter
    conv = TikTokenConverter(vocab_file=subset_path, pattern=PAT,
                             extra_special_tokens=["<|endoftext|>", "<|start|>"])
    tok = conv.converted()
    sub_enc = tiktoken.Encoding(name="subset", pat_str=PAT, mergeable_ranks=subset,
                                special_tokens={"<|endoftext|>": n_subset, "<|start|>": n_subset + 1})
    samples = ["hello world", "The quick brown fox jumps over the lazy dog.", "naïve café", "你好 😀",
               "def f(x):\n    return x * 2\n", "It's 12345 o'clock"]
    sub_cases = []
    for s in samples:
        ids = sub_enc.encode_ordinary(s)
        hf_ids = tok.encode(s, add_special_tokens=False).ids
        assert hf_ids == ids, (s, ids, hf_ids)
        sub_cases.append({"text": s, "ids": ids})
    tj = json.loads(tok.to_str())
    tj["x_test_cases"] = sub_cases  # extra key: ignored by Hugging Face and by our loader
    with open(os.path.join(OUT, "subset_tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, indent=1)
    print("subset files written")

    # Informational: the full-vocabulary converted tokenizer agrees with tiktoken on the cases.
    if not args.no_full_check:
        full = TikTokenConverter(vocab_file=args.vocab, pattern=PAT).converted()
        bad = 0
        for c in cases:
            if "allowed_special" in c:
                continue
            if full.encode(c["text"], add_special_tokens=False).ids != c["ids"]:
                bad += 1
        print(f"full HF conversion: {bad} of {len(cases)} cases differ from tiktoken")


if __name__ == "__main__":
    main()
