__module_name__ = "load_hangs"
import hexchat
while True:
    pass
