#!/usr/bin/env python3
"""End-to-end test of `gptoss serve --model tiny` with the official `openai` Python client.

Starts the server on a free loopback port (with an API key), then checks: model listing, a plain chat
completion, a stream (with include_usage), stream == non-stream for greedy decoding, a forced tool call
and its round trip (the tool result sent back), /v1/completions, OpenAI-style errors (unknown model,
bad max_tokens, wrong key) with the server still healthy after them, /metrics, and a clean exit (0) on
SIGTERM. The tiny model's text is random, so content is checked only where it is forced (tool calls
via tool_choice naming a function); elsewhere shapes, ids, finish reasons and usage counts are checked.

Usage: tools/e2e_server.py [--binary .build/debug/gptoss] [--keep-log]
Needs: pip install openai (scripts/e2e_server.sh makes a venv for it).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import openai
from openai import OpenAI

KEY = "e2e-test-key"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, []

    def run(self, name, fn):
        try:
            fn()
            self.passed += 1
            print(f"ok   {name}", flush=True)
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            self.failed.append(name)
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=".build/debug/gptoss")
    ap.add_argument("--startup-timeout", type=float, default=300)
    args = ap.parse_args()

    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="gptoss-serve-", suffix=".log", delete=False)
    cmd = [args.binary, "serve", "--model", "tiny", "--host", "127.0.0.1", "--port", str(port),
           "--api-key", KEY, "--max-batch", "4", "--context", "512"]
    print("starting:", " ".join(cmd), flush=True)
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def server_log():
        log.flush()
        with open(log.name, errors="replace") as f:
            return f.read()

    deadline = time.time() + args.startup_timeout
    while True:
        if server.poll() is not None:
            print(server_log())
            sys.exit(f"server exited early with {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            server.kill()
            print(server_log())
            sys.exit("server did not become healthy")
        time.sleep(0.2)

    client = OpenAI(base_url=base + "/v1", api_key=KEY, max_retries=0, timeout=120)
    checks = Checks()
    state = {}

    def models():
        listed = client.models.list()
        ids = [m.id for m in listed.data]
        expect(len(ids) == 1, f"one model, got {ids}")
        state["model"] = ids[0]
    checks.run("models.list", models)
    model = state.get("model", "gpt-oss-tiny")
    messages = [{"role": "user", "content": "Say hello."}]

    def plain():
        r = client.chat.completions.create(model=model, messages=messages, max_tokens=8, temperature=0)
        expect(r.id.startswith("chatcmpl-"), r.id)
        expect(r.object == "chat.completion", r.object)
        expect(r.model == model, r.model)
        expect(len(r.choices) == 1, "one choice")
        c = r.choices[0]
        expect(c.finish_reason in ("length", "stop"), c.finish_reason)
        expect(c.message.role == "assistant", c.message.role)
        expect(r.usage.prompt_tokens > 10, f"harmony prompt has a system message: {r.usage.prompt_tokens}")
        if c.finish_reason == "length":
            expect(r.usage.completion_tokens == 8, f"length stop after 8 tokens: {r.usage.completion_tokens}")
        expect(r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, "total")
        state["plain"] = r
    checks.run("chat completion (non-stream)", plain)

    def stream():
        chunks = list(client.chat.completions.create(model=model, messages=messages, max_tokens=8, temperature=0,
                                                     stream=True, stream_options={"include_usage": True}))
        expect(len({c.id for c in chunks}) == 1, "one id per stream")
        expect(chunks[0].id.startswith("chatcmpl-"), chunks[0].id)
        expect(all(c.object == "chat.completion.chunk" for c in chunks), "chunk objects")
        expect(chunks[0].choices[0].delta.role == "assistant", "first delta has the role")
        finishes = [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]
        expect(len(finishes) == 1, f"one finish reason: {finishes}")
        usage = chunks[-1].usage
        expect(usage is not None and chunks[-1].choices == [], "usage chunk last, with no choices")
        expect(all(c.usage is None for c in chunks[:-1]), "usage only on the last chunk")
        content = "".join(ch.delta.content or "" for c in chunks for ch in c.choices)
        reasoning = "".join(getattr(ch.delta, "reasoning_content", None) or "" for c in chunks for ch in c.choices)
        plain = state.get("plain")
        if plain is not None:
            expect(usage.prompt_tokens == plain.usage.prompt_tokens, "same prompt, same prompt tokens")
            expect(usage.completion_tokens == plain.usage.completion_tokens, "greedy: same completion length")
            expect(finishes[0] == plain.choices[0].finish_reason, "same finish reason")
            expect(content == (plain.choices[0].message.content or ""), f"greedy stream == non-stream: {content!r}")
            expect(reasoning == (getattr(plain.choices[0].message, "reasoning_content", None) or ""), "same reasoning")
    checks.run("chat completion (stream, include_usage)", stream)

    def tool_round_trip():
        r = client.chat.completions.create(
            model=model, max_tokens=12, temperature=0, tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            messages=[{"role": "user", "content": "What is the weather in Paris?"}])
        c = r.choices[0]
        expect(c.finish_reason in ("tool_calls", "length"), c.finish_reason)
        calls = c.message.tool_calls or []
        expect(len(calls) == 1, f"one tool call: {calls}")
        call = calls[0]
        expect(call.type == "function", call.type)
        expect(call.id.startswith("call_") and len(call.id) > 10, call.id)
        expect(call.function.name == "get_weather", call.function.name)
        expect(isinstance(call.function.arguments, str), "arguments is a string")
        expect(c.message.content is None, f"no content beside the call: {c.message.content!r}")
        # Send the call and its result back: the conversation must render and generate again.
        follow = client.chat.completions.create(
            model=model, max_tokens=6, temperature=0, tools=[WEATHER_TOOL],
            messages=[{"role": "user", "content": "What is the weather in Paris?"},
                      {"role": "assistant", "content": None,
                       "tool_calls": [{"id": call.id, "type": "function",
                                       "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
                      {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21, "sky": "clear"}'}])
        f = follow.choices[0]
        expect(f.finish_reason in ("stop", "length", "tool_calls"), f.finish_reason)
        expect(follow.usage.prompt_tokens > r.usage.prompt_tokens, "the tool result is in the prompt")
        # Streamed forced call: id, type and name in the first tool delta, arguments after.
        chunks = list(client.chat.completions.create(
            model=model, max_tokens=12, temperature=0, tools=[WEATHER_TOOL], stream=True,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            messages=[{"role": "user", "content": "What is the weather in Paris?"}]))
        deltas = [tc for ch in chunks for choice in ch.choices for tc in (choice.delta.tool_calls or [])]
        expect(deltas and deltas[0].id and deltas[0].id.startswith("call_"), "first tool delta carries the id")
        expect(deltas[0].function.name == "get_weather", "first tool delta carries the name")
        args_text = "".join(d.function.arguments or "" for d in deltas)
        expect(args_text == call.function.arguments, "streamed arguments == non-streamed (greedy)")
    checks.run("tool call round trip (forced via tool_choice)", tool_round_trip)

    def completions():
        r = client.completions.create(model=model, prompt="Once upon a time", max_tokens=5, temperature=0)
        expect(r.id.startswith("cmpl-"), r.id)
        expect(r.object == "text_completion", r.object)
        expect(r.choices[0].finish_reason == "length", r.choices[0].finish_reason)
        expect(isinstance(r.choices[0].text, str), "text")
        expect(r.usage.completion_tokens == 5, r.usage)
        expect(r.usage.prompt_tokens == 4, f"'Once upon a time' is 4 o200k tokens: {r.usage.prompt_tokens}")
        chunks = list(client.completions.create(model=model, prompt="Once upon a time", max_tokens=5,
                                                temperature=0, stream=True))
        expect("".join(c.choices[0].text for c in chunks if c.choices) == r.choices[0].text, "stream == non-stream")
    checks.run("completions (raw prompt)", completions)

    def errors():
        try:
            client.chat.completions.create(model="no-such-model", messages=messages, max_tokens=2)
            raise AssertionError("unknown model accepted")
        except openai.NotFoundError as e:
            expect(e.status_code == 404 and e.code == "model_not_found", e)
        try:
            client.chat.completions.create(model=model, messages=messages, max_tokens=-1)
            raise AssertionError("negative max_tokens accepted")
        except openai.BadRequestError as e:
            expect(e.param == "max_tokens", e)
        try:
            client.chat.completions.create(model=model, messages=messages, max_tokens=10**9)
            raise AssertionError("huge max_tokens accepted")
        except openai.BadRequestError as e:
            expect(e.code == "context_length_exceeded", e)
        try:
            client.chat.completions.create(model=model, messages="not a list", max_tokens=2)
            raise AssertionError("messages of the wrong type accepted")
        except openai.BadRequestError as e:
            expect(e.param == "messages", e)
        bad = OpenAI(base_url=base + "/v1", api_key="wrong-key", max_retries=0)
        try:
            bad.models.list()
            raise AssertionError("wrong key accepted")
        except openai.AuthenticationError as e:
            expect(e.status_code == 401, e)
        req = urllib.request.Request(base + "/v1/chat/completions", data=b"{not json", method="POST",
                                     headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=10)
            raise AssertionError("invalid JSON accepted")
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            expect(e.code == 400 and set(body["error"]) == {"message", "type", "param", "code"}, body)
        r = client.chat.completions.create(model=model, messages=messages, max_tokens=2)
        expect(r.choices[0].finish_reason in ("length", "stop"), "still serving after errors")
    checks.run("OpenAI-style errors, server keeps serving", errors)

    def metrics():
        with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
            text = r.read().decode()
        for name in ("gptoss_http_requests_total", "gptoss_generation_tokens_total", "gptoss_queue_length",
                     "gptoss_kv_slots_in_use", "gptoss_time_to_first_token_seconds_bucket"):
            expect(name in text, f"{name} in /metrics")
        # The requests above share the harmony system prompt: later ones reuse a kept slot's prefix.
        reused = [float(l.split()[-1]) for l in text.splitlines() if l.startswith("gptoss_prompt_tokens_reused_total ")]
        expect(reused and reused[0] > 0, f"prompt tokens reused from kept KV slots: {reused}")
    checks.run("metrics", metrics)

    def sigterm():
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        expect(code == 0, f"exit code after SIGTERM: {code}")
    checks.run("SIGTERM exits 0", sigterm)
    if server.poll() is None:
        server.kill()

    total = checks.passed + len(checks.failed)
    if checks.failed:
        print(server_log()[-4000:])
        print(f"e2e_server: {len(checks.failed)} of {total} checks failed: {', '.join(checks.failed)}")
        sys.exit(1)
    print(f"e2e_server: all {total} checks passed")
    os.unlink(log.name)


if __name__ == "__main__":
    main()
