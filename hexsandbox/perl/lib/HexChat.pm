package HexChat;
# hexsandbox's stand-in for the HexChat.pm compiled into HexChat 2.16's Perl
# plugin: the public API, written over HexChat::Internal::* (the generated
# stubs in HexSandbox/Api.pm and the local rows in HexSandbox/Script.pm).
# Behaviour follows plugins/perl/lib/HexChat.pm; the code is our own.
# Every function here is a PERL row of hexsandbox/perl/api_table.py.
use strict;
use warnings;
use Carp ();
use Exporter ();
use HexSandbox::Api;

our @ISA = ('Exporter');
our %EXPORT_TAGS = (
    constants => [@HexSandbox::Api::CONSTANTS],
    hooks     => [@HexSandbox::Api::HOOKS],
    util      => [@HexSandbox::Api::UTIL],
);
$EXPORT_TAGS{all} = [map { @$_ } @EXPORT_TAGS{qw(constants hooks util)}];
our @EXPORT = @{ $EXPORT_TAGS{constants} };
our @EXPORT_OK = @{ $EXPORT_TAGS{all} };

# Xchat:: is the same package (old scripts call Xchat::print ...).
BEGIN { *Xchat:: = *HexChat:: }

my $S = \%HexSandbox::Script::SCRIPT;

# A callback given by name is looked up in the calling package.
sub _code_ref {
    my ($callback, $caller) = @_;
    return $callback if ref $callback;
    $callback = "${caller}::$callback" unless $callback =~ /::/;
    no strict 'refs';
    return \&{$callback};
}

sub _options {
    my ($options, %defaults) = @_;
    if (ref $options eq 'HASH') {
        for my $key (keys %defaults) {
            $defaults{$key} = $options->{$key} if defined $options->{$key};
        }
    }
    return \%defaults;
}

sub register {
    my ($name, $version, $description, $callback) = @_;
    if ($S->{registered}) {
        HexChat::print("HexChat::register called more than once in $S->{filename}");
        return ();
    }
    $name = 'Not supplied' unless $name && $name =~ /[[:print:]\w]/;
    $version = 'NaN' unless $version && $version =~ /\d+(?:\.\d+)?/;
    $description = '' unless defined $description;
    $S->{shutdown} = $callback ? _code_ref($callback, scalar caller) : undef;
    @$S{qw(name version description registered)} = ($name, $version, $description, 1);
    return ();
}

sub hook_server {
    return undef unless @_ >= 2;
    my ($message, $callback, $options) = @_;
    my $o = _options($options, priority => PRI_NORM(), data => undef);
    return HexSandbox::Script::add_hook('server', _code_ref($callback, scalar caller), $o->{data}, undef,
                                        HexSandbox::Api::_str($message), HexSandbox::Api::_int($o->{priority}));
}

sub hook_command {
    return undef unless @_ >= 2;
    my ($command, $callback, $options) = @_;
    my $o = _options($options, priority => PRI_NORM(), help_text => undef, data => undef);
    return HexSandbox::Script::add_hook('command', _code_ref($callback, scalar caller), $o->{data}, undef,
                                        HexSandbox::Api::_str($command), HexSandbox::Api::_int($o->{priority}),
                                        HexSandbox::Api::_opt_str($o->{help_text}));
}

sub hook_print {
    return undef unless @_ >= 2;
    my ($event, $callback, $options) = @_;
    my $o = _options($options, priority => PRI_NORM(), run_after_event => 0, filter => 0, data => undef);
    my $cb = _code_ref($callback, scalar caller);
    if ($o->{run_after_event} && $o->{filter}) {
        Carp::carp("HexChat::hook_print's run_after_event and filter options are mutually exclusive, "
                   . "you can only use of them at a time per hook");
        return;
    }
    if (my $after = $o->{run_after_event}) {
        # The callback runs once HexChat has shown the event: from a 0 ms timer.
        my $inner = $cb;
        $cb = sub {
            my @args = @_;
            hook_timer(0, sub {
                $inner->(@args);
                $after->(@args) if ref $after eq 'CODE';
                return REMOVE();
            });
            return EAT_NONE();
        };
    }
    if ($o->{filter}) {
        # A filter returns (or edits in place) the event's arguments; a change
        # re-emits the event with them and eats the original.
        my $inner = $cb;
        $cb = sub {
            my ($words, $data) = @_;
            my @before = @$words;
            my $name = $event;
            my @new = $inner->($words, $data, $name);
            $name = pop @new if @new > @before;
            if (@new == @before) {
                emit_print($name, @new);
                return EAT_ALL();
            }
            if (join("\0", map { $_ // '' } @$words) ne join("\0", map { $_ // '' } @before)) {
                emit_print($name, @$words);
                return EAT_ALL();
            }
            return EAT_NONE();
        };
    }
    return HexSandbox::Script::add_hook('print', $cb, $o->{data}, undef,
                                        HexSandbox::Api::_str($event), HexSandbox::Api::_int($o->{priority}));
}

sub hook_timer {
    return undef unless @_ >= 2;
    my ($timeout, $callback, $data) = @_;
    $data = $data->{data} if ref $data eq 'HASH' && defined $data->{data};
    return HexSandbox::Script::add_hook('timer', _code_ref($callback, scalar caller), $data,
                                        $HexSandbox::Worker::CTX, HexSandbox::Api::_int($timeout));
}

sub hook_fd {
    return undef unless @_ >= 2;
    my ($handle, $callback, $options) = @_;
    return undef unless defined $handle && defined $callback;
    my $fileno = fileno $handle;
    return undef unless defined $fileno;
    my $o = _options($options, flags => FD_READ(), data => undef);
    my $cb = _code_ref($callback, scalar caller);
    my ($flags, $data) = ($o->{flags}, $o->{data});
    return HexSandbox::Script::add_fd_hook($fileno, sub { $cb->($handle, $flags, $data) }, $flags, undef);
}

sub unhook {
    my ($hook) = @_;
    return () unless defined $hook && $hook =~ /^\d+$/;
    return HexSandbox::Script::remove_hook($hook);
}

# In each context named by ($channels, $servers), or the current one.
sub _in_contexts {
    my ($code, @where) = @_;
    my ($channels, $servers) = @where;
    if (@where == 2 && !($channels || $servers)) {
        ($channels, $servers) = ([undef], [undef]);          # explicit undefs: the front tab
    } elsif (!($channels || $servers)) {
        $code->();
        return 1;
    }
    $channels = [$channels] unless ref $channels eq 'ARRAY';
    $servers = $servers ? (ref $servers eq 'ARRAY' ? $servers : [$servers]) : [undef];
    my $done = 0;
    my $previous = get_context();
    for my $server (@$servers) {
        for my $channel (@$channels) {
            next unless set_context($channel, $server);
            $code->();
            $done++;
        }
    }
    set_context($previous);
    return $done;
}

sub print {
    my ($text, @where) = @_;
    return '' unless defined $text;
    $text = join(($, // ''), @$text) if ref $text eq 'ARRAY';
    return _in_contexts(sub { HexChat::Internal::print($text) }, @where);
}

sub printf { my $format = shift; HexChat::print(sprintf($format, @_)) }
sub prnt { goto &HexChat::print }
sub prntf { goto &HexChat::printf }

sub command {
    my ($command, @where) = @_;
    return '' unless defined $command;
    my @commands = ref $command eq 'ARRAY' ? @$command : ($command);
    return _in_contexts(sub { HexChat::Internal::command($_) for @commands }, @where);
}

sub commandf { my $format = shift; HexChat::command(sprintf($format, @_)) }

sub plugin_pref_set {
    my $name = shift // return 0;
    my $value = shift // return 0;
    return HexChat::Internal::plugin_pref_set($name, $value);
}

sub plugin_pref_get {
    my $name = shift // return 0;
    return HexChat::Internal::plugin_pref_get($name);
}

sub plugin_pref_delete {
    my $name = shift // return 0;
    return HexChat::Internal::plugin_pref_delete($name);
}

sub plugin_pref_del { goto &HexChat::plugin_pref_delete }

sub plugin_pref_list { my %prefs = HexChat::Internal::plugin_pref_list(); return \%prefs }

sub get_context { return $HexSandbox::Worker::CTX }

sub set_context {
    my $context;
    if (@_ == 2) { $context = find_context(@_) }
    elsif (@_ == 1) { $context = defined $_[0] && $_[0] =~ /^\d+$/ ? $_[0] : find_context($_[0]) }
    else { $context = find_context() }
    return 0 unless $context;
    my $ok = HexChat::Internal::set_context($context);
    $HexSandbox::Worker::CTX = 0 + $context if $ok;
    return $ok;
}

sub get_info {
    my ($id) = @_;
    return undef unless defined $id;
    return get_prefs($id) if $id eq 'state_cursor' || $id eq 'id';
    return HexChat::Internal::get_info($id);
}

sub user_info {
    my $nick = strip_code(shift(@_) || get_info('nick'));
    for my $user (get_list('users')) {
        return $user if nickcmp($user->{nick}, $nick) == 0;
    }
    return undef;
}

my @CONTEXT_INFO_FIELDS = qw(away channel charset host id inputbox libdirfs modes network
                             nick nickserv server topic version win_ptr win_status
                             configdir xchatdir xchatdirfs state_cursor);

sub context_info {
    my $ctx = shift(@_) || get_context();
    my $previous = get_context();
    return undef unless set_context($ctx);
    my %info = map { $_ => get_info($_) } @CONTEXT_INFO_FIELDS;
    my $channel = HexChat::Internal::context_info();
    @info{keys %$channel} = values %$channel if ref $channel eq 'HASH';
    set_context($previous);
    return \%info;
}

sub get_list {
    my ($name) = @_;
    Carp::carp("'$name' does not appear to be a valid list name")
        unless grep { $name eq $_ } @HexSandbox::Api::LISTS;
    return HexSandbox::Networks::get() if $name eq 'networks';
    return HexChat::Internal::get_list($name);
}

my $CODES = qr/\cB|\cC\d{0,2}(?:,\d{1,2})?|\e\[(?:\d{1,2}(?:;\d{1,2})*)?m|\cG|\cO|\cV|\c_/;

sub strip_code {
    if (defined wantarray) {
        my $text = shift;
        $text =~ s/$CODES//g;
        return $text;
    }
    $_[0] =~ s/$CODES//g if defined $_[0];
    return;
}

package HexSandbox::Networks;
# get_list('networks'): HexChat.pm reads servlist.conf itself (HexChat::List::Network).
sub get {
    my $file = HexChat::get_info('configdir') . '/servlist.conf';
    open my $fh, '<', $file or return ();
    local $/ = "\n\n";
    my @networks;
    while (my $record = <$fh>) {
        chomp $record;
        next if $record =~ /^v=/;
        my %entry = (servers => [], autojoins => [], connect_commands => []);
        for my $line (split /\n/, $record) {
            my ($key, $value) = $line =~ /^(\w)=(.*)$/ or next;
            if ($key eq 'N') { $entry{network} = $value }
            elsif ($key eq 'S') { push @{ $entry{servers} }, $value }
            elsif ($key eq 'C') { push @{ $entry{connect_commands} }, $value }
            elsif ($key eq 'J') { push @{ $entry{autojoins} }, $value }
            elsif ($key eq 'I') { $entry{nick} = $value }
            elsif ($key eq 'i') { $entry{nick2} = $value }
            elsif ($key eq 'U') { $entry{user} = $value }
            elsif ($key eq 'R') { $entry{real} = $value }
            elsif ($key eq 'E') { $entry{encoding} = $value }
            elsif ($key eq 'F') { $entry{flags} = $value }
        }
        push @networks, \%entry;
    }
    return @networks;
}

1;
