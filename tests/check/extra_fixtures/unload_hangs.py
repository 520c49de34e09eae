__module_name__ = "unload_hangs"
import hexchat


def stuck(userdata):
    while True:
        pass


hexchat.hook_unload(stuck)
