#!/usr/bin/env python3
"""Make Tests/Fixtures/harmony/{render_cases,parse_cases}.json with openai-harmony (not run by CI).

Setup (no network needed for the vocabulary):
    python3 -m venv /tmp/hvenv && /tmp/hvenv/bin/pip install openai-harmony==0.0.8
    mkdir -p /tmp/tkenc && cp /work/shared/data/o200k_base.tiktoken /tmp/tkenc/
    TIKTOKEN_ENCODINGS_BASE=/tmp/tkenc /tmp/hvenv/bin/python tools/make_harmony_fixtures.py

render_cases.json: each case is a chat-completions request (JSON text, as the Swift side reads it), an
optional date, the ids harmony renders for the assistant's completion prompt, and the same ids decoded
(special tokens as text) for readable diffs. The request -> harmony Conversation mapping below is the
one documented in docs/harmony-mapping.md (issue 3 item 4, spec section 6.11).

parse_cases.json: completions rendered by harmony (what the model would sample after
`<|start|>assistant`), and the messages harmony's own parser recovers from them.
"""
import json
import os
import sys

from openai_harmony import (
    Author, Conversation, DeveloperContent, HarmonyEncodingName, Message, ReasoningEffort, Role,
    SystemContent, TextContent, ToolDescription, load_harmony_encoding,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "Fixtures", "harmony")

enc = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)

EFFORTS = {"low": ReasoningEffort.LOW, "medium": ReasoningEffort.MEDIUM, "high": ReasoningEffort.HIGH}


def parts_of(content):
    """content -> list of text parts (string = one part; array of text parts); None when null/missing."""
    if content is None:
        return None
    if isinstance(content, str):
        return [content]
    out = []
    for p in content:
        out.append(p if isinstance(p, str) else p["text"])
    return out


def request_to_conversation(req, date):
    system = SystemContent.new().with_reasoning_effort(EFFORTS[req.get("reasoning_effort") or "medium"])
    if date is not None:
        system = system.with_conversation_start_date(date)
    msgs = [Message.from_role_and_content(Role.SYSTEM, system)]

    instructions = []
    for m in req["messages"]:
        if m["role"] in ("system", "developer"):
            parts = parts_of(m.get("content"))
            text = "".join(parts) if parts is not None else ""
            if text != "":
                instructions.append(text)
    tools = req.get("tools") or []
    if instructions or tools:
        dev = DeveloperContent.new()
        if instructions:
            dev = dev.with_instructions("\n\n".join(instructions))
        if tools:
            dev = dev.with_function_tools([
                ToolDescription.new(t["function"]["name"], t["function"].get("description") or "",
                                    t["function"].get("parameters"))
                for t in tools
            ])
        msgs.append(Message.from_role_and_content(Role.DEVELOPER, dev))

    call_names = {}
    for m in req["messages"]:
        role = m["role"]
        if role in ("system", "developer"):
            continue
        if role == "user":
            author = Author(role=Role.USER, name=m.get("name"))
            msgs.append(Message(author=author, content=[TextContent(text=t) for t in parts_of(m["content"])]))
        elif role == "assistant":
            if m.get("reasoning_content"):
                msgs.append(Message.from_role_and_content(Role.ASSISTANT, m["reasoning_content"]).with_channel("analysis"))
            parts = parts_of(m.get("content")) or []
            if "".join(parts) != "":
                msgs.append(Message.from_role_and_contents(Role.ASSISTANT, [TextContent(text=t) for t in parts])
                            .with_channel("final"))
            for call in m.get("tool_calls") or []:
                fn = call["function"]
                if call.get("id") is not None:
                    call_names[call["id"]] = fn["name"]
                msgs.append(Message.from_role_and_content(Role.ASSISTANT, fn["arguments"])
                            .with_channel("commentary").with_recipient("functions." + fn["name"])
                            .with_content_type("<|constrain|>json"))
        elif role == "tool":
            name = m.get("name") or call_names[m["tool_call_id"]]
            parts = parts_of(m.get("content"))
            if parts is None:
                parts = [""]
            msgs.append(Message(author=Author(role=Role.TOOL, name="functions." + name),
                                content=[TextContent(text=t) for t in parts])
                        .with_channel("commentary").with_recipient("assistant"))
        else:
            raise ValueError(role)
    return Conversation.from_messages(msgs)


def fn(name, description=None, parameters=None, **extra):
    f = {"name": name}
    if description is not None:
        f["description"] = description
    if parameters is not None:
        f["parameters"] = parameters
    f.update(extra)
    return {"type": "function", "function": f}


WEATHER = fn("get_current_weather", "Gets the current weather in the provided location.", {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "format": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
    },
    "required": ["location"],
})

KITCHEN_SINK = fn("search_items", "Search the catalogue.\nReturns at most `limit` items.", {
    "type": "object",
    "description": "Search parameters",
    "title": "SearchArgs",
    "properties": {
        "query": {"type": "string", "description": "Free text.\nSecond line of the description."},
        "limit": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100},
        "ratio": {"type": "number", "default": 0.5},
        "whole": {"type": "number", "default": 1.0},
        "tiny": {"type": "number", "default": 1e-07},
        "huge": {"type": "number", "default": 1e20},
        "exact": {"type": "boolean", "default": False},
        "nothing": {"type": "string", "nullable": True, "default": None},
        "sep": {"type": "string", "default": "\n"},
        "stops": {"type": "array", "items": {"type": "string"}, "default": ["\n\n", "END"]},
        "opts": {"type": "object", "default": {"k": 1, "s": "v"}},
        "unit": {"type": "string", "enum": ["c", "f"], "default": "c", "title": "Unit"},
        "kinds": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
        "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "anything": {"type": "array"},
        "either": {"type": ["string", "integer", "null"]},
        "when": {"type": "string", "format": "date-time", "examples": ["2024-01-01", "today"]},
        "count": {"type": "integer", "examples": [1, 2.5]},
        "filters": {
            "type": "object",
            "description": "Optional filters",
            "properties": {
                "color": {"type": "string", "description": "Color name"},
                "size": {"type": "integer", "default": 3},
                "deep": {"type": "object", "properties": {"flag": {"type": "boolean"}}, "required": ["flag"]},
            },
            "required": ["color"],
            "additionalProperties": False,
        },
        "items": {
            "type": "array",
            "description": "Line items",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "default": 1}},
                "required": ["sku"],
            },
            "minItems": 1,
        },
        "empty": {"type": "object", "properties": {}},
    },
    "required": ["query", "items"],
})

UNIONS = fn("unions", "", {
    "type": "object",
    "properties": {
        "target": {
            "description": "Where to send it",
            "oneOf": [
                {"type": "string", "description": "A user id"},
                {"type": "integer", "description": "A channel number", "default": 7},
                {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]},
            ],
            "default": "me",
        },
        "mode": {
            "oneOf": [{"type": "string", "enum": ["a", "b"], "default": "a"}, {"type": "null"}],
        },
        "same": {
            "description": "Same text",
            "oneOf": [{"type": "string", "description": "Same text"}, {"type": "number", "nullable": True}],
        },
        "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "anyOf becomes any"},
        "ref": {"$ref": "#/$defs/Thing"},
        "untyped": {"description": "No type at all"},
        "bare": True,
    },
    "required": ["target"],
    "$defs": {"Thing": {"type": "object", "properties": {"a": {"type": "string"}}}},
})

NUMBERS = fn("numbers", "Number formats.", {
    "type": "object",
    "properties": {
        "a": {"type": "number", "default": 100},
        "b": {"type": "number", "default": 1E2},
        "c": {"type": "number", "default": -0.0},
        "d": {"type": "number", "default": 0.0001},
        "e": {"type": "number", "default": 0.00001},
        "f": {"type": "number", "default": 123456789.125},
        "g": {"type": "number", "default": 1e16},
        "h": {"type": "number", "default": 1e15},
        "i": {"type": "integer", "default": 12345678901234567890},
        "j": {"type": "integer", "default": -42},
        "k": {"type": "number", "default": 2.5e-300},
        "l": {"type": "integer", "enum": [1, 2, 3], "default": 2},
        "m": {"enum": ["p", "q"], "default": "p"},
        "n": {"type": "array", "items": {"type": "number"}, "default": [1.0, 2, 3.5e10]},
        "o": {"type": "string", "default": "quote \" and backslash \\ and tab \t"},
        "p": {"type": "object", "default": {"z": [True, None], "a": "é\u0001"}},
    },
})

DEEP = fn("deep_tool", "Deeply nested.\rCarriage return only.", {
    "type": "object",
    "properties": {
        "outer": {
            "type": "object",
            "title": "Outer",
            "description": "Outer object",
            "properties": {
                "middle": {
                    "type": "array",
                    "description": "Middle list",
                    "items": {
                        "type": "object",
                        "description": "One entry",
                        "properties": {
                            "leaf": {"type": ["integer", "null"], "description": "Leaf", "default": 0},
                            "choice": {"oneOf": [{"type": "string"}, {"type": "boolean", "description": "flag"}],
                                       "description": "Pick one", "default": True},
                            "tags": {"type": "array", "items": {"type": "string"}, "nullable": True},
                        },
                        "required": ["leaf"],
                    },
                },
                "note": {"type": "string", "examples": ["say \"hi\"", "tab\there"], "title": "Note"},
            },
            "required": "middle",
        },
        "名前": {"type": "string", "description": "Unicode property name ✓"},
    },
})

# serde_json's default float parser is not correctly rounded: harmony prints the neighbour of some
# doubles (e.g. 4.1882723842698686e-07). Also integer edges around i64/u64.
QUIRKS = fn("quirks", "Float parsing quirks.", {
    "type": "object",
    "properties": {("q%d" % i): {"type": "number", "default": v} for i, v in enumerate([
        6.513971337567626e-13, 4.1882723842698686e-07, 46.220536041544236, 8.596943191875801e-29,
        7.411740621875864e-08, 0.30000000000000004, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
        -9223372036854775809, 9223372036854775808, -9223372036854775808, 18446744073709551616,
        -18446744073709551615, 123456789012345678901234567890, 0.1, -2.5e-5, 1e22, 1e23])},
})

NOPARAMS = [
    fn("no_params", "Takes nothing."),
    fn("empty_params", "Schema is {}.", {}),
    fn("empty_object", "Object without properties.", {"type": "object", "properties": {}}),
    fn("object_no_props", "Object without a properties key.", {"type": "object"}),
    fn("no_description", None, {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]}),
    fn("empty_description", "", {"type": "object", "properties": {"y": {"type": "boolean"}}}),
    fn("multi_line", "First line.\n\nThird line after a blank.\r\nCRLF line.\n", None),
    fn("top_one_of", "Top-level oneOf.", {"oneOf": [{"type": "string"}, {"type": "number"}]}),
    fn("strict_tool", "Has strict.", {"type": "object", "properties": {"q": {"type": "string"}},
                                      "required": ["q"], "additionalProperties": False}, strict=True),
]


def u(text, **kw):
    m = {"role": "user", "content": text}
    m.update(kw)
    return m


def a(content=None, reasoning=None, calls=None):
    m = {"role": "assistant"}
    if reasoning is not None:
        m["reasoning_content"] = reasoning
    m["content"] = content
    if calls is not None:
        m["tool_calls"] = [{"id": cid, "type": "function", "function": {"name": n, "arguments": args}}
                           for cid, n, args in calls]
    return m


def tool(content, tool_call_id=None, name=None):
    m = {"role": "tool", "content": content}
    if tool_call_id is not None:
        m["tool_call_id"] = tool_call_id
    if name is not None:
        m["name"] = name
    return m


CASES = [
    ("user_only_default_effort", None, {"messages": [u("What is 2 + 2?")]}),
    ("effort_low_with_date", "2025-06-28", {"reasoning_effort": "low", "messages": [u("Hi")]}),
    ("effort_high_no_date", None, {"reasoning_effort": "high", "messages": [u("Explain entropy.")]}),
    ("effort_medium_explicit_with_date", "2024-12-31", {"reasoning_effort": "medium", "messages": [u("x")]}),
    ("system_message", "2025-06-28", {"messages": [
        {"role": "system", "content": "Answer in one short sentence."}, u("What is the capital of France?")]}),
    ("system_and_developer_joined", None, {"messages": [
        {"role": "system", "content": "You are terse."}, {"role": "developer", "content": "Use French."},
        u("Bonjour")]}),
    ("developer_given_later", None, {"messages": [
        u("First question"), {"role": "developer", "content": "Late instructions."},
        {"role": "system", "content": "Late system."}, u("Second")]}),
    ("instructions_with_trailing_newlines", None, {"messages": [
        {"role": "system", "content": "Line one.\r\nLine two.\n\n"}, {"role": "developer", "content": "  padded  "},
        u("go")]}),
    ("system_array_parts", None, {"messages": [
        {"role": "system", "content": [{"type": "text", "text": "Part A. "}, {"type": "text", "text": "Part B."}]},
        u("ok")]}),
    ("empty_system_is_absent", None, {"messages": [{"role": "system", "content": ""}, u("hello")]}),
    ("weather_tool_no_instructions", "2025-06-28", {"messages": [u("Weather in Tokyo?")], "tools": [WEATHER]}),
    ("weather_tool_with_instructions", "2025-06-28", {"reasoning_effort": "high", "messages": [
        {"role": "system", "content": "Use a friendly tone."}, u("What is the weather in Tokyo?")],
        "tools": [WEATHER]}),
    ("kitchen_sink_schema", None, {"messages": [u("find socks")], "tools": [KITCHEN_SINK]}),
    ("unions_schema", None, {"messages": [u("send")], "tools": [UNIONS]}),
    ("number_defaults", None, {"messages": [u("n")], "tools": [NUMBERS]}),
    ("no_params_and_descriptions", None, {"messages": [u("tools")], "tools": NOPARAMS}),
    ("tools_empty_list", None, {"messages": [u("no tools")], "tools": []}),
    ("tools_null", None, {"messages": [u("null tools")], "tools": None}),
    ("user_name", None, {"messages": [u("Hi, I'm Ann.", name="ann")]}),
    ("user_array_parts", None, {"messages": [u([{"type": "text", "text": "Hello "},
                                                {"type": "text", "text": "world"},
                                                {"type": "text", "text": "!!"}])]}),
    ("empty_user_message", None, {"messages": [u("")]}),
    ("multi_turn_drops_analysis", None, {"messages": [
        u("What is 2 + 2?"), a("2 + 2 equals 4.", reasoning="Simple arithmetic."), u("What about 9 / 2?")]}),
    ("multi_turn_two_finals", "2025-01-02", {"messages": [
        u("a"), a("A1", reasoning="think a"), u("b"), a("B1", reasoning="think b"), u("c")]}),
    ("reasoning_only_assistant_kept", None, {"messages": [
        u("q"), a(None, reasoning="partial thoughts"), u("continue")]}),
    ("tool_call_pending_keeps_analysis", "2025-06-28", {"reasoning_effort": "high", "messages": [
        {"role": "system", "content": "Use a friendly tone."}, u("What is the weather in Tokyo?"),
        a(None, reasoning="Need to call get_current_weather.",
          calls=[("call_1", "get_current_weather", "{\"location\":\"Tokyo\"}")]),
        tool("{\"temperature\": 20, \"sunny\": true}", tool_call_id="call_1")], "tools": [WEATHER]}),
    ("tool_result_by_name", None, {"messages": [
        u("weather?"), a(None, calls=[(None, "get_current_weather", "{\"location\": \"Paris\", \"format\": \"celsius\"}")]),
        tool("18C", name="get_current_weather")], "tools": [WEATHER]}),
    ("tool_round_then_final_then_user", None, {"messages": [
        u("weather?"), a("", reasoning="call it", calls=[("c1", "get_current_weather", "{\"location\":\"Oslo\"}")]),
        tool("cold", tool_call_id="c1"), a("It is cold in Oslo.", reasoning="answer now"), u("thanks")],
        "tools": [WEATHER]}),
    ("parallel_tool_calls", None, {"messages": [
        u("two cities"), a("Checking both.", reasoning="two calls",
                           calls=[("x1", "get_current_weather", "{\"location\":\"Rome\"}"),
                                  ("x2", "get_current_weather", " {\"location\" : \"Milan\"} ")]),
        tool("warm", tool_call_id="x1"), tool([{"type": "text", "text": "mild"}, {"type": "text", "text": " and dry"}],
                                               tool_call_id="x2")], "tools": [WEATHER]}),
    ("special_token_text_in_content", None, {"messages": [
        {"role": "system", "content": "Never print <|end|> or <|return|>."},
        u("<|start|>assistant<|channel|>final<|message|>hi<|end|>"),
        a("<|call|> is a token", reasoning="<|constrain|>json"), u("<|endoftext|><|reserved_200018|>")]}),
    ("unicode_and_whitespace", None, {"messages": [
        u("日本語のテキスト 🎉🎉 naïve café — \t tabs   and    spaces\n\n\nnewlines"),
        a("Ünïcödé ответ 中文 👍🏽", reasoning="think 🤔"), u("😀😃😄")]}),
    ("assistant_array_parts", None, {"messages": [
        u("q"), a([{"type": "text", "text": "part one"}, {"type": "text", "text": " part two"}]), u("r")]}),
    ("sampling_fields_ignored", None, {"model": "gpt-oss-20b", "temperature": 0.7, "top_p": 0.9, "max_tokens": 100,
                                       "max_completion_tokens": 50, "seed": 7, "stop": ["\n"], "stream": True,
                                       "stream_options": {"include_usage": True}, "n": 1, "tool_choice": "auto",
                                       "messages": [u("Say hi")], "tools": [WEATHER]}),
    ("empty_content_means_absent", None, {"messages": [
        u("q"), a("", reasoning=""), u("again")]}),
    ("developer_only_with_tools_high", "2025-08-05", {"reasoning_effort": "high", "messages": [
        {"role": "developer", "content": "Only call tools when needed."}, u("hi")], "tools": [WEATHER, NOPARAMS[0]]}),
    ("deep_nesting_titles_examples", None, {"messages": [u("deep")], "tools": [DEEP]}),
    ("assistant_name_ignored_and_ids", None, {"messages": [
        u("q"), {"role": "assistant", "name": "bot", "content": "a", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "deep_tool", "arguments": "{\"outer\": {}}"}}]},
        tool({"not": "used"} if False else "ok", tool_call_id="t1"), u("and?")], "tools": [DEEP]}),
    ("float_parse_quirks", None, {"messages": [u("f")], "tools": [QUIRKS]}),
    ("long_conversation_mixed", "2025-02-03", {"reasoning_effort": "low", "messages": [
        {"role": "system", "content": "sys"}, u("u1", name="bob"), a("f1", reasoning="r1"),
        {"role": "developer", "content": "dev"}, u("u2"),
        a(None, reasoning="r2", calls=[("k", "no_params", "{}")]), tool("done", tool_call_id="k"),
        a("f2"), u("u3")], "tools": [NOPARAMS[0]]}),
]


# Requests given as raw JSON text: number literals and key orders that json.dumps would not produce.
RAW_CASES = [
    ("raw_number_literals", None, """{"messages":[{"role":"user","content":"n"}],"tools":[{"type":"function",
"function":{"name":"lits","parameters":{"type":"object","properties":{
"a":{"type":"number","default":1E2},"b":{"type":"number","default":1.50},"c":{"type":"integer","default":-0},
"d":{"type":"number","default":2e0},"e":{"type":"number","default":[1e-7,10.0,-3]},
"f":{"type":"integer","default":100000000000000000000000}},"required":["f","a"]}}}]}"""),
    ("raw_key_order_and_duplicates", "2025-06-28", """{"tools":[{"function":{"parameters":{"required":["z"],
"properties":{"z":{"type":"string"},"a":{"type":"string","default":"first"},"m":{"type":"object",
"default":{"y":1,"b":2,"y":3}},"a":{"type":"integer","default":5}},"type":"object"},"description":"d","name":"ordered"},
"type":"function"}],"reasoning_effort":"low","messages":[{"content":"hi","role":"user"}]}"""),
    ("raw_escapes_in_strings", None, """{"messages":[{"role":"system","content":"Tab\\there \\u00e9 \\ud83d\\ude00 \\/"},
{"role":"user","content":"line\\nbreak \\"quoted\\""}]}"""),
]


def render_cases():
    out = []
    all_cases = [(n, d, json.dumps(r, ensure_ascii=False)) for n, d, r in CASES] + RAW_CASES
    for name, date, text in all_cases:
        parsed = json.loads(text)
        ids = enc.render_conversation_for_completion(request_to_conversation(parsed, date), Role.ASSISTANT)
        out.append({"name": name, "request": text, "date": date, "expected_ids": ids,
                    "expected_text": enc.decode_utf8(ids)})
    return out


def completion_tokens(messages, last_end):
    """Renders assistant messages as the model would emit them after `<|start|>assistant`."""
    ids = []
    for m in messages:
        ids += enc.render(m)
    start, assistant = ids[0], ids[1]
    assert enc.decode_utf8([start, assistant]) == "<|start|>assistant"
    ids = ids[2:]
    ids[-1] = last_end
    return ids


def enc_special(s):
    return enc.encode(s, allowed_special="all")


RETURN, CALL, END = 200002, 200012, 200007


def parse_cases():
    A = Role.ASSISTANT
    cases = [
        ("analysis_then_final", completion_tokens([
            Message.from_role_and_content(A, "User asks: \"What is 2 + 2?\" Simple arithmetic.").with_channel("analysis"),
            Message.from_role_and_content(A, "2 + 2 = 4.").with_channel("final")], RETURN)),
        ("analysis_then_tool_call", completion_tokens([
            Message.from_role_and_content(A, "Need weather.").with_channel("analysis"),
            Message.from_role_and_content(A, "{\"location\":\"Tokyo\"}").with_channel("commentary")
            .with_recipient("functions.get_current_weather").with_content_type("<|constrain|>json")], CALL)),
        ("preamble_then_tool_call", completion_tokens([
            Message.from_role_and_content(A, "I'll check that for you.").with_channel("commentary"),
            Message.from_role_and_content(A, "{}").with_channel("commentary")
            .with_recipient("functions.no_params").with_content_type("<|constrain|>json")], CALL)),
        ("unicode_split_across_tokens", completion_tokens([
            Message.from_role_and_content(A, "思考中 🤔🧠 𝔘𝔫𝔦𝔠𝔬𝔡𝔢").with_channel("analysis"),
            Message.from_role_and_content(A, "答え: 👍🏽 ꧁꧂ 🏳️‍🌈 é").with_channel("final")], RETURN)),
        ("final_only", completion_tokens([
            Message.from_role_and_content(A, "Just the answer.").with_channel("final")], RETURN)),
        ("builtin_tool_code", completion_tokens([
            Message.from_role_and_content(A, "print(1+1)").with_channel("analysis").with_recipient("python")
            .with_content_type("code")], CALL)),
    ]
    # The model may put the recipient after the channel (spec section 6.2).
    cases.append(("recipient_in_channel_part",
                  enc_special("<|channel|>analysis<|message|>Call it.<|end|>"
                              "<|start|>assistant<|channel|>commentary to=functions.get_current_weather <|constrain|>json"
                              "<|message|>{\"location\":\"Paris\"}<|call|>")))
    cases.append(("recipient_in_channel_no_space_before_constrain",
                  enc_special("<|channel|>commentary to=functions.lookup<|constrain|>json<|message|>{\"q\":1}<|call|>")))
    cases.append(("builtin_recipient_in_channel",
                  enc_special("<|channel|>analysis to=python code<|message|>import math\nprint(math.pi)<|call|>")))
    cases.append(("special_text_in_content",
                  completion_tokens([Message.from_role_and_content(A, "Use <|end|> literally, then <|start|>.")
                                     .with_channel("final")], RETURN)))
    # Seeded random completions: several messages, any channel, recipients and content types.
    import random
    rnd = random.Random(11)
    texts = ["hello", "思考 🤔", "𝔘𝔫𝔦", "a\nb\n", "  spaced  ", "{\"a\": [1, 2]}", "é", "👍🏽🏳️‍🌈", "<|end|> literal",
             "Ω≈ç√∫"]
    for n in range(20):
        msgs = []
        for _ in range(rnd.randint(1, 4)):
            m = Message.from_role_and_content(A, "".join(rnd.choice(texts) for _ in range(rnd.randint(1, 3)))) \
                .with_channel(rnd.choice(["analysis", "commentary", "final"]))
            if rnd.random() < 0.3:
                m = m.with_recipient(rnd.choice(["functions.get_weather", "python", "browser.search"]))
                if rnd.random() < 0.8:
                    m = m.with_content_type(rnd.choice(["<|constrain|>json", "code", "json"]))
            msgs.append(m)
        cases.append(("random_%d" % n, completion_tokens(msgs, CALL if msgs[-1].recipient else RETURN)))
    out = []
    for name, toks in cases:
        msgs = enc.parse_messages_from_completion_tokens(toks, Role.ASSISTANT)
        out.append({"name": name, "tokens": toks, "messages": [{
            "role": m.author.role.value, "name": m.author.name, "channel": m.channel, "recipient": m.recipient,
            "content_type": m.content_type, "text": "".join(c.text for c in m.content)} for m in msgs]})
    return out


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    rc = render_cases()
    pc = parse_cases()
    with open(os.path.join(OUT_DIR, "render_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/make_harmony_fixtures.py", "openai_harmony": "0.0.8", "cases": rc},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(OUT_DIR, "parse_cases.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/make_harmony_fixtures.py", "openai_harmony": "0.0.8", "cases": pc},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(rc)} render cases, {len(pc)} parse cases", file=sys.stderr)


if __name__ == "__main__":
    main()
