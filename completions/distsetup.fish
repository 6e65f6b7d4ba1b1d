# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_distsetup_global_optspecs
    string join \n h/help V/version
end

function __fish_distsetup_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_distsetup_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_distsetup_using_subcommand
    set -l cmd (__fish_distsetup_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c distsetup -n "__fish_distsetup_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c distsetup -n "__fish_distsetup_needs_command" -s V -l version -d 'Print version'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "edit" -d 'Read or change assignments in a shell-style config file, keeping every other byte'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "hosts" -d 'Check a distcc host list: one line per host, total slots, warnings'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "undo" -d 'Undo an applied change set of this root (default: the newest), or list them'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "master" -d 'Configure the machine that starts builds (makepkg.conf, make.conf, /etc/distcc/hosts)'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "volunteer" -d 'Configure this machine as a volunteer: toolchain aliases, server configuration, service'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "doctor" -d 'Diagnose a cluster: hosts, remote compilers, the local set-up (or a volunteer\'s)'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "wizard" -d 'Set up this machine as a master or a volunteer by answering questions'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "completions" -d 'Print shell completions for SHELL to standard output'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "serve" -d 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "trust" -d 'Pin the keys of the secure link: the volunteers this master uses, the masters this volunteer serves'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "relay" -d 'The master\'s scheduler in front of the stock distcc client: compiler-aware host choice, retries instead of silent local builds, hedged stragglers'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "top" -d 'Watch the relay: volunteers, running jobs, retries, hedges, local compiles'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l get -d 'Print the value bash would see (array: one element per line); exit 1 when unassigned. For a Portage make.conf: the value Portage\'s own parser reads from this file (newlines become spaces, ${VAR} expands inside single quotes too, an unquoted # ends the value, sourced files are read); a file emerge cannot parse is an error' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l set -d 'Set a scalar (repeatable; all edits apply in command-line order)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l unset -d 'Remove the assignment of NAME' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l enable -d 'Enable WORD in an array or word list (`!WORD` becomes `WORD`, else it is added)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l disable -d 'Disable WORD in an array or word list (`WORD` becomes `!WORD`, else `!WORD` is added)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l add -d 'Add WORD to an array or word list when absent' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l remove -d 'Remove every WORD from an array or word list' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l dialect -d 'Which shell reads the file [default: portage for make.conf, else bash; envfile only when asked]' -r -f -a "bash\t'bash: makepkg.conf, Gentoo conf.d, /etc/default/distcc'
portage\t'Portage make.conf: no arrays, no `+=`, no `$(...)`'
envfile\t'systemd EnvironmentFile (Arch /etc/conf.d/distccd): no expansion'"
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l root -d 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l verify -d 'Check the byte-exact round trip and list the assignments (static or dynamic)'
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l create -d 'Create the file when it does not exist'
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l dry-run -d 'Print the diff and change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l yes -d 'Apply without asking'
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -l check -d 'Exit 1 when changes are pending, 0 when there are none; change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand edit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c distsetup -n "__fish_distsetup_using_subcommand hosts" -l file -d 'Read the list from a file (e.g. /etc/distcc/hosts)' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand hosts" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand undo" -l root -d 'Resolve every system path under DIR; DIR must exist' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand undo" -l yes -d 'Restore without asking'
complete -c distsetup -n "__fish_distsetup_using_subcommand undo" -l list -d 'List the change sets that can be undone (ID, date, command line, paths), newest first'
complete -c distsetup -n "__fish_distsetup_using_subcommand undo" -l forget -d 'Drop change set ID from the history without restoring anything: for a set that cannot be undone any more because its files were changed since (they stay as they are; its backups are kept)'
complete -c distsetup -n "__fish_distsetup_using_subcommand undo" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l profile -d 'The distro profile (arch, archarm, debian, gentoo, ...); `list` shows them all' -r -f -a "arch\t''
archarm\t''
debian\t''
gentoo\t''
list\t''"
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l profile-file -d 'Read the profile from this TOML file instead' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l hosts -d 'The distcc host list (DISTCC_HOSTS syntax); default: the hosts already configured' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l jobs -d 'make\'s -j: `auto` (from the cores, the remote slots and the profile\'s rule) or a number' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l build-user -d 'The user makepkg builds as, who owns the cache (with --ccache) [default: the user who ran sudo]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l relay-port -d 'The relay\'s port [default: 3632 when free on 127.0.0.1, else the next free one]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l trust -d 'With --relay: pin the key of the `,tls` volunteer in --hosts (FINGERPRINT when there is one such host, else HOST:PORT=FINGERPRINT for each; repeatable); prints this master\'s fingerprint for the volunteers to pin' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l root -d 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l ccache -d 'Put ccache in front of distcc: makepkg\'s `ccache` build option, Portage\'s FEATURES=ccache with CCACHE_DIR, ccache\'s prefix_command on Debian; the cache directory is created for the user who builds'
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l relay -d 'Put `distsetup relay` between the distcc client and the volunteers: the client sends every job to 127.0.0.1, the relay picks the volunteer (its service is written too)'
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l dry-run -d 'Print the diff and change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l yes -d 'Apply without asking'
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -l check -d 'Exit 1 when changes are pending, 0 when there are none; change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand master" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l toolchain -d 'A toolchain name the profile knows (x-tools8, x-tools7h, x-tools86, ...), a path (an x-tools tree, a bin directory) or a system triple (aarch64-linux-gnu)' -r -f -a "x-tools\t''
x-tools6h\t''
x-tools7h\t''
x-tools8\t''
x-tools86\t''"
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l profile -d 'The distro profile of this volunteer (archarm, arch, gentoo, debian, void, or a user profile) [default: from /etc/os-release, as doctor and wizard detect it]' -r -f -a "arch\t''
archarm\t''
debian\t''
gentoo\t''
void\t''"
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l server -d 'Which compile server to configure' -r -f -a "embedded\t'`distsetup serve` as the compile server (needs nothing but the toolchain)'
distccd\t'The system\'s distccd: whitelist links, its configuration and a unit per toolchain'"
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l alias -d 'Answer the master\'s triple MASTER with this toolchain\'s LOCAL prefix (repeatable)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l allow -d 'A client address or CIDR network allowed to use this volunteer (repeatable; required)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l jobs -d 'Concurrent jobs [default: this machine\'s usable cores]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l port -d 'The compile port [default: the toolchain\'s port in the profile, else 3632]; stats use PORT+1000' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l listen -d 'The one address the server listens on [default: every address, IPv4 and IPv6; Debian\'s LISTENER 0.0.0.0]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l zeroconf-version -d 'Advertise for masters whose `cc -dumpversion` says V (a gcc that differs in patch level)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l root -d 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l allow-anyone -d 'Allow everyone (0.0.0.0/0, ::/0): refused unless given'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l enable -d 'Enable and start the service (systemctl enable --now) when systemd runs; with --root only files are written'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l foreground -d 'Apply, then run the embedded server in the foreground with the same settings'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l zeroconf -d 'Advertise this toolchain to masters with DISTCC_HOSTS=+zeroconf (an Avahi service file)'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l secure -d 'Serve the secure link (`serve --tls`): only masters pinned with `distsetup trust add --master` get in; prints this volunteer\'s fingerprint for the master to pin'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l dry-run -d 'Print the diff and change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l yes -d 'Apply without asking'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -l check -d 'Exit 1 when changes are pending, 0 when there are none; change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand volunteer" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l hosts -d 'Check this host list instead of the configured one (DISTCC_HOSTS syntax)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l profile -d 'The distro profile [default: from /etc/os-release]' -r -f -a "arch\t''
archarm\t''
debian\t''
gentoo\t''
void\t''"
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l compiler -d 'The local compiler the remote ones are compared with [default: the --remote-compiler name when it exists here, else cc]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l remote-compiler -d 'The compiler name sent to the hosts [default: `<cc -dumpmachine>-gcc`, as the distcc client sends]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l speed-rounds -d 'Compiles per host for the speed probe (0 skips it)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l connect-timeout -d 'Seconds to wait for a connection' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l timeout -d 'Seconds to wait for a host\'s answer to a probe compile (hosts are probed at once)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l root -d 'Resolve every system path under DIR' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l volunteer -d 'Check this machine as a volunteer'
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -l json -d 'Print the report as JSON'
complete -c distsetup -n "__fish_distsetup_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand wizard" -l root -d 'Resolve every system path under DIR (a chroot, or a test root)' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand wizard" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l listen -d 'Address to listen on (repeatable); default: every address' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s p -l port -d 'TCP port for jobs (0: any free port, logged at startup)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s a -l allow -d 'Client network allowed to connect, IPv4 or IPv6 CIDR or address (repeatable; required)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s j -l jobs -d 'Most compiles at once [default: CPUs + 2]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l toolchain -d 'Directory of compilers clients may ask for by name: TRIPLE-gcc, -g++, -cc, -c++, -cpp, gcc, ... (repeatable)' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l alias -d 'Map a requested name to a local one: triples (FROM=TO maps every FROM-tool to TO-tool) or whole names (gcc=aarch64-linux-gnu-gcc) (repeatable)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l whitelist-dir -d 'Directory whose entries whitelist system compilers, distcc style (repeatable)' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l stats-port -d 'Port of the stats page' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l log-level -d 'Log level: error, warning, notice, info or debug' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l log-file -d 'Append the log to this file instead of stderr' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l job-lifetime -d 'Kill a compile running longer than SECS (reply status 118); 0: never [default: 1800]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s P -l pid-file -d 'Write the server\'s pid to this file while it runs' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l io-timeout -d 'Give up on a client that sends or reads nothing for SECS' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l max-connections -d 'Most open client connections (reading, queued or compiling)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l max-client-connections -d 'Most connections one client address may hold; more are closed at once' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l max-client-queued -d 'Most jobs one client may have queued or compiling; its other connections wait unread [default: 2 x jobs + 2]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l max-held-sources -d 'Most bytes of source all waiting connections may hold on disk together (K, M, G); past it a request is closed without reply' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l grace -d 'After SIGTERM, how long running jobs may take before they are killed' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l lifetime -d 'Stop by itself after SECS, as on SIGTERM (tests, benchmarks)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s N -l nice -d 'Lower the server\'s and its compilers\' priority by N (0-19), like distccd\'s --nice' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l user -d 'Started as root: after binding, run as this user [default: the distro\'s distcc user, else nobody]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l max-object -d 'Refuse to send back an object larger than SIZE (bytes, or with K, M, G) [default: 4G, the protocol\'s limit]' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l forward -d 'With --tls: hand each job to the distccd listening at ADDR (a loopback address and port) instead of compiling here' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l root -d 'With --tls: find /etc/distsetup (the key pair, the trusted masters) under DIR' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l plain-port -d 'With --tls: also serve plain distcc on PORT, for the clients --allow names (required then); without it the secure link is the only way in' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l stats -d 'Serve distccd\'s stats page (plus refusal counts) on the stats port'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l inetd -d 'Serve one job on stdin/stdout (ssh \'@host\' mode, inetd); --allow then applies only to IP sockets'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l enable-tcp-insecure -d 'distccd\'s switch to serve TCP without an access list: accepted only with --inetd (the ssh client appends it), refused otherwise'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l allow-anyone -d 'Allow everyone: an --allow network with a /0 prefix is refused without it'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l daemon -d 'distccd\'s spelling: serving TCP is the default; accepted and changes nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l no-detach -d 'distccd\'s spelling: serve never detaches (run it under systemd, or start-stop-daemon --background)'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l verbose -d 'distccd\'s spelling of --log-level debug'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l log-stderr -d 'distccd\'s spelling: log to stderr (the default without --log-file)'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l version -d 'Print the version, the protocols and the default port, distccd style, and exit'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l tls -d 'Serve the secure link (TLS 1.3, pinned keys) on --port instead of plain distcc: only masters pinned in /etc/distsetup/trusted-masters (distsetup trust add --master) get in, whatever --allow says'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'On a master: pin volunteer HOST\'s key (and print this master\'s fingerprint); with --master FINGERPRINT on a volunteer: accept that master'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'Print this machine\'s fingerprint and every pinned key'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Unpin a host, a master\'s note or a fingerprint (from both lists)'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from add" -l master -d 'On a volunteer: accept the master with this fingerprint (as the master printed it)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from add" -l note -d 'With --master: a note kept beside the key (which machine it is)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from add" -l root -d 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from add" -l dry-run -d 'Print the diff and change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from add" -l yes -d 'Apply without asking'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from add" -l check -d 'Exit 1 when changes are pending, 0 when there are none; change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from list" -l root -d 'Resolve every system path under DIR' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from remove" -l root -d 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from remove" -l dry-run -d 'Print the diff and change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from remove" -l yes -d 'Apply without asking'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from remove" -l check -d 'Exit 1 when changes are pending, 0 when there are none; change nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "add" -d 'On a master: pin volunteer HOST\'s key (and print this master\'s fingerprint); with --master FINGERPRINT on a volunteer: accept that master'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "list" -d 'Print this machine\'s fingerprint and every pinned key'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Unpin a host, a master\'s note or a fingerprint (from both lists)'
complete -c distsetup -n "__fish_distsetup_using_subcommand trust; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l listen -d 'Loopback address and port to listen on' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l hosts -d 'The volunteers, in distcc\'s host-list syntax (`HOST[:PORT][/LIMIT][,lzo]`, `+zeroconf`); `,tls`: over the secure link (pinned with `distsetup trust add`)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l io-timeout -d 'Seconds of silence from a volunteer (a compile included) before the attempt fails' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l connect-timeout -d 'Seconds a connect to a volunteer may take' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l attempts -d 'Attempts on volunteers per job before this machine compiles it' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l hedge-percent -d 'Duplicates for stragglers, at most this percentage of the jobs (0: never)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l hedge-after-ms -d 'No duplicate for a job younger than this many milliseconds' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l hedge-warmup -d 'No duplicate before this many jobs finished (the predictions need a track record)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l local-slots -d 'Parallel compiles on this machine when no volunteer is left (default: its CPUs)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l lifetime -d 'Stop by itself after SECS (tests, benchmarks)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l root -d 'Find /etc/distsetup (this master\'s key pair, the pinned volunteers of `,tls` hosts) under DIR' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l link-compression -d 'Compression on `,tls` links: auto (by the measured compression speed of this machine and bandwidth of each link), none, lzo or zstd' -r -f -a "auto\t''
none\t''
lzo\t''
zstd\t''"
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -l user -d 'Started as root: after reading this machine\'s key (`,tls` hosts) and binding, run as USER (OpenRC and runit start the relay this way; systemd hands the key to a dynamic user instead)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand relay" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand top" -l relay -d 'The relay\'s address (where the client sends jobs)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand top" -l timeline -d 'Draw the last build\'s timeline (one row per host slot) into FILE as SVG, and exit' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand top" -l once -d 'Print one snapshot and exit'
complete -c distsetup -n "__fish_distsetup_using_subcommand top" -l json -d 'With --once: the snapshot as JSON (for scripts)'
complete -c distsetup -n "__fish_distsetup_using_subcommand top" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "edit" -d 'Read or change assignments in a shell-style config file, keeping every other byte'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "hosts" -d 'Check a distcc host list: one line per host, total slots, warnings'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "undo" -d 'Undo an applied change set of this root (default: the newest), or list them'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "master" -d 'Configure the machine that starts builds (makepkg.conf, make.conf, /etc/distcc/hosts)'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "volunteer" -d 'Configure this machine as a volunteer: toolchain aliases, server configuration, service'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "doctor" -d 'Diagnose a cluster: hosts, remote compilers, the local set-up (or a volunteer\'s)'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "wizard" -d 'Set up this machine as a master or a volunteer by answering questions'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "completions" -d 'Print shell completions for SHELL to standard output'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "serve" -d 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "trust" -d 'Pin the keys of the secure link: the volunteers this master uses, the masters this volunteer serves'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "relay" -d 'The master\'s scheduler in front of the stock distcc client: compiler-aware host choice, retries instead of silent local builds, hedged stragglers'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "top" -d 'Watch the relay: volunteers, running jobs, retries, hedges, local compiles'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from edit hosts undo master volunteer doctor wizard completions serve trust relay top help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "add" -d 'On a master: pin volunteer HOST\'s key (and print this master\'s fingerprint); with --master FINGERPRINT on a volunteer: accept that master'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "list" -d 'Print this machine\'s fingerprint and every pinned key'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and __fish_seen_subcommand_from trust" -f -a "remove" -d 'Unpin a host, a master\'s note or a fingerprint (from both lists)'
