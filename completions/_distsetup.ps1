
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'distsetup' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'distsetup'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'distsetup' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Read or change assignments in a shell-style config file, keeping every other byte')
            [CompletionResult]::new('hosts', 'hosts', [CompletionResultType]::ParameterValue, 'Check a distcc host list: one line per host, total slots, warnings')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Undo an applied change set of this root (default: the newest), or list them')
            [CompletionResult]::new('master', 'master', [CompletionResultType]::ParameterValue, 'Configure the machine that starts builds (makepkg.conf, make.conf, /etc/distcc/hosts)')
            [CompletionResult]::new('volunteer', 'volunteer', [CompletionResultType]::ParameterValue, 'Configure this machine as a volunteer: toolchain aliases, server configuration, service')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Diagnose a cluster: hosts, remote compilers, the local set-up (or a volunteer''s)')
            [CompletionResult]::new('wizard', 'wizard', [CompletionResultType]::ParameterValue, 'Set up this machine as a master or a volunteer by answering questions')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL to standard output')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Pin the keys of the secure link: the volunteers this master uses, the masters this volunteer serves')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'The master''s scheduler in front of the stock distcc client: compiler-aware host choice, retries instead of silent local builds, hedged stragglers')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'Watch the relay: volunteers, running jobs, retries, hedges, local compiles')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'distsetup;edit' {
            [CompletionResult]::new('--get', '--get', [CompletionResultType]::ParameterName, 'Print the value bash would see (array: one element per line); exit 1 when unassigned. For a Portage make.conf: the value Portage''s own parser reads from this file (newlines become spaces, ${VAR} expands inside single quotes too, an unquoted # ends the value, sourced files are read); a file emerge cannot parse is an error')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set a scalar (repeatable; all edits apply in command-line order)')
            [CompletionResult]::new('--unset', '--unset', [CompletionResultType]::ParameterName, 'Remove the assignment of NAME')
            [CompletionResult]::new('--enable', '--enable', [CompletionResultType]::ParameterName, 'Enable WORD in an array or word list (`!WORD` becomes `WORD`, else it is added)')
            [CompletionResult]::new('--disable', '--disable', [CompletionResultType]::ParameterName, 'Disable WORD in an array or word list (`WORD` becomes `!WORD`, else `!WORD` is added)')
            [CompletionResult]::new('--add', '--add', [CompletionResultType]::ParameterName, 'Add WORD to an array or word list when absent')
            [CompletionResult]::new('--remove', '--remove', [CompletionResultType]::ParameterName, 'Remove every WORD from an array or word list')
            [CompletionResult]::new('--dialect', '--dialect', [CompletionResultType]::ParameterName, 'Which shell reads the file [default: portage for make.conf, else bash; envfile only when asked]')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Check the byte-exact round trip and list the assignments (static or dynamic)')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create the file when it does not exist')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the diff and change nothing')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 1 when changes are pending, 0 when there are none; change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'distsetup;hosts' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read the list from a file (e.g. /etc/distcc/hosts)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;undo' {
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR; DIR must exist')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Restore without asking')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the change sets that can be undone (ID, date, command line, paths), newest first')
            [CompletionResult]::new('--forget', '--forget', [CompletionResultType]::ParameterName, 'Drop change set ID from the history without restoring anything: for a set that cannot be undone any more because its files were changed since (they stay as they are; its backups are kept)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;master' {
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The distro profile (arch, archarm, debian, gentoo, ...); `list` shows them all')
            [CompletionResult]::new('--profile-file', '--profile-file', [CompletionResultType]::ParameterName, 'Read the profile from this TOML file instead')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The distcc host list (DISTCC_HOSTS syntax); default: the hosts already configured')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'make''s -j: `auto` (from the cores, the remote slots and the profile''s rule) or a number')
            [CompletionResult]::new('--build-user', '--build-user', [CompletionResultType]::ParameterName, 'The user makepkg builds as, who owns the cache (with --ccache) [default: the user who ran sudo]')
            [CompletionResult]::new('--relay-port', '--relay-port', [CompletionResultType]::ParameterName, 'The relay''s port [default: 3632 when free on 127.0.0.1, else the next free one]')
            [CompletionResult]::new('--trust', '--trust', [CompletionResultType]::ParameterName, 'With --relay: pin the key of the `,tls` volunteer in --hosts (FINGERPRINT when there is one such host, else HOST:PORT=FINGERPRINT for each; repeatable); prints this master''s fingerprint for the volunteers to pin')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist')
            [CompletionResult]::new('--ccache', '--ccache', [CompletionResultType]::ParameterName, 'Put ccache in front of distcc: makepkg''s `ccache` build option, Portage''s FEATURES=ccache with CCACHE_DIR, ccache''s prefix_command on Debian; the cache directory is created for the user who builds')
            [CompletionResult]::new('--relay', '--relay', [CompletionResultType]::ParameterName, 'Put `distsetup relay` between the distcc client and the volunteers: the client sends every job to 127.0.0.1, the relay picks the volunteer (its service is written too)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the diff and change nothing')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 1 when changes are pending, 0 when there are none; change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;volunteer' {
            [CompletionResult]::new('--toolchain', '--toolchain', [CompletionResultType]::ParameterName, 'A toolchain name the profile knows (x-tools8, x-tools7h, x-tools86, ...), a path (an x-tools tree, a bin directory) or a system triple (aarch64-linux-gnu)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The distro profile of this volunteer (archarm, arch, gentoo, debian, void, or a user profile) [default: from /etc/os-release, as doctor and wizard detect it]')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'Which compile server to configure')
            [CompletionResult]::new('--alias', '--alias', [CompletionResultType]::ParameterName, 'Answer the master''s triple MASTER with this toolchain''s LOCAL prefix (repeatable)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'A client address or CIDR network allowed to use this volunteer (repeatable; required)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Concurrent jobs [default: this machine''s usable cores]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'The compile port [default: the toolchain''s port in the profile, else 3632]; stats use PORT+1000')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'The one address the server listens on [default: every address, IPv4 and IPv6; Debian''s LISTENER 0.0.0.0]')
            [CompletionResult]::new('--zeroconf-version', '--zeroconf-version', [CompletionResultType]::ParameterName, 'Advertise for masters whose `cc -dumpversion` says V (a gcc that differs in patch level)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist')
            [CompletionResult]::new('--allow-anyone', '--allow-anyone', [CompletionResultType]::ParameterName, 'Allow everyone (0.0.0.0/0, ::/0): refused unless given')
            [CompletionResult]::new('--enable', '--enable', [CompletionResultType]::ParameterName, 'Enable and start the service (systemctl enable --now) when systemd runs; with --root only files are written')
            [CompletionResult]::new('--foreground', '--foreground', [CompletionResultType]::ParameterName, 'Apply, then run the embedded server in the foreground with the same settings')
            [CompletionResult]::new('--zeroconf', '--zeroconf', [CompletionResultType]::ParameterName, 'Advertise this toolchain to masters with DISTCC_HOSTS=+zeroconf (an Avahi service file)')
            [CompletionResult]::new('--secure', '--secure', [CompletionResultType]::ParameterName, 'Serve the secure link (`serve --tls`): only masters pinned with `distsetup trust add --master` get in; prints this volunteer''s fingerprint for the master to pin')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the diff and change nothing')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 1 when changes are pending, 0 when there are none; change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'distsetup;doctor' {
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'Check this host list instead of the configured one (DISTCC_HOSTS syntax)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The distro profile [default: from /etc/os-release]')
            [CompletionResult]::new('--compiler', '--compiler', [CompletionResultType]::ParameterName, 'The local compiler the remote ones are compared with [default: the --remote-compiler name when it exists here, else cc]')
            [CompletionResult]::new('--remote-compiler', '--remote-compiler', [CompletionResultType]::ParameterName, 'The compiler name sent to the hosts [default: `<cc -dumpmachine>-gcc`, as the distcc client sends]')
            [CompletionResult]::new('--speed-rounds', '--speed-rounds', [CompletionResultType]::ParameterName, 'Compiles per host for the speed probe (0 skips it)')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a connection')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds to wait for a host''s answer to a probe compile (hosts are probed at once)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR')
            [CompletionResult]::new('--volunteer', '--volunteer', [CompletionResultType]::ParameterName, 'Check this machine as a volunteer')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as JSON')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;wizard' {
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR (a chroot, or a test root)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'distsetup;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on (repeatable); default: every address')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'TCP port for jobs (0: any free port, logged at startup)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'TCP port for jobs (0: any free port, logged at startup)')
            [CompletionResult]::new('-a', '-a', [CompletionResultType]::ParameterName, 'Client network allowed to connect, IPv4 or IPv6 CIDR or address (repeatable; required)')
            [CompletionResult]::new('--allow', '--allow', [CompletionResultType]::ParameterName, 'Client network allowed to connect, IPv4 or IPv6 CIDR or address (repeatable; required)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Most compiles at once [default: CPUs + 2]')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Most compiles at once [default: CPUs + 2]')
            [CompletionResult]::new('--toolchain', '--toolchain', [CompletionResultType]::ParameterName, 'Directory of compilers clients may ask for by name: TRIPLE-gcc, -g++, -cc, -c++, -cpp, gcc, ... (repeatable)')
            [CompletionResult]::new('--alias', '--alias', [CompletionResultType]::ParameterName, 'Map a requested name to a local one: triples (FROM=TO maps every FROM-tool to TO-tool) or whole names (gcc=aarch64-linux-gnu-gcc) (repeatable)')
            [CompletionResult]::new('--whitelist-dir', '--whitelist-dir', [CompletionResultType]::ParameterName, 'Directory whose entries whitelist system compilers, distcc style (repeatable)')
            [CompletionResult]::new('--stats-port', '--stats-port', [CompletionResultType]::ParameterName, 'Port of the stats page')
            [CompletionResult]::new('--log-level', '--log-level', [CompletionResultType]::ParameterName, 'Log level: error, warning, notice, info or debug')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Append the log to this file instead of stderr')
            [CompletionResult]::new('--job-lifetime', '--job-lifetime', [CompletionResultType]::ParameterName, 'Kill a compile running longer than SECS (reply status 118); 0: never [default: 1800]')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Write the server''s pid to this file while it runs')
            [CompletionResult]::new('--pid-file', '--pid-file', [CompletionResultType]::ParameterName, 'Write the server''s pid to this file while it runs')
            [CompletionResult]::new('--io-timeout', '--io-timeout', [CompletionResultType]::ParameterName, 'Give up on a client that sends or reads nothing for SECS')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Most open client connections (reading, queued or compiling)')
            [CompletionResult]::new('--max-client-connections', '--max-client-connections', [CompletionResultType]::ParameterName, 'Most connections one client address may hold; more are closed at once')
            [CompletionResult]::new('--max-client-queued', '--max-client-queued', [CompletionResultType]::ParameterName, 'Most jobs one client may have queued or compiling; its other connections wait unread [default: 2 x jobs + 2]')
            [CompletionResult]::new('--max-held-sources', '--max-held-sources', [CompletionResultType]::ParameterName, 'Most bytes of source all waiting connections may hold on disk together (K, M, G); past it a request is closed without reply')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'After SIGTERM, how long running jobs may take before they are killed')
            [CompletionResult]::new('--lifetime', '--lifetime', [CompletionResultType]::ParameterName, 'Stop by itself after SECS, as on SIGTERM (tests, benchmarks)')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Lower the server''s and its compilers'' priority by N (0-19), like distccd''s --nice')
            [CompletionResult]::new('--nice', '--nice', [CompletionResultType]::ParameterName, 'Lower the server''s and its compilers'' priority by N (0-19), like distccd''s --nice')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Started as root: after binding, run as this user [default: the distro''s distcc user, else nobody]')
            [CompletionResult]::new('--max-object', '--max-object', [CompletionResultType]::ParameterName, 'Refuse to send back an object larger than SIZE (bytes, or with K, M, G) [default: 4G, the protocol''s limit]')
            [CompletionResult]::new('--forward', '--forward', [CompletionResultType]::ParameterName, 'With --tls: hand each job to the distccd listening at ADDR (a loopback address and port) instead of compiling here')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'With --tls: find /etc/distsetup (the key pair, the trusted masters) under DIR')
            [CompletionResult]::new('--plain-port', '--plain-port', [CompletionResultType]::ParameterName, 'With --tls: also serve plain distcc on PORT, for the clients --allow names (required then); without it the secure link is the only way in')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Serve distccd''s stats page (plus refusal counts) on the stats port')
            [CompletionResult]::new('--inetd', '--inetd', [CompletionResultType]::ParameterName, 'Serve one job on stdin/stdout (ssh ''@host'' mode, inetd); --allow then applies only to IP sockets')
            [CompletionResult]::new('--enable-tcp-insecure', '--enable-tcp-insecure', [CompletionResultType]::ParameterName, 'distccd''s switch to serve TCP without an access list: accepted only with --inetd (the ssh client appends it), refused otherwise')
            [CompletionResult]::new('--allow-anyone', '--allow-anyone', [CompletionResultType]::ParameterName, 'Allow everyone: an --allow network with a /0 prefix is refused without it')
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'distccd''s spelling: serving TCP is the default; accepted and changes nothing')
            [CompletionResult]::new('--no-detach', '--no-detach', [CompletionResultType]::ParameterName, 'distccd''s spelling: serve never detaches (run it under systemd, or start-stop-daemon --background)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'distccd''s spelling of --log-level debug')
            [CompletionResult]::new('--log-stderr', '--log-stderr', [CompletionResultType]::ParameterName, 'distccd''s spelling: log to stderr (the default without --log-file)')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print the version, the protocols and the default port, distccd style, and exit')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Serve the secure link (TLS 1.3, pinned keys) on --port instead of plain distcc: only masters pinned in /etc/distsetup/trusted-masters (distsetup trust add --master) get in, whatever --allow says')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;trust' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'On a master: pin volunteer HOST''s key (and print this master''s fingerprint); with --master FINGERPRINT on a volunteer: accept that master')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Print this machine''s fingerprint and every pinned key')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Unpin a host, a master''s note or a fingerprint (from both lists)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'distsetup;trust;add' {
            [CompletionResult]::new('--master', '--master', [CompletionResultType]::ParameterName, 'On a volunteer: accept the master with this fingerprint (as the master printed it)')
            [CompletionResult]::new('--note', '--note', [CompletionResultType]::ParameterName, 'With --master: a note kept beside the key (which machine it is)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the diff and change nothing')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 1 when changes are pending, 0 when there are none; change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;trust;list' {
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;trust;remove' {
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the diff and change nothing')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Apply without asking')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 1 when changes are pending, 0 when there are none; change nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;trust;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'On a master: pin volunteer HOST''s key (and print this master''s fingerprint); with --master FINGERPRINT on a volunteer: accept that master')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Print this machine''s fingerprint and every pinned key')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Unpin a host, a master''s note or a fingerprint (from both lists)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'distsetup;trust;help;add' {
            break
        }
        'distsetup;trust;help;list' {
            break
        }
        'distsetup;trust;help;remove' {
            break
        }
        'distsetup;trust;help;help' {
            break
        }
        'distsetup;relay' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Loopback address and port to listen on')
            [CompletionResult]::new('--hosts', '--hosts', [CompletionResultType]::ParameterName, 'The volunteers, in distcc''s host-list syntax (`HOST[:PORT][/LIMIT][,lzo]`, `+zeroconf`); `,tls`: over the secure link (pinned with `distsetup trust add`)')
            [CompletionResult]::new('--io-timeout', '--io-timeout', [CompletionResultType]::ParameterName, 'Seconds of silence from a volunteer (a compile included) before the attempt fails')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'Seconds a connect to a volunteer may take')
            [CompletionResult]::new('--attempts', '--attempts', [CompletionResultType]::ParameterName, 'Attempts on volunteers per job before this machine compiles it')
            [CompletionResult]::new('--hedge-percent', '--hedge-percent', [CompletionResultType]::ParameterName, 'Duplicates for stragglers, at most this percentage of the jobs (0: never)')
            [CompletionResult]::new('--hedge-after-ms', '--hedge-after-ms', [CompletionResultType]::ParameterName, 'No duplicate for a job younger than this many milliseconds')
            [CompletionResult]::new('--hedge-warmup', '--hedge-warmup', [CompletionResultType]::ParameterName, 'No duplicate before this many jobs finished (the predictions need a track record)')
            [CompletionResult]::new('--local-slots', '--local-slots', [CompletionResultType]::ParameterName, 'Parallel compiles on this machine when no volunteer is left (default: its CPUs)')
            [CompletionResult]::new('--lifetime', '--lifetime', [CompletionResultType]::ParameterName, 'Stop by itself after SECS (tests, benchmarks)')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'Find /etc/distsetup (this master''s key pair, the pinned volunteers of `,tls` hosts) under DIR')
            [CompletionResult]::new('--link-compression', '--link-compression', [CompletionResultType]::ParameterName, 'Compression on `,tls` links: auto (by the measured compression speed of this machine and bandwidth of each link), none, lzo or zstd')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Started as root: after reading this machine''s key (`,tls` hosts) and binding, run as USER (OpenRC and runit start the relay this way; systemd hands the key to a dynamic user instead)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;top' {
            [CompletionResult]::new('--relay', '--relay', [CompletionResultType]::ParameterName, 'The relay''s address (where the client sends jobs)')
            [CompletionResult]::new('--timeline', '--timeline', [CompletionResultType]::ParameterName, 'Draw the last build''s timeline (one row per host slot) into FILE as SVG, and exit')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Print one snapshot and exit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'With --once: the snapshot as JSON (for scripts)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;help' {
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Read or change assignments in a shell-style config file, keeping every other byte')
            [CompletionResult]::new('hosts', 'hosts', [CompletionResultType]::ParameterValue, 'Check a distcc host list: one line per host, total slots, warnings')
            [CompletionResult]::new('undo', 'undo', [CompletionResultType]::ParameterValue, 'Undo an applied change set of this root (default: the newest), or list them')
            [CompletionResult]::new('master', 'master', [CompletionResultType]::ParameterValue, 'Configure the machine that starts builds (makepkg.conf, make.conf, /etc/distcc/hosts)')
            [CompletionResult]::new('volunteer', 'volunteer', [CompletionResultType]::ParameterValue, 'Configure this machine as a volunteer: toolchain aliases, server configuration, service')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Diagnose a cluster: hosts, remote compilers, the local set-up (or a volunteer''s)')
            [CompletionResult]::new('wizard', 'wizard', [CompletionResultType]::ParameterValue, 'Set up this machine as a master or a volunteer by answering questions')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL to standard output')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default')
            [CompletionResult]::new('trust', 'trust', [CompletionResultType]::ParameterValue, 'Pin the keys of the secure link: the volunteers this master uses, the masters this volunteer serves')
            [CompletionResult]::new('relay', 'relay', [CompletionResultType]::ParameterValue, 'The master''s scheduler in front of the stock distcc client: compiler-aware host choice, retries instead of silent local builds, hedged stragglers')
            [CompletionResult]::new('top', 'top', [CompletionResultType]::ParameterValue, 'Watch the relay: volunteers, running jobs, retries, hedges, local compiles')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'distsetup;help;edit' {
            break
        }
        'distsetup;help;hosts' {
            break
        }
        'distsetup;help;undo' {
            break
        }
        'distsetup;help;master' {
            break
        }
        'distsetup;help;volunteer' {
            break
        }
        'distsetup;help;doctor' {
            break
        }
        'distsetup;help;wizard' {
            break
        }
        'distsetup;help;completions' {
            break
        }
        'distsetup;help;serve' {
            break
        }
        'distsetup;help;trust' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'On a master: pin volunteer HOST''s key (and print this master''s fingerprint); with --master FINGERPRINT on a volunteer: accept that master')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Print this machine''s fingerprint and every pinned key')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Unpin a host, a master''s note or a fingerprint (from both lists)')
            break
        }
        'distsetup;help;trust;add' {
            break
        }
        'distsetup;help;trust;list' {
            break
        }
        'distsetup;help;trust;remove' {
            break
        }
        'distsetup;help;relay' {
            break
        }
        'distsetup;help;top' {
            break
        }
        'distsetup;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
