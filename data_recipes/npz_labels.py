"""Read label files that NumPy saved as pickled object arrays (MERTools' ``label-6way.npz``) without unpickling.

MERTools writes its label corpora with ``np.savez_compressed(train_corpus=
{name: {"emo": ..., "val": ...}})``: each member is a 0-d object array, so
``np.load`` needs ``allow_pickle=True``, and a pickle can run any code its
author put in it. This module never calls the unpickler. It walks the pickle
opcodes itself and builds only plain data: str, int, float, bool, None,
bytes, lists, tuples and dicts, plus the few NumPy constructors an object
array and its scalars are made of (``_reconstruct``, ``ndarray``, ``dtype``,
``scalar`` for numeric and unicode dtypes, and protocol 2's latin-1 bytes), evaluated here, never imported by
name. Any other global, or any opcode outside that set, stops the read with
a one-line ``AffectLLMError`` naming the file: nothing in the file runs.

    read_object_npz(Path("label-6way.npz")) -> {"train_corpus": {...}, "test1_corpus": {...}}
"""

from __future__ import annotations

import io
import pickletools
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from affectllm.core.errors import AffectLLMError

# The only globals a NumPy object array of plain data pickles to (NumPy 1.x and 2.x module names).
_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}
_SCALAR = {("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}
_NDARRAY = ("numpy", "ndarray")
_DTYPE = ("numpy", "dtype")
_LATIN1_BYTES = ("_codecs", "encode")  # how protocol 2 spells a bytes literal
_SIMPLE_DTYPE = re.compile(r"^(?:[fiub]\d{1,2}|U\d{1,6}|O\d?)$")


class _Refused(Exception):
    pass


class _Global:
    def __init__(self, module: str, name: str):
        self.key = (module, name)


class _DType:
    def __init__(self, code: str):
        self.code, self.order = code, "<"


class _Array:
    def __init__(self):
        self.value: Any = None


class _Mark:
    pass


def _reduce(func: Any, args: Any) -> Any:
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise _Refused("a call to something that is not a NumPy array constructor")
    if func.key in _RECONSTRUCT:
        return _Array()
    if func.key == _LATIN1_BYTES and len(args) == 2 and isinstance(args[0], str) and args[1] == "latin1":
        return args[0].encode("latin1")
    if func.key == _DTYPE:
        code = str(args[0]) if args else ""
        if not _SIMPLE_DTYPE.match(code):
            raise _Refused(f"dtype {code!r}")
        return _DType(code)
    if func.key in _SCALAR:
        dtype, raw = args[0], args[1] if len(args) > 1 else b""
        if not isinstance(dtype, _DType) or not isinstance(raw, bytes) or dtype.code.startswith("O"):
            raise _Refused("a NumPy scalar that is not plain numeric or text data")
        if dtype.code.startswith("U"):
            return raw.decode("utf-32-le" if dtype.order != ">" else "utf-32-be").rstrip("\x00")
        return np.frombuffer(raw, dtype=np.dtype(dtype.code).newbyteorder(dtype.order))[0].item()
    raise _Refused(f"{func.key[0]}.{func.key[1]}")


def _build(obj: Any, state: Any) -> Any:
    if isinstance(obj, _DType):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            obj.order = state[1]
        return obj
    if isinstance(obj, _Array) and isinstance(state, tuple) and len(state) == 5:
        _, shape, dtype, _, data = state
        if not isinstance(dtype, _DType) or not dtype.code.startswith("O") or not isinstance(data, list):
            raise _Refused("an array that is not a plain object array")
        obj.value = data[0] if shape == () and data else data
        return obj
    raise _Refused("object state")


MAX_NODES = 20_000_000  # shared references could otherwise expand a small file into an enormous tree


def _plain(value: Any, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise _Refused("structure that expands beyond any label file")
    if isinstance(value, _Array):
        return _plain(value.value, budget)
    if isinstance(value, dict):
        return {_plain(k, budget): _plain(v, budget) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, budget) for v in value]
    if isinstance(value, (_Global, _DType, _Mark)):
        raise _Refused("a bare NumPy object")
    return value


# Opcodes that push their argument, a constant or an empty container.
_LITERALS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING",
                       "STRING", "SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "BININT", "BININT1", "BININT2", "LONG1",
                       "LONG4", "INT", "LONG", "BINFLOAT", "FLOAT"})
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_EMPTY = {"EMPTY_DICT": dict, "EMPTY_LIST": list, "EMPTY_TUPLE": tuple}
_CONTAINER_OPS = frozenset({"TUPLE1", "TUPLE2", "TUPLE3", "TUPLE", "LIST", "DICT", "APPEND", "APPENDS", "SETITEM",
                            "SETITEMS"})
_MEMO_OPS = frozenset({"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "GET", "BINGET", "LONG_BINGET"})
_CALL_OPS = frozenset({"GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD"})


class _Machine:
    """The pickle stack machine restricted to the opcodes above; calls go to ``_reduce``/``_build``, which only
    model the NumPy constructors, so nothing named in the file is ever imported or run."""

    def __init__(self):
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}

    def run(self, data: bytes) -> Any:
        for op, arg, _ in pickletools.genops(data):
            if op.name == "STOP":
                try:
                    return _plain(self.stack.pop(), [MAX_NODES])
                except RecursionError:
                    raise _Refused("self-referencing structure") from None
            self.step(op.name, arg)
        raise _Refused("no STOP opcode")

    def step(self, name: str, arg: Any) -> None:
        if name in ("PROTO", "FRAME"):
            return
        if name in _LITERALS:
            self.stack.append(arg)
        elif name in _CONSTANTS:
            self.stack.append(_CONSTANTS[name])
        elif name == "MARK":
            self.stack.append(_Mark())
        elif name in _EMPTY:
            self.stack.append(_EMPTY[name]())
        elif name in _CONTAINER_OPS:
            self.container(name)
        elif name in _MEMO_OPS:
            self.memory(name, arg)
        elif name in _CALL_OPS:
            self.call(name, arg)
        else:
            raise _Refused(f"opcode {name}")

    def pop_mark(self) -> list[Any]:
        stack = self.stack
        for i in range(len(stack) - 1, -1, -1):
            if isinstance(stack[i], _Mark):
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise _Refused("MARK missing")

    def container(self, name: str) -> None:
        stack = self.stack
        if name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif name == "TUPLE":
            stack.append(tuple(self.pop_mark()))
        elif name in ("LIST", "DICT"):
            items = self.pop_mark()
            stack.append(list(items) if name == "LIST" else dict(zip(items[::2], items[1::2])))
        elif name == "APPEND":
            value = stack.pop()
            stack[-1].append(value)
        elif name == "APPENDS":
            items = self.pop_mark()
            stack[-1].extend(items)
        elif name == "SETITEM":
            value, key = stack.pop(), stack.pop()
            stack[-1][key] = value
        else:  # SETITEMS
            items = self.pop_mark()
            stack[-1].update(zip(items[::2], items[1::2]))

    def memory(self, name: str, arg: Any) -> None:
        if name == "MEMOIZE":
            self.memo[len(self.memo)] = self.stack[-1]
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[int(arg)] = self.stack[-1]
        else:
            self.stack.append(self.memo[int(arg)])

    def call(self, name: str, arg: Any) -> None:
        stack = self.stack
        if name == "GLOBAL":
            module, attr = str(arg).split(" ", 1)
            stack.append(_Global(module, attr))
        elif name == "STACK_GLOBAL":
            attr, module = stack.pop(), stack.pop()
            stack.append(_Global(str(module), str(attr)))
        elif name == "REDUCE":
            args = stack.pop()
            stack.append(_reduce(stack.pop(), args))
        else:  # BUILD
            state = stack.pop()
            stack.append(_build(stack.pop(), state))


def decode_pickle(data: bytes) -> Any:
    """Plain data from pickle bytes of the shapes above; raises ``_Refused`` for anything else."""
    return _Machine().run(data)


def read_object_npz(path: Path) -> dict[str, Any]:
    """Every member of an ``.npz`` as plain Python data; object members decoded without unpickling.

    Raises AffectLLMError (one line naming the file) for a member holding
    anything other than plain data, or a file that is not an npz.
    """
    from numpy.lib import format as npy

    out: dict[str, Any] = {}
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as err:
        raise AffectLLMError(f"{path}: not a readable .npz archive ({err})") from None
    with archive:
        for member in archive.namelist():
            key = member.removesuffix(".npy")
            raw = io.BytesIO(archive.read(member))
            try:
                version = npy.read_magic(raw)
                shape, fortran, dtype = (npy.read_array_header_1_0(raw) if version == (1, 0)
                                         else npy.read_array_header_2_0(raw))
            except ValueError as err:
                raise AffectLLMError(f"{path}: member {member} is not a NumPy array ({err})") from None
            if not dtype.hasobject:
                raw.seek(0)
                out[key] = np.load(raw, allow_pickle=False).tolist()
                continue
            try:
                out[key] = decode_pickle(raw.read())
            except _Refused as why:
                raise AffectLLMError(f"{path}: member {member} holds a pickled {why}, which affectllm never runs; "
                                     "convert the dataset's label CSVs instead") from None
            except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
                raise AffectLLMError(f"{path}: member {member} is not a plain-data pickle ({type(err).__name__}); "
                                     "convert the dataset's label CSVs instead") from None
    return out
