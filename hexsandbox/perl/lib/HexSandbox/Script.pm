package HexSandbox::Script;
# The script side of the Perl worker: its hooks and callbacks, HexChat::Internal's
# local rows (hook registration, unhook), loading and unloading -- as HexChat's
# perl.c and HexChat::Embed do them (docs/perl.md). The conversation with the
# client is HexSandbox::Worker's.
use strict;
use warnings;
use Data::MessagePack;

# ---- the script's hooks (the main thread's interpreter) ---------------------------
our %HOOKS;                     # id -> { kind, cb, data, ctx, depth, fd, flags }
my %FD_HOOKS;                   # the hook_fd ones among them (the loop selects on them)
my $NEXT_HOOK = 0;
our %SCRIPT = (name => undef, version => undef, description => undef,
               shutdown => undef, registered => 0, filename => undef, package => undef);

# ---- callbacks ------------------------------------------------------------------------
sub _say { HexChat::Internal::print($_[0]) }

# perl.c calls hook and timer callbacks with G_EVAL | G_KEEPERR: a die
# becomes the warning "\t(in cleanup) MESSAGE" (to $SIG{__WARN__}, which
# prints it, unless the script replaced it) and the callback's value is
# undef, i.e. 0: EAT_NONE for a hook, REMOVE for a timer.
sub _died {
    my ($error) = @_;
    warn "\t(in cleanup) $error";
    return 0;
}

sub _words_until_empty {
    my ($list) = @_;
    my @out;
    for my $w (@$list) { last if !defined $w || $w eq ''; push @out, $w; last if @out == 31 }
    return \@out;
}

sub run_hook {
    my ($id, $word, $word_eol) = @_;
    my $hook = $HOOKS{$id} or return 0;
    return 0 if $hook->{depth};                 # perl.c: a hook never runs inside itself
    my @args = $hook->{kind} eq 'print'
        ? ([@$word], $hook->{data})
        : (_words_until_empty($word), _words_until_empty($word_eol), $hook->{data});
    $hook->{depth}++;
    my $ret = eval { scalar $hook->{cb}->(@args) };
    $hook->{depth}--;
    return _died($@) if $@;
    no warnings;
    return int($ret // 0);
}

sub fire_timer {
    my ($id, $ctx) = @_;
    my $hook = $HOOKS{$id} or return;
    $HexSandbox::Worker::CTX = $hook->{ctx} if defined $hook->{ctx};        # perl.c: timers keep their context
    my $ret = eval { scalar $hook->{cb}->($hook->{data}) };
    my $keep;
    if ($@) { $keep = _died($@) }
    else { no warnings; $keep = int($ret // 0) != 0 }
    delete $HOOKS{$id} unless $keep;
    HexSandbox::Worker::oneway('timer_done', 0 + $id, $keep ? Data::MessagePack::true() : Data::MessagePack::false());
}

sub run_fd_hook {
    my ($hook) = @_;
    my $ret = eval { scalar $hook->{cb}->($hook->{data}) };
    if ($@) { _say("Error in fd callback $@"); return }
    no warnings;
    HexChat::unhook($hook->{id}) if int($ret // 0) == 0;
}

# ---- HexChat::Internal's local rows (see the table) --------------------------------------
sub add_hook {
    my ($kind, $cb, $data, $ctx, @wire) = @_;
    my $id = ++$NEXT_HOOK;
    $HOOKS{$id} = { id => $id, kind => $kind, cb => $cb, data => $data, ctx => $ctx, depth => 0 };
    HexSandbox::Worker::oneway($HexSandbox::Api::HOOK_WIRE{$kind}, 0 + $id, @wire);
    return $id;
}

sub add_fd_hook {
    my ($fd, $cb, $flags, $data) = @_;
    my $id = ++$NEXT_HOOK;
    $HOOKS{$id} = $FD_HOOKS{$id} = { id => $id, kind => 'fd', cb => $cb, data => $data,
                                     fd => $fd, flags => $flags, depth => 0 };
    return $id;
}

sub remove_hook {
    my ($id) = @_;
    my $hook = delete $HOOKS{$id} or return;
    delete $FD_HOOKS{$id};
    HexSandbox::Worker::oneway('unhook', 0 + $id) unless $hook->{kind} eq 'fd';
    return ($id);   # what perl.c's XS unhook really returns (see the table)
}

# ---- loading and unloading ---------------------------------------------------------------
sub file2pkg {
    my ($file) = @_;
    my $name = $file;
    $name =~ s{.*/}{};
    $name =~ s/\.pl$//i;
    $name =~ s{([^A-Za-z0-9/])}{'_' . unpack('H*', $1)}eg;
    return "HexChat::Script::$name";
}

sub _eval_source { no strict; no warnings; eval $_[0] }

sub load_script {
    my ($file) = @_;
    my $package = file2pkg($file);
    @SCRIPT{qw(filename package)} = ($file, $package);
    my $source;
    if (open my $fh, '<', $file) { local $/; $source = <$fh>; close $fh }
    else {
        _say("Error opening '$file': $!\n");
        HexSandbox::Worker::oneway('load_failed', HexSandbox::Api::_str("cannot open $file: $!"));
        return 0;
    }
    $source =~ s/^__END__.*//ms;
    # The script's own package, line numbers and file name, as HexChat's
    # loader gives them (so caller(), die messages and name callbacks match).
    _eval_source(qq{#line 1 "$file"\n\{package $package;} . $source . "\n}");
    if ($@) {
        (my $error = $@) =~ s/\(eval \d+\)/$file/g;
        _say("Error loading '$file':\n$error\n");
        run_shutdown();
        HexSandbox::Worker::oneway('load_failed', HexSandbox::Api::_str((split /\n/, $error)[0] // 'error'));
        return 0;
    }
    my @info = $SCRIPT{registered} ? @SCRIPT{qw(name version description)} : ('', 'unknown', '');
    HexSandbox::Worker::oneway('loaded', map { HexSandbox::Api::_str($_) } @info);
    return 1;
}

sub run_shutdown {
    my $cb = $SCRIPT{shutdown};
    if ($cb) {
        eval {
            if (ref $cb eq 'CODE') { $cb->() }
            else { no strict 'refs'; &{$cb}() }
        };
    }
    for my $id (sort { $a <=> $b } keys %HOOKS) { HexChat::unhook($id) }
}

# The hook_fd hooks: the worker's loop selects on their descriptors.
sub fd_hooks { return values %FD_HOOKS }

1;
