package HexSandbox::Worker;
# The Perl worker's end of the session (docs/protocol.md, docs/perl.md).
#
# One script per process. The main thread is the *callback thread*: it loads
# the script, then runs every hook, timer and fd callback one at a time, as
# HexChat's main thread does in process. While it waits for an answer of its
# own it serves what the client sends meanwhile (nested hooks), so
# command() inside a hook behaves as in process.
#
# Threads (`use threads` in a script): any thread may call the API. Frames
# are written whole under one shared lock, so each thread's calls reach
# HexChat in its own order. Whoever holds the read lock reads the socket and
# routes: answers to the thread that asked (by msgid), everything else to
# the main thread. The main thread reads while it is idle or waiting; a
# receiver thread starts the first time another thread calls the API, so
# those threads get their answers (and the window its acks) while the main
# thread is busy in a callback.
use strict;
use warnings;
use threads;
use threads::shared;
use Carp ();
use Encode ();
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use POSIX ();
use Scalar::Util ();
use Time::HiRes ();
use Data::MessagePack;

use HexSandbox::Api;
use HexSandbox::Script;

# ---- state (shared where another thread may touch it) ------------------------
our $FD;                        # the socket (an fd number, non-blocking)
our $CTX;                       # this thread's current context handle
my $MAIN_TID = 0;
my $WAKE_R;                     # the receiver wakes the main thread through this pipe
my $WAKE_W;
my $RBUF :shared = '';          # reassembly buffer (either reader may read)
my $READ_LOCK :shared;
my $SEND_LOCK :shared;          # whole frames; also the window's condition
my $OUT_COUNT :shared = 0;      # our notifications the client has not acked
my $OUT_BYTES :shared = 0;
my @OUT_SIZES :shared;
my %OWNER :shared;              # msgid -> tid waiting for it
my %REPLIES :shared;            # msgid -> response body, for the thread that asked
my @SHARED_INBOX :shared;       # bodies for the main thread read by the receiver
my $NEXT_ID :shared = 0;
my $LOST :shared = 0;
my $RECEIVER :shared = 0;
my $UNLOADING :shared = 0;

my $WINDOW = 64;                # hexsandbox.rpc.session.WINDOW
my $WINDOW_BYTES = 1024 * 1024;
my $MAX_FRAME = 64 * 1024 * 1024;

my @LOCAL_INBOX;                # decoded messages the main thread read for itself
my %MY_REPLIES;                 # msgid -> decoded response, main thread
my $UNLOAD = 0;
my $LEAVING = 0;                # in leave() or END: _lost must not pick the exit code

my $MP = Data::MessagePack->new->utf8(1);

sub is_main { threads->tid == $MAIN_TID }

# Numbers go out as msgpack ints: a Perl number once used as a string
# (a hash key, a print) would otherwise be packed as a string.
sub _ctx { defined $CTX ? 0 + $CTX : undef }

# ---- framing and codec -----------------------------------------------------------
sub _write_all {
    my ($data) = @_;
    my $off = 0;
    my $len = length $data;
    while ($off < $len) {
        my $n = POSIX::write($FD, $off ? substr($data, $off) : $data, $len - $off);
        if (defined $n) { $off += $n; next }
        if ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR) {
            my $win = '';
            vec($win, $FD, 1) = 1;
            select(undef, $win, undef, 1.0);
            next;
        }
        $LOST = 1;
        die "hexsandbox: the client is gone\n";
    }
}

sub _send_frame {
    my ($msg) = @_;
    my $body = $MP->pack($msg);
    lock($SEND_LOCK);
    _write_all(pack('N', length $body) . $body);
}

sub _lost {
    $LOST = 1;
    { lock(%REPLIES); cond_broadcast(%REPLIES); }
    { lock($SEND_LOCK); cond_broadcast($SEND_LOCK); }
    POSIX::_exit(0) if is_main() && !$LEAVING;
}

# Read what is ready and route it (read lock held). False at end of stream.
sub _ingest {
    my $n = POSIX::read($FD, my $chunk, 262144);
    if (!defined $n) {
        return 1 if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        _lost();
        return 0;
    }
    if ($n == 0) { _lost(); return 0 }
    # The buffer is shared (either reader may find a frame's second half);
    # it is read and written once per read, parsed in a private copy.
    my $buf = length($RBUF) ? $RBUF . $chunk : $chunk;
    my ($pos, $end, @bodies) = (0, length $buf);
    while ($end - $pos >= 4) {
        my $len = unpack('N', substr($buf, $pos, 4));
        die "hexsandbox: a frame of $len bytes from the client\n" if $len > $MAX_FRAME;
        last if $end - $pos < 4 + $len;
        push @bodies, substr($buf, $pos + 4, $len);
        $pos += 4 + $len;
    }
    $RBUF = $pos < $end ? substr($buf, $pos) : '';
    _route($_) for @bodies;
    return 1;
}

sub _route {
    my ($body) = @_;
    my $msg = $MP->unpack($body);
    my $kind = $msg->[0];
    if ($kind == 1) {                                   # response
        my $msgid = $msg->[1];
        my $owner;
        { lock(%OWNER); $owner = delete $OWNER{$msgid}; }
        return unless defined $owner;                   # nobody waits (late)
        if ($owner == $MAIN_TID && is_main()) { $MY_REPLIES{$msgid} = $msg; return }
        { lock(%REPLIES); $REPLIES{$msgid} = $body; cond_broadcast(%REPLIES); }
        _wake() if $owner == $MAIN_TID;
        return;
    }
    if ($kind == 2 && $msg->[1] eq 'ack') {            # flow control
        my $count = $msg->[2][1] // 0;
        lock($SEND_LOCK);
        for (1 .. $count) {
            last unless @OUT_SIZES;
            $OUT_BYTES -= shift @OUT_SIZES;
            $OUT_COUNT--;
        }
        cond_broadcast($SEND_LOCK);
        return;
    }
    if ($kind == 2 && $msg->[1] eq 'unload') { $UNLOADING = 1 }
    if (is_main()) { push @LOCAL_INBOX, $msg; return }
    { lock(@SHARED_INBOX); push @SHARED_INBOX, $body; }
    _wake();
}

sub _wake { POSIX::write($WAKE_W, 'x', 1) }

# ---- sending ----------------------------------------------------------------------
sub _check_may_send {
    die "hexsandbox: the client is gone\n" if $LOST;
    if ($UNLOADING && !is_main()) {
        # Being unloaded: a thread's calls would be discarded; it waits for the end.
        lock($LOST);
        cond_wait($LOST) while 1;
    }
    _start_receiver() unless is_main() || $RECEIVER;
}

sub _notify {
    my ($method, @args) = @_;
    my $body = $MP->pack([2, $method, [_ctx(), @args]]);
    my $size = length $body;
    my $main = is_main();
    while (1) {
        {
            lock($SEND_LOCK);
            if (!$OUT_COUNT || ($OUT_COUNT < $WINDOW && $OUT_BYTES + $size <= $WINDOW_BYTES)) {
                _write_all(pack('N', $size) . $body);
                push @OUT_SIZES, $size;
                $OUT_COUNT++;
                $OUT_BYTES += $size;
                return;
            }
            die "hexsandbox: the client is gone\n" if $LOST;
            cond_timedwait($SEND_LOCK, time + 1) unless $main;
        }
        next unless $main;
        _wait_readable(undef);                          # the main thread reads the acks itself
        lock($READ_LOCK);
        _ingest();
    }
}

sub oneway { _check_may_send(); _notify(@_); return }

sub reentrant {
    # Two-way on the main thread, so hooks it fires run nested before it
    # returns (as hexchat_command does in process); one-way elsewhere.
    return is_main() ? twoway(@_) : oneway(@_);
}

sub twoway {
    my ($method, @args) = @_;
    _check_may_send();
    my $msgid;
    { lock($NEXT_ID); $msgid = ++$NEXT_ID & 0xFFFFFFFF; }
    { lock(%OWNER); $OWNER{$msgid} = threads->tid; }
    _send_frame([0, 0 + $msgid, $method, [_ctx(), @args]]);
    my $reply = is_main() ? _main_wait($msgid) : _thread_wait($msgid);
    my ($error, $result) = ($reply->[2], $reply->[3]);
    die "$error->[0]: $error->[1]\n" if defined $error;
    return $result;
}

sub _thread_wait {
    my ($msgid) = @_;
    lock(%REPLIES);
    until (exists $REPLIES{$msgid}) {
        die "hexsandbox: the client is gone\n" if $LOST;
        cond_timedwait(%REPLIES, time + 1);
    }
    return $MP->unpack(delete $REPLIES{$msgid});
}

sub _main_wait {
    my ($msgid) = @_;
    while (1) {
        return delete $MY_REPLIES{$msgid} if exists $MY_REPLIES{$msgid};
        {
            lock(%REPLIES);
            return $MP->unpack(delete $REPLIES{$msgid}) if exists $REPLIES{$msgid};
        }
        my $msg = _pop_inbox();
        if ($msg) { handle($msg); next }
        die "hexsandbox: the client is gone\n" if $LOST;
        _wait_readable(undef);
        lock($READ_LOCK);
        _ingest();
    }
}

sub respond {
    my ($msgid, $error, $result) = @_;
    _send_frame([1, 0 + $msgid, $error, $result]);
}

# ---- the main thread's loop ---------------------------------------------------------
sub _pop_inbox {
    return shift @LOCAL_INBOX if @LOCAL_INBOX;
    return undef unless $RECEIVER;              # only the receiver fills the shared inbox
    my $body;
    { lock(@SHARED_INBOX); $body = shift @SHARED_INBOX; }
    return defined $body ? $MP->unpack($body) : undef;
}

# Wait until the socket (or the wake pipe, or a hook_fd) is ready. Returns
# the ready fd hooks' (id, flags) pairs.
sub _wait_readable {
    my ($fd_hooks) = @_;
    my ($rin, $win, $ein) = ('', '', '');
    vec($rin, $FD, 1) = 1;
    vec($rin, $WAKE_R, 1) = 1;
    if ($fd_hooks) {
        for my $h (@$fd_hooks) {
            vec($rin, $h->{fd}, 1) = 1 if $h->{flags} & HexChat::FD_READ();
            vec($win, $h->{fd}, 1) = 1 if $h->{flags} & HexChat::FD_WRITE();
            vec($ein, $h->{fd}, 1) = 1 if $h->{flags} & HexChat::FD_EXCEPTION();
        }
    }
    my ($rout, $wout, $eout);
    my $n = _select_spinning($rin, $win, $ein, \$rout, \$wout, \$eout);
    return () if $n <= 0;
    POSIX::read($WAKE_R, my $junk, 4096) if vec($rout, $WAKE_R, 1);
    my @ready;
    if ($fd_hooks) {
        for my $h (@$fd_hooks) {
            my $flags = 0;
            $flags |= HexChat::FD_READ() if vec($rout, $h->{fd}, 1);
            $flags |= HexChat::FD_WRITE() if vec($wout, $h->{fd}, 1);
            $flags |= HexChat::FD_EXCEPTION() if vec($eout, $h->{fd}, 1);
            push @ready, $h if $flags;
        }
    }
    return @ready;
}

# hexsandbox/spinwait.py's adaptive spin (``spin_us``): poll a while before
# sleeping, since waking a sleeping process costs more than the rest of a hook
# round trip; a spin that ran out switches it off, a sleep shorter than the
# spin would have been switches it back on.
my $SPIN = 0;                   # seconds (0: off)
my $SPINNING = 0;

sub _select_spinning {
    my ($rin, $win, $ein, $rout, $wout, $eout) = @_;
    if ($SPINNING) {
        my $end = Time::HiRes::time() + $SPIN;
        while (1) {
            my $n = select($$rout = $rin, $$wout = $win, $$eout = $ein, 0);
            return $n if $n > 0;
            last if Time::HiRes::time() >= $end;
        }
        $SPINNING = 0;
        return select($$rout = $rin, $$wout = $win, $$eout = $ein, undef);
    }
    my $start = $SPIN ? Time::HiRes::time() : 0;
    my $n = select($$rout = $rin, $$wout = $win, $$eout = $ein, undef);
    $SPINNING = 1 if $SPIN && $n > 0 && Time::HiRes::time() - $start < $SPIN;
    return $n;
}

sub _next_message {
    while (1) {
        my $msg = _pop_inbox();
        return $msg if $msg;
        if (my @fd_hooks = HexSandbox::Script::fd_hooks()) {
            HexSandbox::Script::run_fd_hook($_) for _wait_readable(\@fd_hooks);
        } else {
            _wait_readable(undef);
        }
        lock($READ_LOCK);
        _ingest();
    }
}

sub _start_receiver {
    lock($RECEIVER);
    return if $RECEIVER;
    $RECEIVER = 1;
    threads->create(\&_receive_forever)->detach;
}

sub _receive_forever {
    while (!$LOST) {
        my $rin = '';
        vec($rin, $FD, 1) = 1;
        select(my $rout = $rin, undef, undef, undef);
        lock($READ_LOCK);
        _ingest();
    }
}

sub handle {
    my ($msg) = @_;
    my $kind = $msg->[0];
    if ($kind == 0) {
        my (undef, $msgid, $method, $params) = @$msg;
        if ($method eq 'hook') {
            $CTX = $params->[0];
            respond($msgid, undef, HexSandbox::Script::run_hook(@$params[1 .. 3]));
        } elsif ($method eq 'stack') {
            respond($msgid, undef, "--- main thread ---\n  idle: waiting for events\n" . _thread_list());
        } elsif ($method eq 'run') {
            # Tools use `run` as a barrier behind queued callbacks; a Perl
            # worker cannot run the Python function it carries: answers nil.
            respond($msgid, undef, undef);
        } else {
            respond($msgid, ['RuntimeError', "the Perl worker does not serve '$method'"], undef);
        }
    } elsif ($kind == 2) {
        my (undef, $method, $params) = @$msg;
        if ($method eq 'timer') { HexSandbox::Script::fire_timer($params->[1], $params->[0]) }
        elsif ($method eq 'events') {  # asynchronous hooks: eat values go nowhere
            for my $event (@{$params->[1]}) {
                $CTX = $event->[1];
                HexSandbox::Script::run_hook($event->[0], $event->[2], $event->[3]);
            }
        }
        elsif ($method eq 'unload') { $UNLOAD = 1 }
    }
}

sub _thread_list {
    my @others = grep { $_->tid != $MAIN_TID } threads->list(threads::running);
    return '' unless @others;
    return join '', map { "--- thread " . $_->tid . " (running) ---\n" } @others;
}

# As the Python worker's boot (process_tree.set_parent_death_signal): the
# kernel kills us when HexChat dies, even mid-loop; gone already: leave.
sub _die_with_parent {
    my ($parent) = @_;
    if ($^O eq 'linux' && eval { require 'syscall.ph'; 1 }) {
        no strict 'subs';
        syscall(&SYS_prctl, 1, 9, 0, 0, 0);     # PR_SET_PDEATHSIG, SIGKILL
    }
    POSIX::_exit(1) if $parent && getppid() != $parent;
}

sub _stack_on_signal {
    print STDERR "--- main thread (Perl stack, SIGUSR1) ---\n", Carp::longmess('interrupted'), "\n";
}

sub main {
    my %opt = @_;
    $FD = $opt{'--fd'};
    $CTX = $opt{'--ctx'} eq '' ? undef : 0 + $opt{'--ctx'};
    $MAIN_TID = threads->tid;
    _die_with_parent($opt{"--parent"});
    $SPIN = ($opt{'--spin-us'} // 0) / 1e6;
    $SPINNING = $SPIN > 0;
    pipe(my $r, my $w) or die "pipe: $!";
    ($WAKE_R, $WAKE_W) = (fileno $r, fileno $w);
    our @KEEP = ($r, $w);
    { my $fl = fcntl($r, POSIX::F_GETFL(), 0); fcntl($r, POSIX::F_SETFL(), $fl | POSIX::O_NONBLOCK()); }
    $SIG{PIPE} = 'IGNORE';
    $SIG{INT} = 'IGNORE';                   # Ctrl-C in a terminal is HexChat's
    $SIG{USR1} = \&_stack_on_signal;        # /sandbox stack while a callback runs
    $SIG{__WARN__} = sub { HexChat::print($_[0]) };
    open STDOUT, '>&', \*STDERR;            # in process, STDOUT is HexChat's terminal
    my $script = $opt{'--script'};
    if (my $dir = $script =~ m{^(.*)/} ? $1 : undef) { chdir $dir }
    HexSandbox::Script::load_script($script) or leave(0);
    while (!$UNLOAD) {
        my $msg = _next_message();
        handle($msg);
    }
    # Everything after this comes from the unload callback (the client
    # discards what the script sent before it saw the unload).
    oneway('unloading');
    HexSandbox::Script::run_shutdown();
    oneway('unloaded');
    leave(0);
}

# Leave only once the client has read everything we sent. A Unix socket
# closed with bytes still unread in its receive queue (an `ack` on its way)
# makes the peer's next read fail with ECONNRESET, and the client would lose
# our last messages (load_failed, unloaded, the last prints): seen as a
# flaky die-at-load reported as a crash. So the last thing is a request:
# the client answers it after serving all that came before, and anything it
# sent before the answer (an ack) is read on the way to it. Bounded: 2 s.
sub leave {
    my ($code) = @_;
    _barrier();
    POSIX::_exit($code);
}

sub _barrier {
    return unless defined $FD && is_main() && !$LOST;
    $LEAVING = 1;
    my $msgid;
    { lock($NEXT_ID); $msgid = ++$NEXT_ID & 0xFFFFFFFF; }
    { lock(%OWNER); $OWNER{$msgid} = $MAIN_TID; }
    eval { _send_frame([0, 0 + $msgid, 'get_info', [_ctx(), 'version']]) } or return;
    my $end = Time::HiRes::time() + 2;
    while (!$LOST && !exists $MY_REPLIES{$msgid}) {
        my $left = $end - Time::HiRes::time();
        last if $left <= 0;
        my $rin = '';
        vec($rin, $FD, 1) = 1;
        select(my $rout = $rin, undef, undef, $left);
        lock($READ_LOCK);
        _ingest();
    }
}

# `exit` in a script ends the worker: what it sent before still arrives.
END { _barrier() if $MAIN_TID == threads->tid }

1;
