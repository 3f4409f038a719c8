"""Local stand-ins for the network: an HF daily-papers API and an OpenAI-compatible chat server.

Both listen on 127.0.0.1 only. The chat server answers like a cooperative
model by reading the JSON data block our prompts carry; tests queue special
answers (invalid JSON, 429s, slow replies, invented numbers) in front of it.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Reply = tuple[int, Any, dict[str, str]]


@contextlib.contextmanager
def serve(handle: Callable[[str, str, bytes], Reply]) -> Iterator[str]:
    """Run ``handle(method, path, body) -> (status, json_or_text, headers)`` on a loopback port."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            status, payload, headers = handle(self.command, self.path, body)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        do_GET = do_POST = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def api_paper(pid: str, title: str, summary: str, upvotes: int, keywords: list[str] | None = None) -> dict:
    """One entry shaped like the daily-papers API answer (fields we write ourselves)."""
    paper = {"id": pid, "title": title, "summary": summary, "upvotes": upvotes,
             "authors": [{"_id": "x", "name": "Ada Example"}], "publishedAt": "2026-11-19T12:00:00.000Z"}
    if keywords is not None:
        paper["ai_keywords"] = keywords
        paper["ai_summary"] = summary.split(".")[0] + "."
    return {"paper": paper, "publishedAt": "2026-11-19T12:00:00.000Z", "title": title, "numComments": 1}


class FakeHF:
    """GET /api/daily_papers?date=D from a dict of days; ``fail`` queues error statuses first."""

    def __init__(self, days: dict[str, list[dict]]) -> None:
        self.days = days
        self.fail: list[int] = []
        self.calls: list[str] = []

    def __call__(self, method: str, path: str, body: bytes) -> Reply:
        url = urlparse(path)
        self.calls.append(path)
        if self.fail:
            return self.fail.pop(0), {"error": "busy"}, {"retry-after": "0"}
        if url.path != "/api/daily_papers":
            return 404, {"error": "not found"}, {}
        day = parse_qs(url.query).get("date", [""])[0]
        return 200, self.days.get(day, []), {}


def data_of(messages: list[dict]) -> Any:
    """The JSON data block of the first user message (where our prompts put the data)."""
    first = next(m["content"] for m in messages if m["role"] == "user")
    block = re.search(r"```json\n(.*?)\n```", first, re.S)
    return json.loads(block.group(1)) if block else None


def numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))


class FakeChat:
    """POST /v1/chat/completions. ``queue`` holds replies used before the default model:
    a string is returned as the message content, an int as an HTTP status (429 with
    Retry-After 0), a float as a delay in seconds before the default answer."""

    def __init__(self) -> None:
        self.queue: list[str | int | float | Callable[[list[dict]], str]] = []
        self.requests: list[dict] = []
        self.tweak: Callable[[Any, dict], dict] = lambda _data, answer: answer  # edits default answers
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str, body: bytes) -> Reply:
        if not path.endswith("/chat/completions"):
            return 404, {"error": {"message": "not found"}}, {}
        request = json.loads(body)
        with self._lock:
            self.requests.append(request)
            special = self.queue.pop(0) if self.queue else None
        if isinstance(special, int) and not isinstance(special, bool):
            return special, {"error": {"message": "slow down", "type": "rate_limit"}}, {"retry-after": "0"}
        if isinstance(special, float):
            time.sleep(special)
            special = None
        messages = request["messages"]
        if callable(special):
            content = special(messages)
        elif isinstance(special, str):
            content = special
        else:
            content = json.dumps(self.tweak(data_of(messages), self.answer(messages)), ensure_ascii=False)
        reply = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": request["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}],
                 "usage": {"prompt_tokens": len(body) // 3, "completion_tokens": len(content) // 2,
                           "total_tokens": len(body) // 3 + len(content) // 2}}
        return 200, reply, {}

    def answer(self, messages: list[dict]) -> dict:
        system = messages[0]["content"]
        data = data_of(messages)
        if "译者" in system:
            return {"papers": [translate(p) for p in data]}
        if isinstance(data, dict) and "abstract" in data:
            return paper_dialogue(data)
        if isinstance(data, dict) and "paper_count" in data:
            return {"paper_id": "opening", "lines": [
                {"speaker": "A", "text": f"大家好，今天是{data['date']}，{data['weekday']}。"},
                {"speaker": "B", "text": f"今天一共有{data['paper_count']}篇论文，我们马上开始。"}]}
        return {"paper_id": "closing", "lines": [
            {"speaker": "A", "text": "今天就聊到这里，论文链接都在节目简介里。"},
            {"speaker": "B", "text": "明天见！"}]}


def translate(paper: dict) -> dict:
    """A 'translation' that keeps every figure and name, as the rules demand."""
    names = [t for t in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*", paper["title"])
             if re.search(r"\d", t) or re.search(r"[a-z][A-Z]", t)]
    title = ("、".join(names) + "：" if names else "") + "一项关于模型训练的新研究"
    loose = numbers(re.sub(r"[A-Za-z]+\d[\w.-]*|\w*[a-z][A-Z]\w*", "", paper["title"]))
    if loose:
        title += "，编号" + "、".join(loose)
    figures = numbers(paper["abstract"])
    abstract = "我们提出了一种新的训练方法，用来解决大模型推理成本高的问题。"
    if figures:
        abstract += "实验表明，它在基准上的成绩依次为" + "、".join(figures) + "。"
    names = [t for t in re.findall(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*", paper["abstract"])
             if (re.search(r"\d", t) and re.search(r"[A-Za-z]", t)) or re.search(r"[a-z][A-Z]", t)]
    if names:
        abstract += "涉及的模型包括" + "、".join(dict.fromkeys(names)) + "。"
    return {"id": paper["id"], "title": title, "abstract": abstract}


def paper_dialogue(data: dict) -> dict:
    figures = numbers(data["abstract"])
    first = data["abstract"].split("。")[0].replace("我们", "作者") + "。"
    lines = [{"speaker": "A", "text": f"接下来聊《{data['title']}》。"},
             {"speaker": "B", "text": "它想解决什么问题？"},
             {"speaker": "A", "text": first},
             {"speaker": "B", "text": "那效果怎么样？"},
             {"speaker": "A", "text": f"成绩达到了{figures[0]}。" if figures else "效果很稳定。"},
             {"speaker": "B", "text": "嗯，很有意思。"}]
    return {"paper_id": data["paper_id"], "lines": lines}
