
use builtin;
use str;

set edit:completion:arg-completer[distsetup] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'distsetup'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'distsetup'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand edit 'Read or change assignments in a shell-style config file, keeping every other byte'
            cand hosts 'Check a distcc host list: one line per host, total slots, warnings'
            cand undo 'Undo an applied change set of this root (default: the newest), or list them'
            cand master 'Configure the machine that starts builds (makepkg.conf, make.conf, /etc/distcc/hosts)'
            cand volunteer 'Configure this machine as a volunteer: toolchain aliases, server configuration, service'
            cand doctor 'Diagnose a cluster: hosts, remote compilers, the local set-up (or a volunteer''s)'
            cand wizard 'Set up this machine as a master or a volunteer by answering questions'
            cand completions 'Print shell completions for SHELL to standard output'
            cand serve 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
            cand trust 'Pin the keys of the secure link: the volunteers this master uses, the masters this volunteer serves'
            cand relay 'The master''s scheduler in front of the stock distcc client: compiler-aware host choice, retries instead of silent local builds, hedged stragglers'
            cand top 'Watch the relay: volunteers, running jobs, retries, hedges, local compiles'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'distsetup;edit'= {
            cand --get 'Print the value bash would see (array: one element per line); exit 1 when unassigned. For a Portage make.conf: the value Portage''s own parser reads from this file (newlines become spaces, ${VAR} expands inside single quotes too, an unquoted # ends the value, sourced files are read); a file emerge cannot parse is an error'
            cand --set 'Set a scalar (repeatable; all edits apply in command-line order)'
            cand --unset 'Remove the assignment of NAME'
            cand --enable 'Enable WORD in an array or word list (`!WORD` becomes `WORD`, else it is added)'
            cand --disable 'Disable WORD in an array or word list (`WORD` becomes `!WORD`, else `!WORD` is added)'
            cand --add 'Add WORD to an array or word list when absent'
            cand --remove 'Remove every WORD from an array or word list'
            cand --dialect 'Which shell reads the file [default: portage for make.conf, else bash; envfile only when asked]'
            cand --root 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist'
            cand --verify 'Check the byte-exact round trip and list the assignments (static or dynamic)'
            cand --create 'Create the file when it does not exist'
            cand --dry-run 'Print the diff and change nothing'
            cand --yes 'Apply without asking'
            cand --check 'Exit 1 when changes are pending, 0 when there are none; change nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'distsetup;hosts'= {
            cand --file 'Read the list from a file (e.g. /etc/distcc/hosts)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;undo'= {
            cand --root 'Resolve every system path under DIR; DIR must exist'
            cand --yes 'Restore without asking'
            cand --list 'List the change sets that can be undone (ID, date, command line, paths), newest first'
            cand --forget 'Drop change set ID from the history without restoring anything: for a set that cannot be undone any more because its files were changed since (they stay as they are; its backups are kept)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;master'= {
            cand --profile 'The distro profile (arch, archarm, debian, gentoo, ...); `list` shows them all'
            cand --profile-file 'Read the profile from this TOML file instead'
            cand --hosts 'The distcc host list (DISTCC_HOSTS syntax); default: the hosts already configured'
            cand --jobs 'make''s -j: `auto` (from the cores, the remote slots and the profile''s rule) or a number'
            cand --build-user 'The user makepkg builds as, who owns the cache (with --ccache) [default: the user who ran sudo]'
            cand --relay-port 'The relay''s port [default: 3632 when free on 127.0.0.1, else the next free one]'
            cand --trust 'With --relay: pin the key of the `,tls` volunteer in --hosts (FINGERPRINT when there is one such host, else HOST:PORT=FINGERPRINT for each; repeatable); prints this master''s fingerprint for the volunteers to pin'
            cand --root 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist'
            cand --ccache 'Put ccache in front of distcc: makepkg''s `ccache` build option, Portage''s FEATURES=ccache with CCACHE_DIR, ccache''s prefix_command on Debian; the cache directory is created for the user who builds'
            cand --relay 'Put `distsetup relay` between the distcc client and the volunteers: the client sends every job to 127.0.0.1, the relay picks the volunteer (its service is written too)'
            cand --dry-run 'Print the diff and change nothing'
            cand --yes 'Apply without asking'
            cand --check 'Exit 1 when changes are pending, 0 when there are none; change nothing'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;volunteer'= {
            cand --toolchain 'A toolchain name the profile knows (x-tools8, x-tools7h, x-tools86, ...), a path (an x-tools tree, a bin directory) or a system triple (aarch64-linux-gnu)'
            cand --profile 'The distro profile of this volunteer (archarm, arch, gentoo, debian, void, or a user profile) [default: from /etc/os-release, as doctor and wizard detect it]'
            cand --server 'Which compile server to configure'
            cand --alias 'Answer the master''s triple MASTER with this toolchain''s LOCAL prefix (repeatable)'
            cand --allow 'A client address or CIDR network allowed to use this volunteer (repeatable; required)'
            cand --jobs 'Concurrent jobs [default: this machine''s usable cores]'
            cand --port 'The compile port [default: the toolchain''s port in the profile, else 3632]; stats use PORT+1000'
            cand --listen 'The one address the server listens on [default: every address, IPv4 and IPv6; Debian''s LISTENER 0.0.0.0]'
            cand --zeroconf-version 'Advertise for masters whose `cc -dumpversion` says V (a gcc that differs in patch level)'
            cand --root 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist'
            cand --allow-anyone 'Allow everyone (0.0.0.0/0, ::/0): refused unless given'
            cand --enable 'Enable and start the service (systemctl enable --now) when systemd runs; with --root only files are written'
            cand --foreground 'Apply, then run the embedded server in the foreground with the same settings'
            cand --zeroconf 'Advertise this toolchain to masters with DISTCC_HOSTS=+zeroconf (an Avahi service file)'
            cand --secure 'Serve the secure link (`serve --tls`): only masters pinned with `distsetup trust add --master` get in; prints this volunteer''s fingerprint for the master to pin'
            cand --dry-run 'Print the diff and change nothing'
            cand --yes 'Apply without asking'
            cand --check 'Exit 1 when changes are pending, 0 when there are none; change nothing'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'distsetup;doctor'= {
            cand --hosts 'Check this host list instead of the configured one (DISTCC_HOSTS syntax)'
            cand --profile 'The distro profile [default: from /etc/os-release]'
            cand --compiler 'The local compiler the remote ones are compared with [default: the --remote-compiler name when it exists here, else cc]'
            cand --remote-compiler 'The compiler name sent to the hosts [default: `<cc -dumpmachine>-gcc`, as the distcc client sends]'
            cand --speed-rounds 'Compiles per host for the speed probe (0 skips it)'
            cand --connect-timeout 'Seconds to wait for a connection'
            cand --timeout 'Seconds to wait for a host''s answer to a probe compile (hosts are probed at once)'
            cand --root 'Resolve every system path under DIR'
            cand --volunteer 'Check this machine as a volunteer'
            cand --json 'Print the report as JSON'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;wizard'= {
            cand --root 'Resolve every system path under DIR (a chroot, or a test root)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;completions'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'distsetup;serve'= {
            cand --listen 'Address to listen on (repeatable); default: every address'
            cand -p 'TCP port for jobs (0: any free port, logged at startup)'
            cand --port 'TCP port for jobs (0: any free port, logged at startup)'
            cand -a 'Client network allowed to connect, IPv4 or IPv6 CIDR or address (repeatable; required)'
            cand --allow 'Client network allowed to connect, IPv4 or IPv6 CIDR or address (repeatable; required)'
            cand -j 'Most compiles at once [default: CPUs + 2]'
            cand --jobs 'Most compiles at once [default: CPUs + 2]'
            cand --toolchain 'Directory of compilers clients may ask for by name: TRIPLE-gcc, -g++, -cc, -c++, -cpp, gcc, ... (repeatable)'
            cand --alias 'Map a requested name to a local one: triples (FROM=TO maps every FROM-tool to TO-tool) or whole names (gcc=aarch64-linux-gnu-gcc) (repeatable)'
            cand --whitelist-dir 'Directory whose entries whitelist system compilers, distcc style (repeatable)'
            cand --stats-port 'Port of the stats page'
            cand --log-level 'Log level: error, warning, notice, info or debug'
            cand --log-file 'Append the log to this file instead of stderr'
            cand --job-lifetime 'Kill a compile running longer than SECS (reply status 118); 0: never [default: 1800]'
            cand -P 'Write the server''s pid to this file while it runs'
            cand --pid-file 'Write the server''s pid to this file while it runs'
            cand --io-timeout 'Give up on a client that sends or reads nothing for SECS'
            cand --max-connections 'Most open client connections (reading, queued or compiling)'
            cand --max-client-connections 'Most connections one client address may hold; more are closed at once'
            cand --max-client-queued 'Most jobs one client may have queued or compiling; its other connections wait unread [default: 2 x jobs + 2]'
            cand --max-held-sources 'Most bytes of source all waiting connections may hold on disk together (K, M, G); past it a request is closed without reply'
            cand --grace 'After SIGTERM, how long running jobs may take before they are killed'
            cand --lifetime 'Stop by itself after SECS, as on SIGTERM (tests, benchmarks)'
            cand -N 'Lower the server''s and its compilers'' priority by N (0-19), like distccd''s --nice'
            cand --nice 'Lower the server''s and its compilers'' priority by N (0-19), like distccd''s --nice'
            cand --user 'Started as root: after binding, run as this user [default: the distro''s distcc user, else nobody]'
            cand --max-object 'Refuse to send back an object larger than SIZE (bytes, or with K, M, G) [default: 4G, the protocol''s limit]'
            cand --forward 'With --tls: hand each job to the distccd listening at ADDR (a loopback address and port) instead of compiling here'
            cand --root 'With --tls: find /etc/distsetup (the key pair, the trusted masters) under DIR'
            cand --plain-port 'With --tls: also serve plain distcc on PORT, for the clients --allow names (required then); without it the secure link is the only way in'
            cand --stats 'Serve distccd''s stats page (plus refusal counts) on the stats port'
            cand --inetd 'Serve one job on stdin/stdout (ssh ''@host'' mode, inetd); --allow then applies only to IP sockets'
            cand --enable-tcp-insecure 'distccd''s switch to serve TCP without an access list: accepted only with --inetd (the ssh client appends it), refused otherwise'
            cand --allow-anyone 'Allow everyone: an --allow network with a /0 prefix is refused without it'
            cand --daemon 'distccd''s spelling: serving TCP is the default; accepted and changes nothing'
            cand --no-detach 'distccd''s spelling: serve never detaches (run it under systemd, or start-stop-daemon --background)'
            cand --verbose 'distccd''s spelling of --log-level debug'
            cand --log-stderr 'distccd''s spelling: log to stderr (the default without --log-file)'
            cand --version 'Print the version, the protocols and the default port, distccd style, and exit'
            cand --tls 'Serve the secure link (TLS 1.3, pinned keys) on --port instead of plain distcc: only masters pinned in /etc/distsetup/trusted-masters (distsetup trust add --master) get in, whatever --allow says'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;trust'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'On a master: pin volunteer HOST''s key (and print this master''s fingerprint); with --master FINGERPRINT on a volunteer: accept that master'
            cand list 'Print this machine''s fingerprint and every pinned key'
            cand remove 'Unpin a host, a master''s note or a fingerprint (from both lists)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'distsetup;trust;add'= {
            cand --master 'On a volunteer: accept the master with this fingerprint (as the master printed it)'
            cand --note 'With --master: a note kept beside the key (which machine it is)'
            cand --root 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist'
            cand --dry-run 'Print the diff and change nothing'
            cand --yes 'Apply without asking'
            cand --check 'Exit 1 when changes are pending, 0 when there are none; change nothing'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;trust;list'= {
            cand --root 'Resolve every system path under DIR'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;trust;remove'= {
            cand --root 'Resolve every system path under DIR (a chroot, a test tree); DIR must exist'
            cand --dry-run 'Print the diff and change nothing'
            cand --yes 'Apply without asking'
            cand --check 'Exit 1 when changes are pending, 0 when there are none; change nothing'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;trust;help'= {
            cand add 'On a master: pin volunteer HOST''s key (and print this master''s fingerprint); with --master FINGERPRINT on a volunteer: accept that master'
            cand list 'Print this machine''s fingerprint and every pinned key'
            cand remove 'Unpin a host, a master''s note or a fingerprint (from both lists)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'distsetup;trust;help;add'= {
        }
        &'distsetup;trust;help;list'= {
        }
        &'distsetup;trust;help;remove'= {
        }
        &'distsetup;trust;help;help'= {
        }
        &'distsetup;relay'= {
            cand --listen 'Loopback address and port to listen on'
            cand --hosts 'The volunteers, in distcc''s host-list syntax (`HOST[:PORT][/LIMIT][,lzo]`, `+zeroconf`); `,tls`: over the secure link (pinned with `distsetup trust add`)'
            cand --io-timeout 'Seconds of silence from a volunteer (a compile included) before the attempt fails'
            cand --connect-timeout 'Seconds a connect to a volunteer may take'
            cand --attempts 'Attempts on volunteers per job before this machine compiles it'
            cand --hedge-percent 'Duplicates for stragglers, at most this percentage of the jobs (0: never)'
            cand --hedge-after-ms 'No duplicate for a job younger than this many milliseconds'
            cand --hedge-warmup 'No duplicate before this many jobs finished (the predictions need a track record)'
            cand --local-slots 'Parallel compiles on this machine when no volunteer is left (default: its CPUs)'
            cand --lifetime 'Stop by itself after SECS (tests, benchmarks)'
            cand --root 'Find /etc/distsetup (this master''s key pair, the pinned volunteers of `,tls` hosts) under DIR'
            cand --link-compression 'Compression on `,tls` links: auto (by the measured compression speed of this machine and bandwidth of each link), none, lzo or zstd'
            cand --user 'Started as root: after reading this machine''s key (`,tls` hosts) and binding, run as USER (OpenRC and runit start the relay this way; systemd hands the key to a dynamic user instead)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;top'= {
            cand --relay 'The relay''s address (where the client sends jobs)'
            cand --timeline 'Draw the last build''s timeline (one row per host slot) into FILE as SVG, and exit'
            cand --once 'Print one snapshot and exit'
            cand --json 'With --once: the snapshot as JSON (for scripts)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;help'= {
            cand edit 'Read or change assignments in a shell-style config file, keeping every other byte'
            cand hosts 'Check a distcc host list: one line per host, total slots, warnings'
            cand undo 'Undo an applied change set of this root (default: the newest), or list them'
            cand master 'Configure the machine that starts builds (makepkg.conf, make.conf, /etc/distcc/hosts)'
            cand volunteer 'Configure this machine as a volunteer: toolchain aliases, server configuration, service'
            cand doctor 'Diagnose a cluster: hosts, remote compilers, the local set-up (or a volunteer''s)'
            cand wizard 'Set up this machine as a master or a volunteer by answering questions'
            cand completions 'Print shell completions for SHELL to standard output'
            cand serve 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
            cand trust 'Pin the keys of the secure link: the volunteers this master uses, the masters this volunteer serves'
            cand relay 'The master''s scheduler in front of the stock distcc client: compiler-aware host choice, retries instead of silent local builds, hedged stragglers'
            cand top 'Watch the relay: volunteers, running jobs, retries, hedges, local compiles'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'distsetup;help;edit'= {
        }
        &'distsetup;help;hosts'= {
        }
        &'distsetup;help;undo'= {
        }
        &'distsetup;help;master'= {
        }
        &'distsetup;help;volunteer'= {
        }
        &'distsetup;help;doctor'= {
        }
        &'distsetup;help;wizard'= {
        }
        &'distsetup;help;completions'= {
        }
        &'distsetup;help;serve'= {
        }
        &'distsetup;help;trust'= {
            cand add 'On a master: pin volunteer HOST''s key (and print this master''s fingerprint); with --master FINGERPRINT on a volunteer: accept that master'
            cand list 'Print this machine''s fingerprint and every pinned key'
            cand remove 'Unpin a host, a master''s note or a fingerprint (from both lists)'
        }
        &'distsetup;help;trust;add'= {
        }
        &'distsetup;help;trust;list'= {
        }
        &'distsetup;help;trust;remove'= {
        }
        &'distsetup;help;relay'= {
        }
        &'distsetup;help;top'= {
        }
        &'distsetup;help;help'= {
        }
    ]
    $completions[$command]
}
