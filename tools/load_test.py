#!/usr/bin/env python3
"""Bounded load test of a running `gptoss serve` on loopback: hundreds of concurrent streaming clients.

Python standard library only (asyncio + raw HTTP/1.1), so it runs anywhere the server does.

1. Reference: each of --prompts distinct prompts is sent once, alone, greedy (temperature 0).
2. Load: --clients coroutines each send streaming chat requests back to back (prompt chosen by client
   and round) until --duration seconds have passed; requests in flight then finish (hard cap
   --duration + --drain seconds, after which the run stops and reports what was cut off as failures).
Every response is checked: HTTP 200 + text/event-stream, one chatcmpl id per stream and never seen
before, exactly one finish_reason, a usage chunk, `data: [DONE]` last, and the content and completion
token count equal to the reference for that prompt (greedy decoding is batch-invariant, so any
difference means a mixed-up or corrupted stream). Prints throughput and latency percentiles; exits 1
on any failed or mismatched response.

Usage: tools/load_test.py --port 8000 [--clients 300] [--duration 30] [--max-tokens 16] [--api-key KEY]
Only 127.0.0.1 / ::1 / localhost are accepted as hosts.
"""
import argparse
import asyncio
import json
import sys
import time

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


async def stream_chat(host, port, key, prompt, max_tokens, timeout):
    """One streaming request. Returns a dict with the parsed stream, or raises with what went wrong."""
    body = json.dumps({
        "model": None, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
        "temperature": 0, "stream": True, "stream_options": {"include_usage": True},
    }).replace('"model": null, ', "").encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n")
    if key:
        head += f"Authorization: Bearer {key}\r\n"
    start = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        if not status_line.startswith(b"HTTP/1.1 200"):
            rest = await asyncio.wait_for(reader.read(), timeout)
            raise RuntimeError(f"status {status_line.decode().strip()}: {rest[-300:]!r}")
        headers = {}
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout)
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("content-type") != "text/event-stream":
            raise RuntimeError(f"content-type {headers.get('content-type')}")
        chunked = headers.get("transfer-encoding") == "chunked"
        raw = await asyncio.wait_for(reader.read(), timeout)  # Connection: close → read to EOF
        first_byte = None
        if chunked:
            data, pos = b"", 0
            while True:
                end = raw.index(b"\r\n", pos)
                size = int(raw[pos:end].split(b";")[0], 16)
                if size == 0:
                    break
                data += raw[end + 2:end + 2 + size]
                pos = end + 2 + size + 2
            raw = data
        elapsed = time.perf_counter() - start
    finally:
        writer.close()
    frames = [f for f in raw.decode().split("\n\n") if f]
    if not frames or frames[-1] != "data: [DONE]":
        raise RuntimeError(f"stream does not end with [DONE]: {frames[-1:]!r}")
    events = [json.loads(f[len("data: "):]) for f in frames[:-1]]
    if any("error" in e for e in events):
        raise RuntimeError(f"error event: {[e for e in events if 'error' in e][0]}")
    ids = {e.get("id") for e in events}
    if len(ids) != 1:
        raise RuntimeError(f"{len(ids)} ids in one stream")
    finishes = [c.get("finish_reason") for e in events for c in e.get("choices", []) if c.get("finish_reason")]
    if len(finishes) != 1:
        raise RuntimeError(f"finish reasons {finishes}")
    usage = events[-1].get("usage")
    if not usage or events[-1].get("choices") != []:
        raise RuntimeError("no usage chunk at the end")
    content = "".join(c.get("delta", {}).get("content") or "" for e in events for c in e.get("choices", []))
    reasoning = "".join(c.get("delta", {}).get("reasoning_content") or "" for e in events for c in e.get("choices", []))
    return {"id": ids.pop(), "content": content, "reasoning": reasoning, "finish": finishes[0],
            "completion_tokens": usage["completion_tokens"], "latency": elapsed}


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--api-key")
    ap.add_argument("--clients", type=int, default=300)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--drain", type=float, default=120)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    if args.host not in LOOPBACK:
        sys.exit(f"load_test: refusing non-loopback host {args.host}")

    prompts = [f"Request family {i}: tell me about the number {i * 7919 % 1000}." for i in range(args.prompts)]
    reference = []
    for p in prompts:
        r = await stream_chat(args.host, args.port, args.api_key, p, args.max_tokens, args.timeout)
        reference.append(r)
    print(f"reference: {len(reference)} prompts, completion tokens {[r['completion_tokens'] for r in reference]}", flush=True)

    seen_ids = set()
    ok, latencies, tokens = 0, [], 0
    failures = {}
    mismatches = 0
    t0 = time.perf_counter()
    deadline = t0 + args.duration

    async def client(cid):
        nonlocal ok, tokens, mismatches
        round_ = 0
        while time.perf_counter() < deadline:
            k = (cid + round_) % len(prompts)
            round_ += 1
            try:
                r = await stream_chat(args.host, args.port, args.api_key, prompts[k], args.max_tokens, args.timeout)
            except Exception as e:  # noqa: BLE001 - every failure is counted by kind
                kind = f"{type(e).__name__}: {str(e)[:120]}"
                failures[kind] = failures.get(kind, 0) + 1
                continue
            ref = reference[k]
            if r["id"] in seen_ids:
                failures["duplicate id"] = failures.get("duplicate id", 0) + 1
                continue
            seen_ids.add(r["id"])
            if (r["content"], r["reasoning"], r["completion_tokens"], r["finish"]) != \
               (ref["content"], ref["reasoning"], ref["completion_tokens"], ref["finish"]):
                mismatches += 1
                continue
            ok += 1
            tokens += r["completion_tokens"]
            latencies.append(r["latency"])

    tasks = [asyncio.create_task(client(i)) for i in range(args.clients)]
    done, pending = await asyncio.wait(tasks, timeout=args.duration + args.drain)
    for t in pending:
        t.cancel()
    cut = len(pending)
    wall = time.perf_counter() - t0
    failed = sum(failures.values())
    print(f"clients {args.clients}, duration {args.duration:.0f} s (wall {wall:.1f} s incl. drain), max_tokens {args.max_tokens}")
    print(f"responses ok {ok}, failed {failed}, mismatched {mismatches}, clients cut off {cut}")
    for kind, n in sorted(failures.items(), key=lambda kv: -kv[1]):
        print(f"  {n} × {kind}")
    if latencies:
        print(f"throughput {ok / wall:.1f} req/s, {tokens / wall:.1f} completion tok/s")
        print(f"latency (request → [DONE]) p50 {percentile(latencies, 50):.3f} s, p90 {percentile(latencies, 90):.3f} s, "
              f"p99 {percentile(latencies, 99):.3f} s, max {max(latencies):.3f} s")
    sys.exit(0 if failed == 0 and mismatches == 0 and cut == 0 and ok > 0 else 1)


if __name__ == "__main__":
    asyncio.run(main())
