
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
            cand completions 'Print shell completions for SHELL to standard output'
            cand generate-assets 'Write completions and man pages into DIR (what is checked in under completions/ and man/)'
            cand serve 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'distsetup;completions'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'distsetup;generate-assets'= {
            cand -h 'Print help'
            cand --help 'Print help'
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
            cand --job-lifetime 'Kill a compile running longer than SECS (reply status 118)'
            cand -P 'Write the server''s pid to this file while it runs'
            cand --pid-file 'Write the server''s pid to this file while it runs'
            cand --io-timeout 'Give up on a client that sends or reads nothing for SECS'
            cand --max-connections 'Most open client connections (reading, queued or compiling)'
            cand --grace 'After SIGTERM, how long running jobs may take before they are killed'
            cand --lifetime 'Stop by itself after SECS, as on SIGTERM (tests, benchmarks)'
            cand --stats 'Serve distccd''s stats page (plus refusal counts) on the stats port'
            cand --inetd 'Serve one job on stdin/stdout (ssh ''@host'' mode, inetd); --allow then applies only to IP sockets'
            cand --enable-tcp-insecure 'Accepted for distccd compatibility (the ssh client appends it); changes nothing'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'distsetup;help'= {
            cand completions 'Print shell completions for SHELL to standard output'
            cand generate-assets 'Write completions and man pages into DIR (what is checked in under completions/ and man/)'
            cand serve 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'distsetup;help;completions'= {
        }
        &'distsetup;help;generate-assets'= {
        }
        &'distsetup;help;serve'= {
        }
        &'distsetup;help;help'= {
        }
    ]
    $completions[$command]
}
