# broken_py2.py - an old X-Chat script that was never ported to Python 3
#
# It uses Python 2 syntax (print statement, "except X, e"), so HexChat's
# Python 3 plugin can't even compile it: loading fails with a SyntaxError.

import xchat

__module_name__ = "broken_py2"
__module_version__ = "0.1"
__module_description__ = "Python 2 only script (does not load on Python 3)"


def hello_cb(word, word_eol, userdata):
    try:
        xchat.prnt("hello %s" % word[1])
    except Exception, e:
        print "hello failed:", e
    return xchat.EAT_ALL

xchat.hook_command("HELLO2", hello_cb, help="Usage: /HELLO2 <name>")

print "hello"
