"""A TIKTOKEN_CACHE_DIR that lets client-side tiktoken work offline, written from mockai's own vocabularies.

tiktoken downloads each vocabulary on first use and caches it under sha1(url); code under test that counts
tokens itself (langchain's OpenAIEmbeddings, litellm, your own) would try the internet. The files written
here are the ones tiktoken pins by sha256, so tiktoken accepts them as if it had downloaded them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from mockai.models import tokens

BLOBS = "https://openaipublic.blob.core.windows.net/"
FILES = {
    **{f"encodings/{name}.tiktoken": name for name in tokens.TIKTOKEN_FILES},
    "gpt-2/encodings/main/vocab.bpe": "vocab.bpe",
    "gpt-2/encodings/main/encoder.json": "encoder.json",
}
"""What tiktoken asks for (under BLOBS) -> the encoding or data-gym file that answers it."""
ENV = "TIKTOKEN_CACHE_DIR"


def default_folder() -> Path:
    """Where the cache goes unless told: $XDG_CACHE_HOME/mockai/tiktoken, else ~/.cache/..., else tmp."""
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache" if Path.home().is_dir() else None)
    return Path(base or tempfile.gettempdir()) / "mockai" / "tiktoken"


def write_cache(folder: str | os.PathLike[str] | None = None) -> Path:
    """Fill `folder` (default: `default_folder()`) with every vocabulary tiktoken may ask for; returns it.

    Files already there are kept, so after the first call this only checks that they exist."""
    target = Path(folder) if folder is not None else default_folder()
    target.mkdir(parents=True, exist_ok=True)
    gpt2: dict[str, bytes] | None = None
    for blob, source in FILES.items():
        path = target / hashlib.sha1((BLOBS + blob).encode()).hexdigest()
        if path.exists():
            continue
        if source in ("vocab.bpe", "encoder.json"):
            gpt2 = gpt2 or tokens.gpt2_files()
            data = gpt2[source]
        else:
            data = tokens.tiktoken_text(source)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: a concurrent reader sees the whole file or none
    return target
