
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
        &'distsetup;help'= {
            cand completions 'Print shell completions for SHELL to standard output'
            cand generate-assets 'Write completions and man pages into DIR (what is checked in under completions/ and man/)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'distsetup;help;completions'= {
        }
        &'distsetup;help;generate-assets'= {
        }
        &'distsetup;help;help'= {
        }
    ]
    $completions[$command]
}
