"""Reading and decoding a submitted file: bytes (carefully), text (whatever its encoding), cells."""

from __future__ import annotations

import ast
import codecs
import contextlib
import errno
import json
import os
import stat
from dataclasses import dataclass

import nbformat

from autograder.config import MAX_FILE_BYTES


def read_submission(path: str) -> tuple[bytes, str | None]:
    """The bytes of a submitted file and, when it cannot be used, why.

    Never follows a symbolic link, never opens anything but a regular file (a FIFO would block)
    and never reads more than MAX_FILE_BYTES + 1 bytes.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return b"", "the notebook file is missing: nothing was submitted."
    except OSError as e:
        if e.errno == errno.ELOOP:
            return b"", "the notebook is a symbolic link, which is not accepted."
        return b"", f"the notebook file could not be read ({e.strerror})."
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return b"", "the submission is not a regular file."
        if st.st_size > MAX_FILE_BYTES:
            return b"", (
                f"the notebook is {st.st_size / 1e6:.0f} MB, over the {MAX_FILE_BYTES >> 20} MB "
                "limit, and was not read: clear the outputs (Kernel > Restart and clear "
                "outputs), save and submit again."
            )
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        raw = b"".join(chunks)
        if len(raw) > MAX_FILE_BYTES:
            return b"", f"the notebook is over the {MAX_FILE_BYTES >> 20} MB limit."
        return raw, None
    except OSError as e:
        return b"", f"the notebook file could not be read ({e.strerror})."
    finally:
        os.close(fd)


BINARY_KINDS = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or a .docx/.xlsx file)",
    b"\x7fELF": "a program (ELF)",
    b"\x1f\x8b": "a gzip archive",
}
BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
SAVE_AS_UTF8 = "Save the notebook from Jupyter, which writes UTF-8, and submit that file."


def notebook_text(raw: bytes) -> tuple[str | None, list[str]]:
    """Decode a submitted file: (text or None, findings). UTF-8 is expected; UTF-16/32 with a
    byte-order mark and Latin-1 are read too, with a finding, so a student's work is graded."""
    if not raw.strip():
        return None, ["the file is empty: nothing was submitted."]
    for magic, what in BINARY_KINDS.items():
        if raw.startswith(magic):
            return None, [f"the file is {what}, not a notebook (.ipynb)."]
    for bom, codec, name in BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                return None, [f"the file starts like {name} text but is not valid {name}."]
            if name == "UTF-8":
                return text, []
            return text, [
                f"the file is {name} text, not UTF-8; it was read as {name}. {SAVE_AS_UTF8}"
            ]
    if b"\x00" in raw[:64]:  # UTF-16/32 without a byte-order mark, or binary data
        enc = json.detect_encoding(raw)
        if enc != "utf-8":
            with contextlib.suppress(UnicodeDecodeError):
                text = raw.decode(enc)
                if not text.lstrip().startswith("{"):  # a notebook is a JSON object
                    raise UnicodeDecodeError(enc, raw, 0, 1, "not JSON")
                name = enc.upper().replace("-LE", "").replace("-BE", "")
                return text, [
                    f"the file is {name} text, not UTF-8; it was read as {name}. {SAVE_AS_UTF8}"
                ]
        return None, ["the file is binary data, not a notebook (.ipynb)."]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as e:
        start = e.start
    return raw.decode("latin-1"), [
        f"the file is not valid UTF-8 (byte 0x{raw[start]:02x} at offset {start}); it was read "
        f"as Latin-1, so accented letters may look wrong. {SAVE_AS_UTF8}"
    ]


@dataclass
class CellView:
    """One submitted cell, reduced to well-typed fields whatever the JSON held."""

    cell_type: str
    source: str
    grade_id: str | None
    nbgrader: dict


def _view(c) -> CellView:
    if not isinstance(c, dict):
        return CellView("", "", None, {})
    cell_type = c.get("cell_type") if isinstance(c.get("cell_type"), str) else ""
    src = c.get("source", "")
    if isinstance(src, list):
        src = "".join(s for s in src if isinstance(s, str))
    elif not isinstance(src, str):
        src = ""
    meta = c.get("metadata")
    nb = meta.get("nbgrader") if isinstance(meta, dict) else None
    nb = nb if isinstance(nb, dict) else {}
    gid = nb.get("grade_id")
    return CellView(cell_type, src, gid if isinstance(gid, str) and gid else None, nb)


def _looks_like_python(text: str) -> bool:
    if text.lstrip().startswith(("{", "[")) or len(text) > 2_000_000:
        return False
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(n, (ast.FunctionDef, ast.Import, ast.ImportFrom)) for n in tree.body)


def parse_notebook(text: str) -> tuple[list[CellView] | None, str | None]:
    """The cells of a notebook's JSON text, or None and what is wrong with it."""
    try:
        data = json.loads(text)
    except RecursionError:
        return None, "the file is not a notebook: its JSON is nested far too deeply."
    except ValueError as e:
        if _looks_like_python(text):
            return None, (
                "the file is Python source code, not a notebook: submit the .ipynb file that "
                "Jupyter saves (a renamed .py file is not a notebook)."
            )
        where = f" (line {e.lineno}, column {e.colno})" if hasattr(e, "lineno") else ""
        return None, f"the file is not a notebook: it is not valid JSON{where}."
    if not isinstance(data, dict) or not isinstance(
        data.get("cells", data.get("worksheets")), list
    ):
        return None, "the file is JSON but not a notebook (it has no list of cells)."
    if data.get("nbformat") == 3:
        try:
            nb = nbformat.reads(text, as_version=4)
            data = json.loads(nbformat.writes(nb))
        except Exception:
            return None, "the file is an old (version 3) notebook that could not be converted."
    cells = data.get("cells")
    if not isinstance(cells, list):
        return None, "the file is JSON but not a notebook (it has no list of cells)."
    return [_view(c) for c in cells], None
