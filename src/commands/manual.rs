//! The man pages' own sections beyond `--help`: EXAMPLES, FILES (every path a command
//! writes), EXIT STATUS and SEE ALSO, appended to what clap_mangen renders.

/// One page's extra sections. Examples are (what it does, the command line).
struct Extra {
    examples: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    exit: &'static [(&'static str, &'static str)],
    see_also: &'static [&'static str],
}

const BACKUP_AND_JOURNAL: [(&str, &str); 2] = [
    (
        "FILE.distsetup-bak",
        "the original of each file distsetup changes, kept the first time (hidden, .FILE.distsetup-bak, inside Portage's make.conf/ directory)",
    ),
    (
        "/var/lib/distsetup/journal/TIME/",
        "one entry per apply: a manifest and the bytes before and after of each file, read by distsetup undo",
    ),
];

const WRITE_EXIT: [(&str, &str); 5] = [
    ("0", "applied, or nothing to change"),
    (
        "1",
        "--check found pending changes, or changes were shown but not applied (no terminal and no --yes)",
    ),
    (
        "2",
        "input rejected: a syntax error, an edit that cannot be done safely, bad arguments",
    ),
    (
        "3",
        "the system failed: a missing file, permission denied (run it with sudo), a port in use",
    ),
    (
        "4",
        "aborted: declined at the prompt, or a file changed between the diff and applying",
    ),
];

const MASTER_FILES: [(&str, &str); 6] = [
    (
        "/etc/makepkg.conf",
        "BUILDENV, DISTCC_HOSTS, MAKEFLAGS (arch, archarm; debian with makepkg), when there is no makepkg.conf.d/",
    ),
    (
        "/etc/makepkg.conf.d/distcc.conf",
        "the same variables in a drop-in, when the directory exists (pacman 6.1 and later)",
    ),
    (
        "/etc/portage/make.conf",
        "FEATURES and MAKEOPTS (gentoo); in a make.conf/ directory the file that assigns each variable last, else make.conf/distcc.conf",
    ),
    ("/etc/distcc/hosts", "the host list (gentoo, debian)"),
    (
        "/usr/lib/distcc/bin/",
        "makepkg's masquerade links gcc, cc, g++, c++ to ../../../bin/distcc (debian)",
    ),
    BACKUP_AND_JOURNAL[0],
];

const VOLUNTEER_FILES: [(&str, &str); 9] = [
    (
        "/usr/lib/distsetup/TOOLCHAIN/bin/",
        "the alias links (gcc, cc, TRIPLE-gcc, the master's names) to the toolchain's compilers",
    ),
    (
        "/etc/systemd/system/distsetup-serve-TOOLCHAIN.service",
        "the embedded server's unit (systemd profiles)",
    ),
    (
        "/etc/init.d/distsetup-serve-TOOLCHAIN",
        "the embedded server's OpenRC script (gentoo)",
    ),
    (
        "/etc/sv/distsetup-serve-TOOLCHAIN/run",
        "the embedded server's runit service (void)",
    ),
    (
        "/usr/lib/distcc/NAME",
        "with --server distccd: the whitelist link ../../bin/distcc for each name served",
    ),
    (
        "/etc/systemd/system/distccd-SUFFIX.service",
        "with --server distccd: a distccd unit for the toolchain, on its own port",
    ),
    (
        "/etc/conf.d/distccd, /etc/default/distcc, /etc/distcc/clients.allow",
        "the system distccd's configuration: only for a native volunteer (--server distccd with a toolchain for this machine)",
    ),
    BACKUP_AND_JOURNAL[0],
    BACKUP_AND_JOURNAL[1],
];

const SEE_ALSO_ALL: [&str; 4] = ["distcc(1)", "distccd(1)", "makepkg.conf(5)", "make.conf(5)"];

/// Each page's sections; the last one (`distsetup`) is the fallback.
const PAGES: &[(&str, Extra)] = &[
    (
        "distsetup-master",
        Extra {
            examples: &[
                (
                    "Show what would change on an Arch Linux ARM master",
                    "distsetup master --profile archarm --hosts '192.168.1.10:3636/8,lzo' --dry-run",
                ),
                (
                    "Apply on Gentoo, -j from the cores and the remote slots",
                    "sudo distsetup master --profile gentoo --hosts '10.0.0.2/16' --jobs auto --yes",
                ),
                (
                    "Configure a chroot",
                    "sudo distsetup master --profile debian --root /srv/chroot --hosts 10.0.0.2/8 --yes",
                ),
                (
                    "List the profiles that can configure a master",
                    "distsetup master --profile list",
                ),
            ],
            files: &[
                MASTER_FILES[0],
                MASTER_FILES[1],
                MASTER_FILES[2],
                MASTER_FILES[3],
                MASTER_FILES[4],
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &WRITE_EXIT,
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-volunteer",
        Extra {
            examples: &[
                (
                    "Help an aarch64 Arch Linux ARM master with the embedded server",
                    "sudo distsetup volunteer --toolchain x-tools8 --allow 192.168.1.0/24 --enable",
                ),
                (
                    "Debian's cross compiler, in the foreground",
                    "sudo distsetup volunteer --toolchain aarch64-linux-gnu --profile debian --allow 127.0.0.1/32 --port 3640 --yes --foreground",
                ),
                (
                    "The distro's distccd instead",
                    "sudo distsetup volunteer --toolchain x-tools7h --server distccd --allow 192.168.1.0/24",
                ),
            ],
            files: &VOLUNTEER_FILES,
            exit: &WRITE_EXIT,
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-edit",
        Extra {
            examples: &[
                (
                    "Print an array, one element per line",
                    "distsetup edit /etc/makepkg.conf --get BUILDENV",
                ),
                (
                    "Switch distcc on and set the hosts, showing the diff only",
                    "distsetup edit /etc/makepkg.conf --enable BUILDENV=distcc --set 'DISTCC_HOSTS=pi4/3 fastbox/12' --dry-run",
                ),
                (
                    "Check a file round-trips byte for byte",
                    "distsetup edit /etc/conf.d/distccd --dialect envfile --verify",
                ),
            ],
            files: &[
                (
                    "FILE",
                    "the file named, written atomically (temporary file, fsync, rename)",
                ),
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &[
                WRITE_EXIT[0],
                (
                    "1",
                    "--check found pending changes, --get found no assignment, or changes were not applied (no terminal)",
                ),
                (
                    "2",
                    "a syntax error, an unsafe edit, a dynamic value (--get), bad arguments",
                ),
                WRITE_EXIT[3],
                WRITE_EXIT[4],
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-hosts",
        Extra {
            examples: &[
                (
                    "Check a list",
                    "distsetup hosts 'localhost/2 pi4:3632/3,lzo fastbox/12'",
                ),
                (
                    "Check the hosts file",
                    "distsetup hosts --file /etc/distcc/hosts",
                ),
            ],
            files: &[(
                "/etc/distcc/hosts",
                "read with --file; distsetup hosts writes nothing",
            )],
            exit: &[
                ("0", "the list parses"),
                ("2", "a syntax error (FILE:LINE:COLUMN)"),
                ("3", "the file cannot be read"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-undo",
        Extra {
            examples: &[
                ("Take back the last change set", "sudo distsetup undo --yes"),
                (
                    "In a chroot",
                    "sudo distsetup undo --root /srv/chroot --yes",
                ),
            ],
            files: &[(
                "/var/lib/distsetup/journal/TIME/",
                "the newest entry is restored byte for byte, then renamed TIME.undone",
            )],
            exit: &[
                ("0", "restored"),
                (
                    "1",
                    "nothing to undo, or not applied (no terminal and no --yes)",
                ),
                WRITE_EXIT[3],
                (
                    "4",
                    "a file changed after distsetup wrote it: nothing restored",
                ),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-doctor",
        Extra {
            examples: &[
                (
                    "Check the configured hosts and this master's set-up",
                    "distsetup doctor",
                ),
                (
                    "Check a list, give up on silent hosts after 5 s",
                    "distsetup doctor --hosts '192.168.1.10:3636/8,lzo' --timeout 5 --json",
                ),
                (
                    "Check this machine as a volunteer",
                    "distsetup doctor --volunteer",
                ),
            ],
            files: &[(
                "/etc/makepkg.conf, /etc/portage/make.conf, /etc/distcc/hosts",
                "read; distsetup doctor writes nothing",
            )],
            exit: &[
                ("0", "nothing is broken (warnings allowed)"),
                (
                    "1",
                    "something is broken (a check that could not run is a warning: not checked)",
                ),
                ("2", "bad arguments or a host list that does not parse"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-wizard",
        Extra {
            examples: &[
                ("On the real system", "sudo distsetup wizard"),
                ("In a chroot", "distsetup wizard --root /srv/chroot"),
            ],
            files: &[
                (
                    "the files of distsetup master or distsetup volunteer",
                    "see distsetup-master(1), distsetup-volunteer(1)",
                ),
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &[
                ("0", "applied or nothing to change"),
                ("2", "no terminal: nothing asked, nothing written"),
                WRITE_EXIT[3],
                ("4", "declined, or interrupted with Ctrl-C: nothing written"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-serve",
        Extra {
            examples: &[
                (
                    "What a volunteer's unit runs",
                    "distsetup serve --port 3636 --allow 192.168.1.0/24 --toolchain /usr/lib/distsetup/x-tools8/bin --stats --stats-port 4636",
                ),
                (
                    "Answer a Gentoo Pi's names with Debian's cross compiler",
                    "distsetup serve --allow 10.0.0.0/24 --alias armv6j-hardfloat-linux-gnueabi=arm-linux-gnueabihf",
                ),
            ],
            files: &[
                ("$TMPDIR/", "one directory per job, removed on every path"),
                ("--log-file, --pid-file", "written when given"),
            ],
            exit: &[
                (
                    "0",
                    "stopped by SIGTERM or SIGINT after the running jobs finished",
                ),
                ("2", "bad arguments (no --allow, a bad address)"),
                ("3", "the port is in use or cannot be opened"),
            ],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup-completions",
        Extra {
            examples: &[
                (
                    "bash, for this user",
                    "mkdir -p ~/.local/share/bash-completion/completions && distsetup completions bash > ~/.local/share/bash-completion/completions/distsetup",
                ),
                (
                    "zsh, for this user",
                    "mkdir -p ~/.zfunc && distsetup completions zsh > ~/.zfunc/_distsetup",
                ),
            ],
            files: &[("standard output", "distsetup completions writes no file")],
            exit: &[("0", "printed")],
            see_also: &SEE_ALSO_ALL,
        },
    ),
    (
        "distsetup",
        Extra {
            examples: &[
                (
                    "Make this machine a volunteer for aarch64 masters",
                    "sudo distsetup volunteer --toolchain x-tools8 --allow 192.168.1.0/24 --enable",
                ),
                (
                    "Configure an Arch Linux ARM master",
                    "sudo distsetup master --profile archarm --hosts '192.168.1.10:3636/8,lzo'",
                ),
                ("Check the cluster", "distsetup doctor"),
                ("Take the last change back", "sudo distsetup undo --yes"),
            ],
            files: &[
                MASTER_FILES[0],
                MASTER_FILES[2],
                MASTER_FILES[3],
                VOLUNTEER_FILES[0],
                VOLUNTEER_FILES[1],
                BACKUP_AND_JOURNAL[0],
                BACKUP_AND_JOURNAL[1],
            ],
            exit: &WRITE_EXIT,
            see_also: &SEE_ALSO_ALL,
        },
    ),
];

fn extra(name: &str) -> &'static Extra {
    let found = PAGES.iter().find(|(n, _)| *n == name);
    &found.or(PAGES.last()).expect("PAGES is not empty").1
}

/// Text for roff: backslashes and hyphens escaped, no line starting with a control character.
fn roff_text(s: &str) -> String {
    let t = s.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with(['.', '\'']) {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The EXAMPLES, FILES, EXIT STATUS and SEE ALSO sections of the page `name`
/// (`distsetup`, `distsetup-master`, ...), and its siblings for SEE ALSO.
pub fn sections(name: &str, pages: &[String]) -> String {
    let e = extra(name);
    let mut out = if name == "distsetup-serve" {
        grammar_section()
    } else {
        String::new()
    };
    out.push_str(".SH EXAMPLES\n");
    for (what, cmd) in e.examples {
        out.push_str(&format!(
            ".PP\n{}:\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
            roff_text(what),
            roff_text(cmd)
        ));
    }
    out.push_str(".SH FILES\n");
    for (path, what) in e.files {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(path),
            roff_text(what)
        ));
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in e.exit {
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(what)));
    }
    let mut refs: Vec<String> = pages
        .iter()
        .filter(|p| p.as_str() != name)
        .map(|p| format!("\\fB{}\\fR(1)", roff_text(p)))
        .collect();
    refs.extend(e.see_also.iter().map(|s| {
        let (page, sect) = s.split_once('(').unwrap_or((s, "1)"));
        format!("\\fB{}\\fR({sect}", roff_text(page))
    }));
    out.push_str(&format!(".SH \"SEE ALSO\"\n{}\n", refs.join(",\n")));
    out
}

/// serve's page: the grammar of a compile, from the table the server parses with.
fn grammar_section() -> String {
    use distsetup::server::grammar::table::{self, Form, Value};
    let mut out = String::from(
        ".SH \"THE GRAMMAR OF A COMPILE\"\n\
         serve runs only what compiling preprocessed input needs. The command line is parsed \
         into a typed request; every option must belong to one of the families below, whose \
         values are checked; the command that runs is rebuilt from the request (values joined \
         to their option, -x naming the preprocessed language, the job's own source and \
         output), so the compiler never reads a word differently than serve did. \
         gcc's --long spellings count as the short option the driver makes of them. \
         '%' (gcc's spec syntax) is refused everywhere. A word is letters, digits and \
         _ . , : + = - (never a path); text is anything printable. Anything else is refused, \
         with the reason, on the client's stderr (exit 101).\n",
    );
    let value = |v: Value| match v {
        Value::None => "",
        Value::Word => " WORD",
        Value::OptionalWord => "[WORD]",
        Value::Text => " TEXT",
        Value::OptLevel => "[0|1|2|3|s|fast|g|z]",
        Value::FeatureName => "NAME[=WORD]",
        Value::Language => " c|c++|objective-c|objective-c++[-cpp-output]",
        Value::Output => " FILE",
        Value::Assembler => "ASSEMBLER-OPTIONS",
        Value::Triple => " TRIPLE",
        Value::CompareDebug => "OPTIONS",
        Value::SaveTemps => "cwd|obj",
    };
    for f in table::FAMILIES {
        let v = value(f.value);
        let spelled = match f.form {
            Form::Exact | Form::Joined => format!("{}{}", f.spelling, v.trim_start()),
            Form::Separate => format!("{}{v}", f.spelling),
            Form::JoinedOrSeparate => format!("{}[ ]{}", f.spelling, v.trim_start()),
        };
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(&spelled),
            roff_text(f.reason)
        ));
    }
    out.push_str(&format!(
        ".PP\n-f values are text for {}. Assembler options allowed: {}.\n\
         .PP\nRefused by name, with their reasons:\n",
        roff_text(&table::TEXT_VALUED_F.join(", ")),
        roff_text(&table::ASSEMBLER.join(" "))
    ));
    for (prefix, _, why) in table::REFUSED {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(&format!("{prefix}...")),
            roff_text(why)
        ));
    }
    out
}
