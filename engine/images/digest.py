"""Digests of an image set, and an optional signature over them, in the inventory's Stasis extension.

The dump hashes every image file it wrote (pages included) once they are complete and records name, size
and digest; inventory.img, written last, holds the list. Restore checks the list before it reads anything
else: a file that is missing, has another size or another digest, or an image file the list does not name,
is refused naming the file — damage in transit is never restored as different memory or state. With a key
(--sign-key / --verify-key, HMAC-SHA256 over the inventory entry) an alteration is refused too: without the
key nobody can make a digest list that verifies. Images written before digests existed still load (the log
says they are unchecked).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from google.protobuf import unknown_fields

from engine.errors import ImageError
from engine.images.pb import inventory_pb2

try:  # several GB/s, multi-threaded over a mapped file
    import blake3 as _blake3
except ImportError:  # pragma: no cover - the dependency is declared
    _blake3 = None

CHUNK = 8 << 20
SIGNATURE_ALGO = "hmac-sha256"
INVENTORY = "inventory.img"


def algo() -> str:
    return "blake3" if _blake3 is not None else "sha256"


def is_image(name: str) -> bool:
    """The files of a directory that belong to the image set (logs and the like do not)."""
    return (name.endswith(".img") or name in ("stats-dump",)) and name != INVENTORY


def file_digest(path: Path, algo_name: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not os.path.isfile(f"/proc/self/fd/{fd}"):
            raise ImageError(path, "not a regular file")
        if algo_name == "blake3" and _blake3 is not None:
            h = _blake3.blake3(max_threads=_blake3.blake3.AUTO)
            if os.fstat(fd).st_size:
                h.update_mmap(f"/proc/self/fd/{fd}")
            return h.digest()
        if algo_name != "sha256":
            raise ImageError(path, f"digest algorithm {algo_name!r} is not available")
        s = hashlib.sha256()
        while chunk := os.read(fd, CHUNK):
            s.update(chunk)
        return s.digest()
    finally:
        os.close(fd)


def record(root: Path, inv: inventory_pb2.inventory_entry) -> None:
    """Digests of every image file in `root` into the inventory (called after the last image but it)."""
    x = inv.stasis
    x.digest_algo = algo()
    del x.digests[:]
    for name in sorted(n for n in os.listdir(root) if is_image(n)):
        p = root / name
        size = p.stat().st_size
        x.digests.add(name=name, size=size, digest=file_digest(p, x.digest_algo))


def refresh(root: Path, sign_key: str | None) -> None:
    """An image was written again after the inventory (a module that can only finish when the tree is about
    to be killed): the digests, checksum and signature again, the inventory replaced atomically."""
    from engine.images.reader import read_one
    from engine.images.writer import write_image

    inv = read_one(root / INVENTORY, "INVENTORY")
    assert isinstance(inv, inventory_pb2.inventory_entry)
    record(root, inv)
    if sign_key:
        sign(inv, read_key(sign_key))
    else:
        seal(inv)
    tmp = root / (INVENTORY + ".tmp")
    write_image(tmp, "INVENTORY", inv)
    os.replace(tmp, root / INVENTORY)


def _precise(path: Path) -> None:
    """A damaged protobuf image: its decoding error, if it has one, says where (file and offset)."""
    from engine.images.reader import read_image

    if path.name.startswith("pages-"):
        return  # raw pages: no structure to say more
    try:
        read_image(path)
    except ImageError:
        raise
    except Exception:  # noqa: BLE001 - the digest message below is the answer then
        return


def _signed_bytes(inv: inventory_pb2.inventory_entry) -> bytes:
    copy = inventory_pb2.inventory_entry()
    copy.CopyFrom(inv)
    copy.stasis.ClearField("signature")
    copy.stasis.ClearField("signature_algo")
    copy.stasis.ClearField("self_digest")
    return copy.SerializeToString(deterministic=True)


def _sealed_bytes(inv: inventory_pb2.inventory_entry) -> bytes:
    """All of the inventory but its own checksum: a signature added to (or changed in) it is damage too."""
    copy = inventory_pb2.inventory_entry()
    copy.CopyFrom(inv)
    copy.stasis.ClearField("self_digest")
    return copy.SerializeToString(deterministic=True)


def seal(inv: inventory_pb2.inventory_entry) -> None:
    """The inventory's own checksum (damage of the inventory itself; an alteration needs the signature)."""
    inv.stasis.self_digest = hashlib.sha256(_sealed_bytes(inv)).digest()


def read_key(path: str) -> bytes:
    try:
        key = Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(path, f"cannot read the key: {exc.strerror}") from None
    if len(key) < 16:
        raise ImageError(path, f"a key of {len(key)} bytes is too short (at least 16)")
    return key


def sign(inv: inventory_pb2.inventory_entry, key: bytes) -> None:
    inv.stasis.signature_algo = SIGNATURE_ALGO
    inv.stasis.signature = hmac.new(key, _signed_bytes(inv), hashlib.sha256).digest()
    seal(inv)


def verify(root: Path, inv: inventory_pb2.inventory_entry, key: bytes | None) -> str:
    """Raise ImageError naming the first file that is not the dump's; returns what was checked (for the
    log)."""
    inv_path = root / INVENTORY
    # criu's inventory fields are few and small; ours is field 1000: a high unknown one is ours with its tag
    # damaged, which would make the set look like an older one without digests
    odd = sorted({f.field_number for f in unknown_fields.UnknownFieldSet(inv)} - set(range(100)))
    if odd:
        raise ImageError(inv_path, f"fields no dump writes ({', '.join(map(str, odd))}): damaged")
    x = inv.stasis
    if x.HasField("self_digest") and hashlib.sha256(_sealed_bytes(inv)).digest() != x.self_digest:
        raise ImageError(inv_path, "the inventory's checksum does not match: damaged or changed")
    if (x.digests or x.HasField("signature")) and not x.HasField("self_digest"):  # sealed dumps have both
        raise ImageError(inv_path, "the inventory lists digests but has no checksum of its own: damaged")
    if key is not None:
        if not x.HasField("signature"):
            raise ImageError(inv_path, "the images are not signed, and --verify-key asks for a signature")
        if x.signature_algo != SIGNATURE_ALGO:
            raise ImageError(inv_path, f"signature algorithm {x.signature_algo!r} is not {SIGNATURE_ALGO}")
        want = hmac.new(key, _signed_bytes(inv), hashlib.sha256).digest()
        if not hmac.compare_digest(want, x.signature):
            raise ImageError(inv_path, "bad signature: the images were changed after the dump, or the key "
                                       "is not the dump's")
    if not x.digests:
        return "no digests (images of an older dump): not checked"
    listed = {d.name: d for d in x.digests}
    for name in sorted(n for n in os.listdir(root) if is_image(n)):
        if name not in listed:
            raise ImageError(root / name, "an image file the dump did not write (not in the inventory's "
                                          "digests)")
    for d in x.digests:
        p = root / d.name
        if os.sep in d.name or d.name in (".", "..") or not is_image(d.name):
            raise ImageError(inv_path, f"digest list names {d.name!r}, which is not an image file")
        try:
            size = p.lstat().st_size
        except FileNotFoundError:
            raise ImageError(p, "missing (the dump wrote it)") from None
        if size != d.size:
            _precise(p)
            raise ImageError(p, f"{size} bytes, the dump wrote {d.size}: damaged or changed")
        if file_digest(p, x.digest_algo) != d.digest:
            _precise(p)
            raise ImageError(p, f"{x.digest_algo} digest differs from the dump's: damaged or changed")
    return f"{len(x.digests)} image files match their {x.digest_algo} digests" + (" and the signature"
                                                                                 if key else "")
