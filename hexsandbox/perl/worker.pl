#!/usr/bin/perl
# hexsandbox's Perl worker: runs one HexChat Perl script in this process and
# speaks docs/protocol.md with the client over the socket --fd names.
# Started by hexsandbox/perl/process.py as
#   perl worker.pl --fd N --ctx HANDLE --script PATH
# Core Perl modules and Data::MessagePack (Debian libdata-messagepack-perl) only.
use strict;
use warnings;
use FindBin ();
use lib "$FindBin::RealBin/lib";
use HexSandbox::Worker;
use HexChat;
HexSandbox::Worker::main(@ARGV);
