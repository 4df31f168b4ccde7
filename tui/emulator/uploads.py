"""The Uploads API, for files too big for one request: create an upload, add parts (each at
most 64 MB, in parallel if you like), complete it with the parts in order (the bytes must add
up to what was announced), or cancel it. Completing creates an ordinary file.

An upload expires an hour after it was created, as on the real API.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tui.emulator.errors import ApiError, invalid, missing
from tui.emulator.store import FILE_PURPOSES, Ids, Store, now
from tui.emulator.validation import check_upload_name, check_upload_text
from tui.emulator.wire import form_body, json_body, json_response

MAX_TOTAL = 8 * 1024**3
MAX_PART = 64 * 1024**2
EXPIRES_SECONDS = 3600
_MIN_FILE_EXPIRY, _MAX_FILE_EXPIRY = 3600, 2_592_000


@dataclass
class PendingUpload:
    data: dict[str, Any]  # the Upload object
    parts: dict[str, bytes] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.data["status"] == "pending" and now() > self.data["expires_at"]:
            self.data["status"] = "expired"
            self.parts.clear()
        return str(self.data["status"])


def _file_expiry(raw: object) -> int | None:
    """Seconds after creation the completed file expires (`expires_after`), or None."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("anchor") != "created_at":
        raise invalid("expires_after.anchor", "expected 'created_at'.")
    seconds = raw.get("seconds")
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not _MIN_FILE_EXPIRY <= seconds <= _MAX_FILE_EXPIRY
    ):
        raise invalid(
            "expires_after.seconds",
            f"expected {_MIN_FILE_EXPIRY} to {_MAX_FILE_EXPIRY} seconds, but got {seconds!r}.",
        )
    return seconds


class UploadRoutes:
    """`/v1/uploads` and its parts; completed uploads become files in the `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ids = Ids(f"{store.seed}:uploads")
        self.uploads: dict[str, PendingUpload] = {}
        self.file_expiry: dict[str, int | None] = {}

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/uploads", self.create)
        router.add_post("/v1/uploads/{upload_id}/parts", self.add_part)
        router.add_post("/v1/uploads/{upload_id}/complete", self.complete)
        router.add_post("/v1/uploads/{upload_id}/cancel", self.cancel)

    def _pending(self, request: web.Request) -> PendingUpload:
        """The upload the path names, if it can still take parts, be completed or cancelled."""
        upload_id = request.match_info["upload_id"]
        upload = self.uploads.get(upload_id)
        if upload is None:
            raise ApiError(404, f"No such upload: '{upload_id}'", param="upload_id")
        if upload.status != "pending":
            raise ApiError(
                400,
                f"Upload {upload_id} is {upload.status}; only a pending upload can take this.",
                param="upload_id",
                code="invalid_upload_status",
            )
        return upload

    async def create(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        for name in ("filename", "purpose", "bytes", "mime_type"):
            if body.get(name) is None:
                raise missing(name)
        filename, purpose, size, mime = (
            body["filename"],
            body["purpose"],
            body["bytes"],
            body["mime_type"],
        )
        if not isinstance(filename, str) or not filename:
            raise invalid("filename", "expected a non-empty string.", "invalid_type")
        if purpose not in FILE_PURPOSES:
            raise invalid(
                "purpose",
                f"expected one of {', '.join(FILE_PURPOSES)}, but got {purpose!r} instead.",
            )
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TOTAL:
            raise invalid("bytes", f"expected an integer from 0 to {MAX_TOTAL}, got {size!r}.")
        if not isinstance(mime, str) or not mime:
            raise invalid("mime_type", "expected a MIME type such as 'text/jsonl'.")
        if purpose == "fine-tune":
            check_upload_name(filename, param="filename")
        expiry = _file_expiry(body.get("expires_after"))
        created = now()
        upload_id = self.ids.new("upload_")
        data = {
            "id": upload_id,
            "object": "upload",
            "bytes": size,
            "created_at": created,
            "filename": filename,
            "purpose": purpose,
            "status": "pending",
            "expires_at": created + EXPIRES_SECONDS,
            "file": None,
        }
        self.uploads[upload_id] = PendingUpload(data)
        self.file_expiry[upload_id] = expiry
        return json_response(data)

    async def add_part(self, request: web.Request) -> web.Response:
        self._pending(request)  # refused before reading a big body
        form = await form_body(request)
        upload = self._pending(request)  # it may have been cancelled meanwhile
        field_ = form.get("data")
        if isinstance(field_, web.FileField):
            chunk = field_.file.read()
        elif isinstance(field_, str | bytes | bytearray):
            chunk = field_.encode() if isinstance(field_, str) else bytes(field_)
        else:
            raise missing("data")
        if len(chunk) > MAX_PART:
            raise invalid("data", f"a part holds at most {MAX_PART} bytes, got {len(chunk)}.")
        received = sum(len(p) for p in upload.parts.values()) + len(chunk)
        if received > upload.data["bytes"]:
            raise invalid(
                "data",
                f"the parts add up to {received} bytes, more than the {upload.data['bytes']} "
                "announced when the upload was created.",
            )
        part_id = self.ids.new("part_")
        upload.parts[part_id] = chunk
        return json_response(
            {
                "id": part_id,
                "object": "upload.part",
                "created_at": now(),
                "upload_id": upload.data["id"],
            }
        )

    async def complete(self, request: web.Request) -> web.Response:
        upload = self._pending(request)
        body = await json_body(request)
        part_ids = body.get("part_ids")
        if part_ids is None:
            raise missing("part_ids")
        if not isinstance(part_ids, list) or not all(isinstance(p, str) for p in part_ids):
            raise invalid("part_ids", "expected an array of part ids.", "invalid_type")
        unknown = [p for p in part_ids if p not in upload.parts]
        if unknown or len(set(part_ids)) != len(part_ids):
            what = f"unknown part {unknown[0]!r}" if unknown else "a part listed twice"
            raise invalid("part_ids", f"{what} for upload {upload.data['id']}.")
        content = b"".join(upload.parts[p] for p in part_ids)
        if len(content) != upload.data["bytes"]:
            raise ApiError(
                400,
                f"The number of bytes uploaded ({len(content)}) does not match the number of "
                f"bytes specified when creating the Upload ({upload.data['bytes']}).",
                param="part_ids",
            )
        md5 = body.get("md5")
        if md5 is not None and md5 != hashlib.md5(content).hexdigest():
            raise invalid("md5", "does not match the md5 checksum of the uploaded parts.")
        if upload.data["purpose"] == "fine-tune":
            await asyncio.to_thread(check_upload_text, content, param="part_ids")
        expiry = self.file_expiry.pop(upload.data["id"], None)
        meta = self.store.add_file(
            upload.data["filename"],
            upload.data["purpose"],
            content,
            None if expiry is None else now() + expiry,
        )
        upload.parts.clear()
        upload.data.update(status="completed", file=meta)
        return json_response(upload.data)

    async def cancel(self, request: web.Request) -> web.Response:
        upload = self._pending(request)
        upload.parts.clear()
        upload.data["status"] = "cancelled"
        return json_response(upload.data)
