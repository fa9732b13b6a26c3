"""A local stand-in for the Hugging Face Hub: the HTTP endpoints ``HfApi`` calls to publish a dataset.

Serves, on 127.0.0.1, exactly the subset of the Hub API that ``data_cards.publish`` drives through the real
``huggingface_hub`` client: repo creation, tree listing, YAML validation, preupload (every file is answered
"regular", so contents travel base64-encoded in the NDJSON commit, no LFS/Xet storage needed), commit, and
file download (HEAD + GET on /resolve/). Every request is recorded for the tests to inspect.

    with FakeHub() as hub:
        api = HfApi(endpoint=hub.url, token="hf_...")
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


@dataclass
class Repo:
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def head(self) -> str:
        return hashlib.sha1(str(len(self.commits)).encode()).hexdigest()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[Request] = []
        self.fail_status: int | None = None  # answer every request with this status when set
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def add_repo(self, repo_id: str, files: dict[str, bytes], private: bool = False) -> None:
        self.repos[repo_id] = Repo(private=private, files=dict(files))

    def calls(self, method: str, contains: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and contains in r.path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = (
                    body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
                )
                self.send_response(status)
                if not isinstance(body, bytes):
                    self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _record(self) -> Request:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlparse(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                req = Request(self.command, unquote(url.path), parse_qs(url.query), headers, body)
                hub.requests.append(req)
                return req

            def do_HEAD(self) -> None:
                self._route(self._record())

            def do_GET(self) -> None:
                self._route(self._record())

            def do_POST(self) -> None:
                self._route(self._record())

            def _route(self, req: Request) -> None:
                if hub.fail_status:
                    self._send(hub.fail_status, {"error": "refused by the test"})
                    return
                parts = req.path.strip("/").split("/")
                if req.path == "/api/repos/create":
                    return self._create(json.loads(req.body))
                if req.path == "/api/validate-yaml":
                    return self._send(200, {"errors": [], "warnings": []})
                if parts[:2] == ["api", "datasets"] and len(parts) == 4 and req.method == "GET":
                    repo = hub.repos.get("/".join(parts[2:4]))
                    if repo is None:
                        return self._send(
                            404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}
                        )
                    return self._send(
                        200, {"id": "/".join(parts[2:4]), "private": repo.private, "sha": repo.head}
                    )
                if parts[:2] == ["api", "datasets"] and len(parts) >= 5:
                    repo_id, action = "/".join(parts[2:4]), parts[4]
                    repo = hub.repos.get(repo_id)
                    if repo is None:
                        return self._send(
                            404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}
                        )
                    if action == "tree":
                        return self._send(
                            200,
                            [
                                {
                                    "type": "file",
                                    "path": p,
                                    "oid": hashlib.sha1(b).hexdigest(),
                                    "size": len(b),
                                }
                                for p, b in sorted(repo.files.items())
                            ],
                        )
                    if action == "preupload":
                        files = json.loads(req.body)["files"]
                        return self._send(
                            200,
                            {
                                "files": [
                                    {
                                        "path": f["path"],
                                        "uploadMode": "regular",
                                        "shouldIgnore": False,
                                        "oid": None,
                                    }
                                    for f in files
                                ]
                            },
                        )
                    if action == "commit":
                        return self._commit(repo_id, repo, req)
                if parts[:1] == ["datasets"] and "resolve" in parts:
                    i = parts.index("resolve")
                    repo = hub.repos.get("/".join(parts[1:i]))
                    path = "/".join(parts[i + 2 :])
                    if repo is None or path not in repo.files:
                        return self._send(
                            404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound"}
                        )
                    data = repo.files[path]
                    etag = hashlib.sha1(data).hexdigest()
                    return self._send(200, data, {"ETag": f'"{etag}"', "X-Repo-Commit": repo.head})
                self._send(404, {"error": f"fake hub: no route for {req.method} {req.path}"})

            def _create(self, payload: dict[str, Any]) -> None:
                repo_id = f"{payload['organization']}/{payload['name']}"
                if repo_id in hub.repos:
                    # The Hub answers 409 with the existing repo's URL; exist_ok=True clients read it.
                    return self._send(
                        409,
                        {
                            "error": "You already created this dataset repo",
                            "url": f"{hub.url}/datasets/{repo_id}",
                        },
                    )
                hub.repos[repo_id] = Repo(private=payload.get("visibility") == "private")
                hub.repos[repo_id].files[".gitattributes"] = (
                    b"*.parquet filter=lfs diff=lfs merge=lfs -text\n"
                )
                self._send(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})

            def _commit(self, repo_id: str, repo: Repo, req: Request) -> None:
                lines = [json.loads(line) for line in req.body.decode().splitlines() if line.strip()]
                header = next(item["value"] for item in lines if item["key"] == "header")
                added, deleted = {}, []
                for item in lines:
                    if item["key"] == "file":
                        added[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] == "deletedFile":
                        deleted.append(item["value"]["path"])
                    elif item["key"] != "header":
                        return self._send(400, {"error": f"fake hub does not take {item['key']} operations"})
                for path in deleted:
                    repo.files.pop(path, None)
                repo.files.update(added)
                repo.commits.append({"header": header, "added": added, "deleted": deleted})
                self._send(
                    200,
                    {
                        "commitUrl": f"{hub.url}/datasets/{repo_id}/commit/{repo.head}",
                        "commitOid": repo.head,
                        "pullRequestUrl": None,
                    },
                )

        return Handler
