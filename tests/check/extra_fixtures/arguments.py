__module_name__ = "arguments"
import hexchat


def greet(word, word_eol, userdata):
    if len(word) < 2:
        hexchat.prnt("usage: /GREETNICK <nick> [times]")
        return hexchat.EAT_ALL
    hexchat.prnt("args: " + word_eol[1])
    if word[1] in [user.nick for user in hexchat.get_list("users")]:
        hexchat.command("say hi " + word[1])
    if word[1].startswith("#"):
        hexchat.prnt("a channel: " + word[1])
    if word[1].isdigit():
        return {}[int(word[1])]  # a bug that only a number reaches
    return hexchat.EAT_ALL


hexchat.hook_command("GREETNICK", greet)
