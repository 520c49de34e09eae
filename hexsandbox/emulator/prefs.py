"""HexChat settings (``get_prefs``) and the Python plugin's pluginpref file.

The pluginpref store reproduces the observable behaviour of plugin.c's
``hexchat_pluginpref_*`` functions and ``cfg_get_str`` (cfgfiles.c):

* file ``<configdir>/addon_python.conf``, one ``name = value`` line each,
  values escaped like ``g_strescape`` (so non-ASCII bytes become octal);
* writing matches a name case-sensitively at a line start (``"name "``),
  reading matches it case-insensitively and takes the first match;
* lines are read 511 bytes at a time, so a longer line is split in two;
* a read value is cut to 511 bytes; the int reader to 11 bytes + ``atoi``;
* ``list`` concatenates names (up to '=' and right-stripped) each followed by
  ',', within a 4096-byte buffer, so Python sees a trailing empty name.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional, Union

from .prefs_table import PREFS

PrefValue = Union[str, int]

#: Defaults that load_default_config fills from strings we could not read
#: as plain literals, or from the machine.
_OVERRIDES: Dict[str, PrefValue] = {
    "away_reason": "I'm busy",
    "irc_part_reason": "Leaving",
    "irc_quit_reason": "Leaving",
    "irc_logmask": "%n/%c.log",
    "gui_ulist_doubleclick": "QUERY %s",
    "irc_real_name": "realname",
    "text_font": "Monospace 9",
    "text_font_main": "Monospace 9",
    "text_font_alternative": "Arial Unicode MS,Segoe UI Emoji,Lucida Sans Unicode,Meiryo,Symbola,Unifont",
    "text_spell_langs": "en",
    "dcc_dir": "~/Downloads",
    "stamp_log_format": "%b %d %H:%M:%S ",
}


class Prefs:
    """HexChat's global preferences, with the types ``get_prefs`` reports."""

    def __init__(self, nick: str, user: str = "tester") -> None:
        self.values: Dict[str, PrefValue] = {}
        for name, (_typ, default) in PREFS.items():
            self.values[name] = _OVERRIDES.get(name, default)
        self.values["irc_nick1"] = nick
        self.values["irc_nick2"] = nick + "_"
        self.values["irc_nick3"] = nick + "__"
        self.values["irc_user_name"] = user

    def type_of(self, name: str) -> Optional[str]:
        entry = PREFS.get(name.lower())
        return entry[0] if entry else None

    def get(self, name: str) -> Optional[PrefValue]:
        """str for string prefs, int for int and bool prefs, None if unknown."""
        key = name.lower()
        if key not in PREFS:
            return None
        typ = PREFS[key][0]
        value = self.values[key]
        if typ == "str":
            return str(value)
        if typ == "bool":
            return 1 if value else 0
        return int(value)

    def set(self, name: str, value: PrefValue) -> None:
        """Change a setting (what /SET or a test does)."""
        key = name.lower()
        if key not in PREFS:
            raise KeyError(name)
        typ = PREFS[key][0]
        self.values[key] = str(value) if typ == "str" else int(value)


# ---- C-string helpers -----------------------------------------------------

def _strescape(value: bytes) -> bytes:
    """``g_strescape(value, NULL)``."""
    out = bytearray()
    table = {8: b"\\b", 12: b"\\f", 10: b"\\n", 13: b"\\r", 9: b"\\t",
             11: b"\\v", 92: b"\\\\", 34: b'\\"'}
    for c in value:
        if c in table:
            out += table[c]
        elif c < 0x20 or c >= 0x7F:
            out += b"\\%03o" % c
        else:
            out.append(c)
    return bytes(out)


def _strcompress(value: bytes) -> bytes:
    """``g_strcompress``."""
    out = bytearray()
    i = 0
    n = len(value)
    table = {ord("b"): 8, ord("f"): 12, ord("n"): 10, ord("r"): 13,
             ord("t"): 9, ord("v"): 11}
    while i < n:
        c = value[i]
        if c == 92 and i + 1 < n:
            d = value[i + 1]
            if 48 <= d <= 55:
                j = i + 1
                num = 0
                while j < n and j < i + 4 and 48 <= value[j] <= 55:
                    num = num * 8 + value[j] - 48
                    j += 1
                out.append(num & 0xFF)
                i = j
                continue
            out.append(table.get(d, d))
            i += 2
            continue
        if c == 92:  # trailing backslash: glib stops there
            break
        out.append(c)
        i += 1
    return bytes(out)


def _safe_cut(value: bytes, size: int) -> bytes:
    """``safe_strcpy`` into a buffer of ``size``: never splits a UTF-8 char."""
    out = bytearray()
    i = 0
    left = size
    while i < len(value):
        c = value[i]
        mbl = 1 if c < 0xC0 else 2 if c < 0xE0 else 3 if c < 0xF0 else 4 if c < 0xF8 else 5 if c < 0xFC else 6
        if left < mbl + 1:
            break
        out += value[i:i + mbl]
        i += mbl
        left -= mbl
    return bytes(out)


def _atoi(value: bytes) -> int:
    """glibc ``atoi``: (int) strtol, wrapping to 32 bits."""
    s = value.lstrip(b" \t\n\v\f\r")
    sign = 1
    if s[:1] in (b"+", b"-"):
        sign = -1 if s[:1] == b"-" else 1
        s = s[1:]
    digits = b""
    for c in s:
        if 48 <= c <= 57:
            digits += bytes([c])
        else:
            break
    num = sign * int(digits) if digits else 0
    num &= 0xFFFFFFFF
    return num - (1 << 32) if num >= (1 << 31) else num


def _read_lines(data: bytes) -> List[bytes]:
    """``fscanf(" %511[^\\n]")`` repeated: skip whitespace, take <= 511 bytes."""
    lines: List[bytes] = []
    i = 0
    n = len(data)
    while True:
        while i < n and data[i] in b" \t\n\v\f\r":
            i += 1
        if i >= n:
            return lines
        j = i
        while j < n and data[j] != 10 and j - i < 511:
            j += 1
        lines.append(data[i:j])
        i = j


class PluginPrefs:
    """The shared ``addon_python.conf`` store every Python script uses."""

    def __init__(self, config_dir: str, plugin_name: str = "Python") -> None:
        canon = "".join(c.lower() if (c.isascii() and (c.isalnum() or c == "_")) else "_"
                        for c in plugin_name)
        self.path = os.path.join(config_dir, "addon_%s.conf" % canon)

    # -- raw file access
    def _read(self) -> Optional[bytes]:
        try:
            with open(self.path, "rb") as fh:
                return fh.read()
        except OSError:
            return None

    def _write(self, data: bytes) -> bool:
        tmp = self.path + ".new"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
            return True
        except OSError:
            return False

    def contents(self) -> str:
        """The file as text ('' when missing), for transcripts."""
        data = self._read()
        return data.decode("utf-8", "replace") if data else ""

    # -- hexchat_pluginpref_set_str_real
    def _set_real(self, name: str, value: Optional[str], save: bool) -> bool:
        var = name.encode("utf-8")
        existing = self._read()
        newline = b""
        if save:
            assert value is not None
            newline = var + b" = " + _strescape(value.encode("utf-8")) + b"\n"
        if existing is None:
            if not save:
                return True
            return self._write(newline)
        out = bytearray()
        found = False
        key = var + b" "
        for line in _read_lines(existing):
            if line[:len(var) + 1] == key[:len(var) + 1] and len(line) >= len(var) + 1:
                out += newline if save else b""
                found = True
            else:
                out += line + b"\n"
        if not found and save:
            out += newline
        return self._write(bytes(out))

    def set(self, name: str, value: PrefValue) -> bool:
        """``hexchat.set_pluginpref``: str or int (bool is int); else False."""
        if isinstance(value, str):
            return self._set_real(name, value, True)
        if isinstance(value, int):
            if not -(1 << 31) <= int(value) < (1 << 31):
                raise OverflowError("integer %d does not fit 'int'" % value)
            return self._set_real(name, "%d" % int(value), True)
        return False

    def delete(self, name: str) -> bool:
        return self._set_real(name, None, False)

    # -- hexchat_pluginpref_get_str_real
    def _get_raw(self, name: str, dest_len: int) -> Optional[bytes]:
        data = self._read()
        if data is None:
            return None
        var = name.encode("utf-8")
        key = (var + b" ").lower()
        pos = 0
        n = len(data)
        while True:
            if data[pos:pos + len(var) + 1].lower() == key:
                p = pos + len(var)
                while p < n and data[p] == 32:
                    p += 1
                if p < n and data[p] == 61:
                    p += 1
                while p < n and data[p] == 32:
                    p += 1
                end = data.find(b"\n", p)
                end = n if end < 0 else end
                value = _safe_cut(data[p:end], 512)
                value = _strcompress(value)
                return value[:dest_len - 1]
            nl = data.find(b"\n", pos)
            if nl < 0 or nl + 1 >= n:
                return None
            pos = nl + 1

    def get_str(self, name: str) -> Optional[bytes]:
        return self._get_raw(name, 512)

    def get_int(self, name: str) -> int:
        raw = self._get_raw(name, 12)
        if raw is None:
            return -1
        ret = _atoi(raw)
        if ret == 0 and raw[:1] != b"0":
            return -1
        return ret

    def get(self, name: str) -> Optional[PrefValue]:
        """``hexchat.get_pluginpref`` with the Python plugin's type guessing."""
        string = self.get_str(name)
        if string is None:
            return None
        if len(string) > 12:
            return string.decode("utf-8", "replace")
        number = self.get_int(name)
        if number == -1 and string != b"-1":
            return string.decode("utf-8", "replace")
        return number

    def list(self) -> List[str]:
        """``hexchat.list_pluginpref``: [] without a file, else split on ','."""
        data = self._read()
        if data is None:
            return []
        dest = b""
        for line in _read_lines(data):
            token = line.lstrip(b"=").split(b"=", 1)[0]
            token = token.rstrip(b" \t\n\v\f\r")
            for piece in (token, b","):
                room = 4095 - len(dest)
                dest += piece[:max(room, 0)]
        return dest.decode("utf-8", "replace").split(",")
