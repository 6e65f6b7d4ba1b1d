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
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "completions" -d 'Print shell completions for SHELL to standard output'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "generate-assets" -d 'Write completions and man pages into DIR (what is checked in under completions/ and man/)'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "serve" -d 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
complete -c distsetup -n "__fish_distsetup_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c distsetup -n "__fish_distsetup_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c distsetup -n "__fish_distsetup_using_subcommand generate-assets" -s h -l help -d 'Print help'
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
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l job-lifetime -d 'Kill a compile running longer than SECS (reply status 118)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s P -l pid-file -d 'Write the server\'s pid to this file while it runs' -r -F
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l io-timeout -d 'Give up on a client that sends or reads nothing for SECS' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l max-connections -d 'Most open client connections (reading, queued or compiling)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l grace -d 'After SIGTERM, how long running jobs may take before they are killed' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l lifetime -d 'Stop by itself after SECS, as on SIGTERM (tests, benchmarks)' -r
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l stats -d 'Serve distccd\'s stats page (plus refusal counts) on the stats port'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l inetd -d 'Serve one job on stdin/stdout (ssh \'@host\' mode, inetd); --allow then applies only to IP sockets'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -l enable-tcp-insecure -d 'Accepted for distccd compatibility (the ssh client appends it); changes nothing'
complete -c distsetup -n "__fish_distsetup_using_subcommand serve" -s h -l help -d 'Print help'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from completions generate-assets serve help" -f -a "completions" -d 'Print shell completions for SHELL to standard output'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from completions generate-assets serve help" -f -a "generate-assets" -d 'Write completions and man pages into DIR (what is checked in under completions/ and man/)'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from completions generate-assets serve help" -f -a "serve" -d 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default'
complete -c distsetup -n "__fish_distsetup_using_subcommand help; and not __fish_seen_subcommand_from completions generate-assets serve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
