# threaded_worker.py - do slow work in a background thread
#
# /SLOWLOOKUP <word>   "looks up" a word (a 0.2 s sleep stands in for the
#                      network call) in a thread and prints the answer
# /FLOOD8              8 threads print 100 numbered lines each
#
# WARNING: calling hexchat.prnt() (or anything else in the hexchat module)
# from a thread other than HexChat's main thread is NOT safe in HexChat's
# own in-process Python plugin: HexChat and GTK are not thread safe and this
# can crash or corrupt HexChat (see HexChat issue #2407).  Lots of old
# scripts do it anyway.  Under hexsandbox the calls are forwarded to HexChat
# and run one at a time on its main thread, so it is legal and safe there.
# Don't run this script in process.

import threading
import time

import hexchat

__module_name__ = "threaded_worker"
__module_version__ = "0.2"
__module_description__ = "Calls the HexChat API from background threads"

FLOOD_THREADS = 8
FLOOD_LINES = 100


def lookup(word):
    time.sleep(0.2)       # pretend to wait for a web service
    answer = "%s: %d letters, reversed %s" % (word, len(word), word[::-1])
    hexchat.prnt("SLOWLOOKUP result: " + answer)    # called from the thread!


def slowlookup_cmd(word, word_eol, userdata):
    if len(word) < 2:
        hexchat.prnt("Usage: /SLOWLOOKUP <word>")
        return hexchat.EAT_ALL
    hexchat.prnt("SLOWLOOKUP looking up %s ..." % word[1])
    t = threading.Thread(target=lookup, args=(word[1],))
    t.daemon = True
    t.start()
    return hexchat.EAT_ALL


def flood_one(n):
    for i in range(FLOOD_LINES):
        hexchat.prnt("flood t%d line %03d" % (n, i))


def flood_wait(threads):
    for t in threads:
        t.join()
    hexchat.prnt("FLOOD8 done: %d lines" % (FLOOD_THREADS * FLOOD_LINES))


def flood_cmd(word, word_eol, userdata):
    threads = []
    for n in range(FLOOD_THREADS):
        t = threading.Thread(target=flood_one, args=(n,))
        t.daemon = True
        threads.append(t)
    for t in threads:
        t.start()
    w = threading.Thread(target=flood_wait, args=(threads,))
    w.daemon = True
    w.start()
    return hexchat.EAT_ALL


hexchat.hook_command("SLOWLOOKUP", slowlookup_cmd, help="Usage: /SLOWLOOKUP <word>")
hexchat.hook_command("FLOOD8", flood_cmd, help="Usage: /FLOOD8, 8 threads x 100 lines")

print("threaded_worker loaded (sandbox only!)")
