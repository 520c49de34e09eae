#!/usr/bin/perl
# A hexsandbox external application in Perl, written from docs/protocol.md
# and docs/remote.md alone: frames are a 4-byte big-endian length and one
# msgpack value; the first request is "hello".
#
#   perl remote_client.pl SOCKET NAME
#
# 1. connects without a token and waits until the user allows NAME; prints
#    "token <T>" (what HexChat issued) and leaves quietly;
# 2. connects again presenting that token, runs one command, hooks
#    "Channel Message", prints "ready", answers the first event with
#    EAT_NONE (printing "event NICK|TEXT"), and leaves quietly.
use strict;
use warnings;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Data::MessagePack;

$| = 1;
my ($path, $name) = @ARGV;
my $mp = Data::MessagePack->new->utf8->prefer_integer;

sub send_msg {
    my ($sock, $msg) = @_;
    my $body = $mp->pack($msg);
    print {$sock} pack("N", length $body) . $body or die "write: $!";
}

sub read_exact {
    my ($sock, $n) = @_;
    my $buf = "";
    while (length $buf < $n) {
        my $got = sysread($sock, $buf, $n - length $buf, length $buf);
        die "HexChat closed the connection\n" unless $got;
    }
    return $buf;
}

sub read_msg {
    my ($sock) = @_;
    my $len = unpack("N", read_exact($sock, 4));
    return $mp->unpack(read_exact($sock, $len));
}

sub hello {
    my ($token) = @_;
    my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path) or die "connect: $!";
    $sock->autoflush(1);
    send_msg($sock, [0, 1, "hello", [undef, $name, $token]]);
    while (1) {
        my $msg = read_msg($sock);
        if ($msg->[0] == 2 && $msg->[1] eq "waiting") {
            print "waiting $msg->[2][1]\n";
        } elsif ($msg->[0] == 1 && $msg->[1] == 1) {
            die "refused: $msg->[2][1]\n" if defined $msg->[2];
            return ($sock, $msg->[3]);
        }
    }
}

sub leave {
    my ($sock, $ctx) = @_;
    send_msg($sock, [2, "unloaded", [$ctx]]);
    shutdown($sock, 1);                      # half-close, then read to the end
    1 while sysread($sock, my $rest, 65536);
    close $sock;
}

my ($first, $welcome) = hello(undef);
my $token = $welcome->{token} // die "no token issued\n";
print "token $token\n";
leave($first, $welcome->{context});

my ($sock, $again) = hello($token);
die "a second token for a known app\n" if defined $again->{token};
my $ctx = $again->{context};
send_msg($sock, [2, "command", [$ctx, "say hello from perl"]]);
send_msg($sock, [2, "hook_print", [$ctx, 7, "Channel Message", 0]]);
print "ready\n";
while (1) {
    my $msg = read_msg($sock);
    next unless $msg->[0] == 0;              # acks and other notifications
    my ($kind, $msgid, $method, $params) = @$msg;
    if ($method eq "hook" && $params->[1] == 7) {
        my $word = $params->[2];
        print "event $word->[0]|$word->[1]\n";
        send_msg($sock, [1, $msgid, undef, 0]);   # EAT_NONE
        last;
    }
    send_msg($sock, [1, $msgid, ["AttributeError", "not supported"], undef]);
}
leave($sock, $ctx);
print "done\n";
