"""Typed input and commands, as outbound.c handles them.

``handle_multiline`` -> ``handle_user_input`` (a leading command char makes a
command, '//' says the text) -> ``handle_say`` (the '' command hook, then
PRIVMSG + 'Your Message') or ``handle_command``: command hooks (scripts and
the emulated Timer and Python plugins), then a user command of
commands.conf (``usercommands.py``), then the built-in of HexChat's table
(``builtin_table.py``; handlers in ``builtins_*.py``). An unknown command goes
to the server raw when connected, else 'Unknown Command ...' is printed.

Raw lines go through :meth:`Emulator.send_raw`: recorded in
``Emulator.sent``, and answered by the fake server (``fake_server.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Dict, List

from . import builtins_chanop, builtins_chat, builtins_client, formatting, usercommands
from .builtin_table import EMULATED, FRONT_END, Builtin, find_builtin
from .hooks import COMMAND
from .state import SESS_NOTICES, SESS_SERVER, SESS_SNOTICES, Session

if TYPE_CHECKING:  # pragma: no cover
    from .core import Emulator

#: A built-in's handler: HexChat's callback shape, with 1-based words.
#: Returns False to have the usage printed (HexChat's ``help(..., quiet)``).
Handler = Callable[["Commands", Session, List[str], List[str]], bool]

NOT_CONNECTED = "Not connected. Try /server <host> [<port>]"
NO_CHANNEL = "No channel joined. Try /join #<channel>"


def _handlers() -> Dict[str, Handler]:
    table: Dict[str, Handler] = {}
    for module in (builtins_chat, builtins_chanop, builtins_client):
        table.update(module.HANDLERS)
    return table


class Commands:
    """Typed text and ``/commands`` for an :class:`Emulator`."""

    def __init__(self, emu: "Emulator") -> None:
        self.emu = emu
        self._level = 0
        self.handlers = _handlers()
        self.user_commands = usercommands.DEFAULT_USER_COMMANDS

    # ------------------------------------------------------------------
    def send(self, line: str) -> None:
        self.emu.send_raw(line)

    def print(self, sess: Session, text: str) -> None:
        self.emu.print_text(sess, text)

    def need_server(self, sess: Session) -> bool:
        if not sess.server.connected:
            self.print(sess, NOT_CONNECTED)
            return False
        return True

    # ------------------------------------------------------------------
    def handle_multiline(self, sess: Session, text: str) -> None:
        pieces = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for piece in pieces:
            if sess.id not in self.emu.sessions:
                return
            self.handle_user_input(sess, piece)

    def handle_user_input(self, sess: Session, text: str) -> None:
        if not text:
            return
        cc = str(self.emu.prefs.get("input_command_char") or "/")[:1]
        if text[0] != cc:
            self.handle_say(sess, text)
        elif text[1:2] == cc:
            self.handle_say(sess, text[1:])
        else:
            self.handle_command(sess, text[1:], check_spch=True)

    def _run_command_hooks(self, sess: Session, name: str, word: List[str],
                           word_eol: List[str]) -> bool:
        return self.emu.run_word_hooks(sess, COMMAND, name, formatting.trim_words(word),
                                       formatting.trim_words(word_eol))

    def handle_say(self, sess: Session, text: str) -> None:
        emu = self.emu
        word, word_eol = formatting.split_words(text, True, False)
        if self._run_command_hooks(sess, "", word, word_eol):
            return
        if sess.id not in emu.sessions:
            return
        if not sess.channel or sess.type in (SESS_SERVER, SESS_NOTICES, SESS_SNOTICES):
            self.print(sess, NO_CHANNEL)
            return
        if not sess.server.connected:
            self.print(sess, NOT_CONNECTED)
            return
        emu.messages.chanmsg(sess.server, sess, sess.channel, sess.server.nick, text, fromme=True)
        self.send("PRIVMSG %s :%s" % (sess.channel, text))

    def handle_command(self, sess: Session, cmd: str, check_spch: bool = False) -> bool:
        emu = self.emu
        if self._level > 99:
            self.print(sess, "Too many recursive usercommands, aborting.")
            return True
        self._level += 1
        try:
            word, word_eol = formatting.split_words(cmd, True, True)
            builtin = find_builtin(word[0])
            if builtin is not None and not builtin.handle_quotes:
                word, word_eol = formatting.split_words(cmd, False, False)
            if self._run_command_hooks(sess, word[0], word, word_eol):
                return True
            if sess.id not in emu.sessions:
                return True
            # HexChat's word arrays are 1-based with an empty slot 32
            cw = [""] + word + ["", ""]
            ce = [""] + word_eol + ["", ""]
            matched = [uc for uc in self.user_commands if uc.name.lower() == word[0].lower()]
            if matched:
                for uc in matched:
                    usercommands.run(self, sess, uc, cw, ce)
                return True
            if builtin is not None:
                self.run_builtin(sess, builtin, cw, ce)
                return True
            if not sess.server.connected:
                self.print(sess, "Unknown Command %s. Try /help" % word[0])
            else:
                self.send(cmd)
            return True
        finally:
            self._level -= 1

    def run_builtin(self, sess: Session, builtin: Builtin, word: List[str],
                    word_eol: List[str]) -> None:
        """needserver/needchannel checks, the handler, the usage on False."""
        if builtin.needserver and not sess.server.connected:
            self.print(sess, NOT_CONNECTED)
            return
        if builtin.needchannel and not sess.channel:
            self.print(sess, NO_CHANNEL)
            return
        if builtin.how == EMULATED:
            ok = self.handlers[builtin.name.lower()](self, sess, word, word_eol)
        elif builtin.how == FRONT_END:
            ok = builtins_client.front_end(self, sess, word, word_eol)
        else:
            ok = builtins_client.not_modelled(self, sess, word, word_eol)
        if not ok:
            self.show_help(sess, builtin.name, quiet=True)

    # ------------------------------------------------------------------
    def show_help(self, sess: Session, name: str, quiet: bool) -> None:
        """outbound.c ``help``: a plugin's help text (the first hook of that
        name in dispatch order), else a user command's, else the built-in's
        ``Usage: ...`` line."""
        emu = self.emu
        for hook in emu.hooks.hooks:
            if hook.kind == COMMAND and not hook.deleted and hook.name.lower() == name.lower():
                if hook.help:
                    self.print(sess, hook.help)
                    return
                break
        found = False
        for uc in self.user_commands:
            if uc.name.lower() == name.lower():
                self.print(sess, "User Command for: %s\n" % uc.cmd)
                found = True
        if found:
            return
        builtin = find_builtin(name)
        if builtin is not None:
            if builtin.help:
                self.print(sess, "Usage: %s\n" % builtin.help)
            elif not quiet:
                self.print(sess, "\nNo help available on that command.\n")
            return
        if not quiet:
            self.print(sess, "No such command.\n")
