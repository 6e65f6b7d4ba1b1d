
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
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL to standard output')
            [CompletionResult]::new('generate-assets', 'generate-assets', [CompletionResultType]::ParameterValue, 'Write completions and man pages into DIR (what is checked in under completions/ and man/)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'distsetup;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'distsetup;generate-assets' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
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
            [CompletionResult]::new('--job-lifetime', '--job-lifetime', [CompletionResultType]::ParameterName, 'Kill a compile running longer than SECS (reply status 118)')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Write the server''s pid to this file while it runs')
            [CompletionResult]::new('--pid-file', '--pid-file', [CompletionResultType]::ParameterName, 'Write the server''s pid to this file while it runs')
            [CompletionResult]::new('--io-timeout', '--io-timeout', [CompletionResultType]::ParameterName, 'Give up on a client that sends or reads nothing for SECS')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Most open client connections (reading, queued or compiling)')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'After SIGTERM, how long running jobs may take before they are killed')
            [CompletionResult]::new('--lifetime', '--lifetime', [CompletionResultType]::ParameterName, 'Stop by itself after SECS, as on SIGTERM (tests, benchmarks)')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Serve distccd''s stats page (plus refusal counts) on the stats port')
            [CompletionResult]::new('--inetd', '--inetd', [CompletionResultType]::ParameterName, 'Serve one job on stdin/stdout (ssh ''@host'' mode, inetd); --allow then applies only to IP sockets')
            [CompletionResult]::new('--enable-tcp-insecure', '--enable-tcp-insecure', [CompletionResultType]::ParameterName, 'Accepted for distccd compatibility (the ssh client appends it); changes nothing')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'distsetup;help' {
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL to standard output')
            [CompletionResult]::new('generate-assets', 'generate-assets', [CompletionResultType]::ParameterValue, 'Write completions and man pages into DIR (what is checked in under completions/ and man/)')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Be a distcc-compatible compile server (protocols 1 and 2), secure by default')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'distsetup;help;completions' {
            break
        }
        'distsetup;help;generate-assets' {
            break
        }
        'distsetup;help;serve' {
            break
        }
        'distsetup;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
