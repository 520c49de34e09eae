"""Server lines -> state, text events and printed lines."""


def test_connect_sequence(emu):
    assert emu.sent[:3] == ["CAP LS 302", "NICK tester", "USER tester 0 * :realname"]
    names = emu.event_names("irc.test.net")
    assert names[0] == "Connected"
    assert names.count("Server Text") == 5 and "Motd" in names
    assert emu.get_info("server") == "irc.test.net"
    assert emu.lines("irc.test.net")[0] == "*\tConnected. Now logging in."


def test_channel_message_and_hilight(emu, chan):
    emu.feed(":bob!b@h PRIVMSG #chan :plain")
    emu.feed(":bob!b@h PRIVMSG #chan :hey tester!")
    assert emu.event_names("#chan")[-2:] == ["Channel Message", "Channel Msg Hilight"]
    assert emu.lines("#chan")[-2:] == ["<bob>\tplain", "<bob>\they tester!"]
    emu.feed(":alice!a@h PRIVMSG #chan :op talk")
    assert emu.events[-1][2][:3] == ["alice", "op talk", "@"]


def test_actions(emu, chan):
    emu.feed(":bob!b@h PRIVMSG #chan :\x01ACTION waves\x01")
    emu.feed(":bob!b@h PRIVMSG #chan :\x01ACTION pokes tester\x01")
    emu.feed(":dave!d@h PRIVMSG tester :\x01ACTION winks\x01")
    assert emu.event_names("#chan")[-2:] == ["Channel Action", "Channel Action Hilight"]
    assert emu.event_names("dave") == ["Open Dialog", "Private Action to Dialog"]
    assert emu.lines("#chan")[-2] == "*\tbob waves"


def test_private_message_opens_dialog(emu):
    emu.feed(":dave!d@h.example PRIVMSG tester :hi")
    dlg = emu.session("dave")
    assert dlg.type == 3 and emu.get_list("channels")[0]["type"] == 3  # newest tab first
    assert emu.event_names("dave") == ["Open Dialog", "Private Message to Dialog"]
    assert emu.lines("dave") == ["<dave>\thi"]


def test_private_message_without_autoopen(emu, chan):
    emu.prefs.set("gui_autoopen_dialog", 0)
    emu.feed(":bob!b@h PRIVMSG tester :hi")
    assert ("bob" not in [s.channel for s in emu.sessions.values()])
    assert emu.event_names("#chan")[-1] == "Private Message"


def test_notices(emu, chan):
    emu.feed(":bob!b@h NOTICE tester :psst")
    emu.feed(":bob!b@h NOTICE #chan :all")
    emu.feed(":irc.test.net NOTICE tester :server says")
    assert emu.event_names("#chan")[-2:] == ["Notice", "Channel Notice"]
    assert emu.event_names("irc.test.net")[-1] == "Server Notice"
    assert emu.lines("#chan")[-2] == "-bob-\tpsst"


def test_join_part_quit(emu, chan):
    emu.feed(":carol!c@h JOIN #chan")
    emu.feed(":carol!c@h PART #chan")
    emu.feed(":bob!b@h PART #chan :gone")
    emu.feed(":alice!a@h QUIT :bye")
    assert emu.event_names("#chan")[-4:] == ["Join", "Part", "Part with Reason", "Quit"]
    emu.set_context(chan)
    assert [u["nick"] for u in emu.get_list("users")] == ["tester"]
    assert emu.lines("#chan")[-4] == "*\tcarol (c@h) has joined"


def test_own_join_and_part(emu):
    emu.feed(":tester!t@h JOIN #new")
    sess = emu.session("#new")
    assert emu.event_names("#new") == ["You Join"]
    assert emu.front_context() == sess.id
    emu.feed(":tester!t@h PART #new")
    assert emu.event_names("#new")[-1] == "You Part"


def test_nick_changes(emu, chan):
    emu.feed(":bob!b@h NICK :robert")
    emu.feed(":tester!t@h NICK :me2")
    assert "Change Nick" in emu.event_names("#chan")
    assert emu.event_names("#chan")[-1] == "Your Nick Changing"
    assert emu.get_info("nick") == "me2"
    emu.set_context(chan)
    assert "robert" in [u["nick"] for u in emu.get_list("users")]


def test_kicks(emu, chan):
    emu.feed(":alice!a@h KICK #chan bob :out")
    emu.feed(":alice!a@h KICK #chan tester :you too")
    assert emu.event_names("#chan")[-2:] == ["Kick", "You Kicked"]


def test_modes(emu, chan):
    emu.feed(":alice!a@h MODE #chan +o-o+v-v+kb bob bob bob bob key *!*@x")
    emu.feed(":alice!a@h MODE #chan +m")
    assert emu.event_names("#chan")[-7:] == [
        "Channel Operator", "Channel DeOp", "Channel Voice", "Channel DeVoice",
        "Channel Set Key", "Channel Ban", "Channel Mode Generic"]
    emu.set_context(chan)
    assert emu.get_info("modes") == "+ntkm key"  # HexChat edits the 324 string in place
    assert emu.lines("#chan")[-1] == "*\talice sets mode +m on #chan"


def test_mode_removals_and_limit(emu, chan):
    emu.feed(":alice!a@h MODE #chan +kl key 10")
    emu.set_context(chan)
    assert emu.get_info("modes") == "+ntkl key 10"
    assert [c["channelkey"] for c in emu.get_list("channels") if c["channel"] == "#chan"] == ["key"]
    emu.feed(":alice!a@h MODE #chan -k-l-b-e-I-h key *!*@x *!*@y *!*@z bob")
    assert emu.event_names("#chan")[-6:] == [
        "Channel Remove Keyword", "Channel Remove Limit", "Channel UnBan",
        "Channel Remove Exempt", "Channel Remove Invite", "Channel DeHalfOp"]
    assert emu.lines("#chan")[-6:-4] == ["*\talice removes channel keyword",
                                         "*\talice removes user limit"]
    assert [c["channelkey"] for c in emu.get_list("channels") if c["channel"] == "#chan"] == [""]
    assert emu.get_info("modes") == "+nt"


def test_modes_without_a_324_have_no_plus(emu):
    """record_chan_mode appends to whatever 324 gave, even nothing."""
    handle = emu.join("#bare", users=["alice"], modes=None)
    emu.feed(":alice!a@h MODE #bare +sk key")
    emu.set_context(handle)
    assert emu.get_info("modes") == "sk key"
    emu.feed(":alice!a@h MODE #bare +k other")
    assert emu.get_info("modes") == "sk other"


def test_raw_modes_pref(emu, chan):
    emu.prefs.set("irc_raw_modes", 1)
    emu.feed(":alice!a@h MODE #chan +o bob")
    assert emu.event_names("#chan")[-1] == "Raw Modes"


def test_topics(emu, chan):
    assert emu.event_names("#chan")[1:3] == ["Topic", "Topic Creation"]
    emu.feed(":bob!b@h TOPIC #chan :new topic")
    assert emu.event_names("#chan")[-1] == "Topic Change"
    emu.set_context(chan)
    assert emu.get_info("topic") == "new topic"


def test_invite_and_generic_numerics(emu, chan):
    emu.feed(":bob!b@h INVITE tester :#other")
    assert emu.event_names()[-1] == "Invited"
    emu.feed(":irc.test.net 404 tester #chan :Cannot send")
    assert emu.event_names("#chan")[-1] == "Server Text"
    assert emu.lines("#chan")[-1] == "*\t#chan :Cannot send"  # word_eol[4], as HexChat


def test_names_fill_users(emu):
    emu.feed(":tester!t@h JOIN #n")
    emu.feed(":irc.test.net 353 tester = #n :@op +voiced plain tester")
    emu.feed(":irc.test.net 366 tester #n :End")
    emu.set_context(emu.context_of("#n"))
    # HexChat's users list is in plain nick order (the GUI sorts ops first)
    assert [(u["nick"], u["prefix"]) for u in emu.get_list("users")] == [
        ("op", "@"), ("plain", ""), ("tester", ""), ("voiced", "+")]
