"""Drive HexChat's "Plugins and Scripts" window the way a user does, from
inside HexChat (GTK 2 through ctypes, on HexChat's main thread).

HexChat has no command that opens the window or lists what it shows, so the
test does what the menu does: it finds Window > Plugins and Scripts in the
main window's menu bar and activates it, then reads the rows of the window's
list (name, version, file, description, path: plugingui.c's columns), and to
unload it selects a row and clicks the window's own Unload button, which
sends ``UNLOAD "<path>"`` exactly as a click would.
"""

from __future__ import annotations

from typing import Any, Dict, List

# Evaluated in the control addon's namespace (``hexchat`` is there). Defines
# helpers once; each public call below runs one of them.
_SETUP = r"""
import ctypes as _ct

if '_pw' not in globals():
    class _PW:
        gtk = _ct.CDLL('libgtk-x11-2.0.so.0')
        gobject = _ct.CDLL('libgobject-2.0.so.0')
        glib = _ct.CDLL('libglib-2.0.so.0')
    _pw = _PW
    _g = _pw.gtk
    for _name, _res, _args in (
        ('gtk_container_get_children', _ct.c_void_p, [_ct.c_void_p]),
        ('gtk_widget_get_name', _ct.c_char_p, [_ct.c_void_p]),
        ('gtk_menu_item_get_submenu', _ct.c_void_p, [_ct.c_void_p]),
        ('gtk_menu_item_activate', None, [_ct.c_void_p]),
        ('gtk_bin_get_child', _ct.c_void_p, [_ct.c_void_p]),
        ('gtk_label_get_text', _ct.c_char_p, [_ct.c_void_p]),
        ('gtk_window_list_toplevels', _ct.c_void_p, []),
        ('gtk_window_get_title', _ct.c_char_p, [_ct.c_void_p]),
        ('gtk_tree_view_get_model', _ct.c_void_p, [_ct.c_void_p]),
        ('gtk_tree_view_get_selection', _ct.c_void_p, [_ct.c_void_p]),
        ('gtk_tree_selection_select_iter', None, [_ct.c_void_p, _ct.c_void_p]),
        ('gtk_tree_model_get_iter_first', _ct.c_int, [_ct.c_void_p, _ct.c_void_p]),
        ('gtk_tree_model_iter_next', _ct.c_int, [_ct.c_void_p, _ct.c_void_p]),
        ('gtk_button_get_label', _ct.c_char_p, [_ct.c_void_p]),
        ('gtk_button_clicked', None, [_ct.c_void_p]),
        ('gtk_widget_destroy', None, [_ct.c_void_p]),
        ('gtk_container_get_type', _ct.c_size_t, []),
    ):
        _f = getattr(_g, _name)
        _f.restype, _f.argtypes = _res, _args
    _pw.glib.g_list_free.argtypes = [_ct.c_void_p]
    _pw.glib.g_free.argtypes = [_ct.c_void_p]
    _pw.gobject.g_type_check_instance_is_a.restype = _ct.c_int
    _pw.gobject.g_type_check_instance_is_a.argtypes = [_ct.c_void_p, _ct.c_size_t]

    class _GList(_ct.Structure):
        pass
    _GList._fields_ = [('data', _ct.c_void_p), ('next', _ct.POINTER(_GList)), ('prev', _ct.c_void_p)]

    def _pw_list(ptr):
        out, node = [], _ct.cast(ptr, _ct.POINTER(_GList)) if ptr else None
        while node:
            out.append(node.contents.data)
            node = node.contents.next
        if ptr:
            _pw.glib.g_list_free(ptr)
        return out

    def _pw_type(w):
        return (_g.gtk_widget_get_name(w) or b'').decode()  # the type name unless named

    def _pw_walk(w):
        # Every widget under w, submenus included (they are not children).
        yield w
        if _pw_type(w).endswith('MenuItem'):
            sub = _g.gtk_menu_item_get_submenu(w)
            if sub:
                yield from _pw_walk(sub)
        if _pw.gobject.g_type_check_instance_is_a(w, _g.gtk_container_get_type()):
            for child in _pw_list(_g.gtk_container_get_children(w)):
                yield from _pw_walk(child)

    def _pw_label(item):
        child = _g.gtk_bin_get_child(item)
        if child and 'Label' in _pw_type(child):
            return (_g.gtk_label_get_text(child) or b'').decode()
        return ''

    def _pw_window():
        for w in _pw_list(_g.gtk_window_list_toplevels()):
            title = (_g.gtk_window_get_title(w) or b'').decode()
            if title.startswith('Plugins and Scripts'):
                return w
        return None

    def _pw_open():
        if _pw_window():
            return True
        main = int(hexchat.get_info('win_ptr'), 0)
        for w in _pw_walk(main):
            if _pw_type(w).endswith('MenuItem') and _pw_label(w) == 'Plugins and Scripts':
                _g.gtk_menu_item_activate(w)
                return _pw_window() is not None
        return False

    def _pw_view():
        win = _pw_window()
        for w in (_pw_walk(win) if win else ()):
            if _pw_type(w) == 'GtkTreeView':
                return w
        return None

    def _pw_each_row(view):
        # (GtkTreeIter, {column: text}) for each row, in order
        model = _g.gtk_tree_view_get_model(view)
        it = _ct.create_string_buffer(64)  # GtkTreeIter
        ok = _g.gtk_tree_model_get_iter_first(model, it)
        while ok:
            cols = [_ct.c_char_p() for _ in range(5)]
            args = []
            for i, c in enumerate(cols):
                args += [_ct.c_int(i), _ct.byref(c)]
            _g.gtk_tree_model_get(_ct.c_void_p(model), it, *args, _ct.c_int(-1))
            row = []
            for c in cols:
                row.append(c.value.decode() if c.value else '')
                _pw.glib.g_free(c)
            yield it, dict(zip(('name', 'version', 'file', 'description', 'path'), row))
            ok = _g.gtk_tree_model_iter_next(model, it)

    def _pw_rows():
        view = _pw_view()
        return None if view is None else [row for _it, row in _pw_each_row(view)]

    def _pw_unload(path):
        view = _pw_view()
        for it, row in _pw_each_row(view):
            if row['path'] == path:
                _g.gtk_tree_selection_select_iter(_g.gtk_tree_view_get_selection(view), it)
                for w in _pw_walk(_pw_window()):
                    if _pw_type(w) == 'GtkButton' and (_g.gtk_button_get_label(w) or b'') == b'_Unload':
                        _g.gtk_button_clicked(w)
                        return True
                return False
        return False

    def _pw_close():
        win = _pw_window()
        if win:
            _g.gtk_widget_destroy(win)
"""


def open_window(hc: Any) -> bool:
    """Window > Plugins and Scripts, as clicked; True once the window exists."""
    return bool(hc.eval(_SETUP + "\nresult = _pw_open()"))


def rows(hc: Any) -> List[Dict[str, str]]:
    """What the window's list shows: one dict per row (name, version, file,
    description, path)."""
    got = hc.eval(_SETUP + "\nresult = _pw_rows()")
    if got is None:
        raise AssertionError("the Plugins and Scripts window is not open")
    return got


def click_unload(hc: Any, path: str) -> bool:
    """Select the row of ``path`` and click Unload; False if no such row."""
    return bool(hc.eval(_SETUP + "\nresult = _pw_unload(%r)" % path))


def close_window(hc: Any) -> None:
    hc.eval(_SETUP + "\n_pw_close()\nresult = None")
