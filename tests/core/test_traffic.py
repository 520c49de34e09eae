"""The four kinds of traffic, nesting, threads, timers and unhooking."""



def test_nested_command_runs_inner_hook_in_in_process_order(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "nested"
        import hexchat
        def outer(word, word_eol, userdata):
            hexchat.prnt("outer start")
            hexchat.command("say nested-hi")
            hexchat.prnt("outer end")
            return hexchat.EAT_ALL
        def inner(word, word_eol, userdata):
            hexchat.prnt("inner saw " + word[1])
        hexchat.hook_command("OUTER", outer)
        hexchat.hook_print("Your Message", inner)
    ''')
    hexchat_client.type("/OUTER", "#test")
    lines = [l for l in hexchat_client.lines("#test") if "outer" in l or "inner" in l or "nested-hi" in l]
    assert lines[0] == "outer start"
    assert lines[1] == "inner saw nested-hi"
    assert lines[-1] == "outer end"
    assert "PRIVMSG #test :nested-hi" in hexchat_client.sent


def test_three_levels_deep(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "deep"
        import hexchat
        def level1(word, word_eol, userdata):
            hexchat.prnt("1 in")
            hexchat.command("LEVEL2")
            hexchat.prnt("1 out")
            return hexchat.EAT_ALL
        def level2(word, word_eol, userdata):
            hexchat.prnt("2 in")
            hexchat.command("say three")
            hexchat.prnt("2 out")
            return hexchat.EAT_ALL
        def level3(word, word_eol, userdata):
            hexchat.prnt("3 saw " + word[1] + " in " + hexchat.get_info("channel"))
        hexchat.hook_command("LEVEL1", level1)
        hexchat.hook_command("LEVEL2", level2)
        hexchat.hook_print("Your Message", level3)
    ''')
    hexchat_client.type("/LEVEL1", "#test")
    got = [l for l in hexchat_client.lines("#test") if l[:1] in "123"]
    assert got == ["1 in", "2 in", "3 saw three in #test", "2 out", "1 out"]


def test_eat_values_from_the_worker_reach_hexchat(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "eater"
        import hexchat
        def cb(word, word_eol, userdata):
            if "spam" in word[1]:
                return hexchat.EAT_ALL
        hexchat.hook_print("Channel Message", cb)
    ''')
    hexchat_client.feed(":alice!a@h PRIVMSG #test :buy spam now")
    hexchat_client.feed(":alice!a@h PRIVMSG #test :hello")
    text = "\n".join(hexchat_client.lines("#test"))
    assert "buy spam now" not in text
    assert "hello" in text


def test_eight_threads_times_thousand_prnt_all_arrive_in_order(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "flood"
        import hexchat, threading
        def work(n):
            for i in range(1000):
                hexchat.prnt("t%d %d" % (n, i))
        def go(word, word_eol, userdata):
            threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
            for t in threads: t.start()
            def done():
                for t in threads: t.join()
                hexchat.prnt("flood done")
            threading.Thread(target=done).start()
            return hexchat.EAT_ALL
        hexchat.hook_command("FLOOD", go)
    ''')
    hexchat_client.type("/FLOOD", "#test")
    hexchat_client.wait_for_line("flood done", "#test", timeout=60)
    lines = [l for l in hexchat_client.lines("#test") if l.startswith("t")]
    assert len(lines) == 8000
    for n in range(8):
        mine = [int(l.split()[1]) for l in lines if l.startswith("t%d " % n)]
        assert mine == list(range(1000))


def test_threads_call_two_way_api_while_callbacks_run(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "busy"
        import hexchat, threading
        results = {"info": 0, "list": 0, "errors": []}
        def poll():
            try:
                for _ in range(200):
                    assert hexchat.get_info("nick") == "tester"
                    results["info"] += 1
                    assert any(i.channel == "#test" for i in hexchat.get_list("channels"))
                    results["list"] += 1
            except Exception as e:
                results["errors"].append(repr(e))
            hexchat.prnt("poller done %d %d %r" % (results["info"], results["list"], results["errors"]))
        def on_msg(word, word_eol, userdata):
            hexchat.get_list("users")
            hexchat.prnt("seen " + word[1])
        hexchat.hook_print("Channel Message", on_msg)
        threading.Thread(target=poll).start()
    ''')
    for i in range(50):
        hexchat_client.feed(":bob!b@h PRIVMSG #test :m%d" % i)
    line = hexchat_client.wait_for_line("poller done", "#test", timeout=60)
    assert line == "poller done 200 200 []"
    assert [l for l in hexchat_client.lines("#test") if l.startswith("seen m")] == ["seen m%d" % i for i in range(50)]


def test_timers_keep_while_true_and_start_in_front_tab(hexchat_client):
    script = hexchat_client.load('''
        __module_name__ = "ticker"
        import hexchat
        n = [0]
        def tick(userdata):
            n[0] += 1
            hexchat.prnt("tick %d %s in %s" % (n[0], userdata, hexchat.get_info("channel")))
            return n[0] < 3
        def once(userdata):
            hexchat.prnt("once")
        def one(userdata):
            hexchat.prnt("one is not True")
            return 1
        hexchat.hook_timer(1000, tick, "ud")
        hexchat.hook_timer(500, once)
        hexchat.hook_timer(700, one)
    ''')
    hexchat_client.advance(10000)
    ticks = [l for l in hexchat_client.lines("#test") if l.startswith("tick")]
    assert ticks == ["tick 1 ud in #test", "tick 2 ud in #test", "tick 3 ud in #test"]
    assert hexchat_client.lines("#test").count("once") == 1
    assert hexchat_client.lines("#test").count("one is not True") == 1, "kept only if `is True`"
    assert not script.backend_hooks, "both timers removed themselves"


def test_unhook_inside_own_callback_and_of_another_during_dispatch(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "unhooker"
        import hexchat
        hooks = {}
        def first(word, word_eol, userdata):
            hexchat.prnt("first")
            if hooks.get("second"):  # (asserts are stripped: scripts run with optimize=2)
                hexchat.prnt("got " + hexchat.unhook(hooks.pop("second")))
            return None
        def second(word, word_eol, userdata):
            hexchat.prnt("second")
        def self_removing(word, word_eol, userdata):
            hexchat.prnt("self")
            hexchat.unhook(hooks["self"])
        hooks["first"] = hexchat.hook_print("Channel Message", first, priority=hexchat.PRI_HIGH)
        hooks["second"] = hexchat.hook_print("Channel Message", second, "second-data", priority=hexchat.PRI_LOW)
        hooks["self"] = hexchat.hook_print("Channel Message", self_removing)
        hexchat.prnt("unknown handle gives %r" % hexchat.unhook(123456))
    ''')
    hexchat_client.feed(":alice!a@h PRIVMSG #test :one")
    hexchat_client.feed(":alice!a@h PRIVMSG #test :two")
    marks = [l for l in hexchat_client.lines("#test") if l in ("first", "second", "self", "got second-data")]
    assert marks == ["first", "got second-data", "self", "first"]
    assert "unknown handle gives None" in hexchat_client.lines("#test")


def test_hook_past_deadline_passes_uneaten_and_marks_script_late(hexchat_client, tmp_path):
    import os

    from hexsandbox import slow_policy

    fifo = tmp_path / "gate"
    os.mkfifo(fifo)
    script = hexchat_client.load('''
        __module_name__ = "sleepy"
        import hexchat
        def cb(word, word_eol, userdata):
            if word[1] == "slow":
                with open(%r, "rb") as gate:   # blocks until the test writes
                    gate.read(1)
            return hexchat.EAT_ALL
        hexchat.hook_print("Channel Message", cb)
    ''' % str(fifo), deadline_ms=300)
    hexchat_client.feed(":alice!a@h PRIVMSG #test :slow")
    assert script.late
    assert any("slow" in l for l in hexchat_client.lines("#test")), "the event passed uneaten"
    late = [r for r in hexchat_client.sandbox.reports if r.kind == "late"]
    assert len(late) == 1 and "sleepy did not answer" in late[0].text
    assert ", in cb" in hexchat_client.sandbox.stack(script)

    hexchat_client.feed(":alice!a@h PRIVMSG #test :while late")
    assert any("while late" in l for l in hexchat_client.lines("#test")), "passed uneaten"
    assert script.slow.delivered_one_way == 1, "still delivered to it, one-way"
    assert len([r for r in hexchat_client.sandbox.reports if r.kind == "late"]) == 1, "reported once"

    with open(fifo, "wb") as gate:
        gate.write(b"x")
    hexchat_client.wait_for(lambda: not script.late, timeout=20, what="the late answer")
    hexchat_client.settle(script)
    assert len(hexchat_client.sandbox.reports) == 1, "no second line when it answers"
    # Not waited on again until it has kept up for a minute (slow_policy).
    hexchat_client.feed(":alice!a@h PRIVMSG #test :fast again")
    assert any("fast again" in l for l in hexchat_client.lines("#test")), "not waited on yet"
    script.slow.last_late -= slow_policy.KEEP_UP_S  # as if the minute had passed
    hexchat_client.feed(":alice!a@h PRIVMSG #test :kept up")
    assert not any("kept up" in l for l in hexchat_client.lines("#test")), "eaten again"


def test_all_callbacks_run_on_one_thread_never_concurrently(hexchat_client):
    hexchat_client.load('''
        __module_name__ = "onethread"
        import hexchat, threading
        seen, busy = set(), [False]
        def mark(kind):
            if busy[0]:
                hexchat.prnt("CONCURRENT " + kind)
            busy[0] = True
            seen.add(threading.get_ident())
            busy[0] = False
        def on_msg(word, word_eol, userdata):
            mark("print")
        def on_cmd(word, word_eol, userdata):
            mark("command")
            hexchat.prnt("threads %d main %s" % (len(seen), threading.main_thread().ident in seen))
            return hexchat.EAT_ALL
        def on_timer(userdata):
            mark("timer")
            return True
        hexchat.hook_print("Channel Message", on_msg)
        hexchat.hook_command("THREADS", on_cmd)
        hexchat.hook_timer(100, on_timer)
        def noisy():
            for i in range(200):
                hexchat.get_info("nick")
        threading.Thread(target=noisy).start()
    ''')
    for i in range(20):
        hexchat_client.feed(":alice!a@h PRIVMSG #test :m%d" % i)
        hexchat_client.advance(100)
    hexchat_client.type("/THREADS", "#test")
    lines = hexchat_client.lines("#test")
    assert "threads 1 main True" in lines
    assert not [l for l in lines if l.startswith("CONCURRENT")]
